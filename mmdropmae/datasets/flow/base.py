"""Common part of the optical-flow data sets: one item per image pair.

Item keys (``load_data_list``)::

    img1_path, img2_path  str   the two frames (flow is from frame 1 to 2)
    flow_path             str | None  ground truth (None: test split)
    flow_format           str   'flo' (Middlebury), 'pfm' (FlyingThings3D),
                                'kitti' (16-bit PNG with valid channel)
    sparse                bool  the ground truth has a valid mask (KITTI, HD1K)
    out_name              str   relative output path without ending, as the
                                submission writers of
                                :class:`~mmdropmae.evaluation.FlowMetric` use it
    dataset_name          str

The pair lists follow RAFT's ``core/datasets.py`` (princeton-vl/RAFT): same
files, same pairing, same order (sorted paths).
"""
import os.path as osp
from glob import glob
from typing import Dict, List, Optional

from mmengine.dataset import BaseDataset

#: Keys of a pair item.
FLOW_ITEM_KEYS = ('img1_path', 'img2_path', 'flow_path', 'flow_format', 'sparse', 'out_name',
                  'dataset_name')


class FlowDatasetError(FileNotFoundError):
    """A flow data set folder is missing, empty or inconsistent."""


def flow_item(img1: str, img2: str, flow: Optional[str], fmt: str, sparse: bool,
              out_name: str, dataset_name: str) -> Dict:
    """One pair item with the keys of :data:`FLOW_ITEM_KEYS`."""
    return dict(img1_path=img1, img2_path=img2, flow_path=flow, flow_format=fmt,
                sparse=sparse, out_name=out_name, dataset_name=dataset_name)


def sorted_glob(pattern: str) -> List[str]:
    """``sorted(glob(pattern))``, RAFT's file listing."""
    return sorted(glob(pattern))


def require_dir(path: str, what: str) -> str:
    """``path`` if it is a folder, else :class:`FlowDatasetError` naming it."""
    if not osp.isdir(path):
        raise FlowDatasetError(f'{what} folder not found: {path}')
    return path


class BaseFlowDataset(BaseDataset):
    """Base of the flow data sets: subclasses implement :meth:`load_pairs`.

    Args:
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments
            (``data_root``, ``pipeline``, ``test_mode``, ...).
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault('serialize_data', False)
        super().__init__(**kwargs)

    def load_pairs(self) -> List[Dict]:
        raise NotImplementedError

    def load_data_list(self) -> List[Dict]:
        pairs = self.load_pairs()
        if not pairs:
            raise FlowDatasetError(f'{type(self).__name__}: no image pairs found under '
                                   f'{self.data_root}')
        return pairs
