"""MPI-Sintel (Butler et al., ECCV 2012)."""
import os
import os.path as osp
from typing import Dict, List

from mmdropmae.registry import DATASETS
from .base import BaseFlowDataset, FlowDatasetError, flow_item, require_dir, sorted_glob


@DATASETS.register_module()
class SintelDataset(BaseFlowDataset):
    """MPI-Sintel: ``data_root/{training,test}/{clean,final}/{scene}/
    frame_{k:04d}.png`` and ``data_root/training/flow/{scene}/frame_{k:04d}.flo``.

    Pairs as RAFT's ``MpiSintel``: consecutive sorted frames of each scene
    (scenes in ``os.listdir`` order sorted here), the sorted flows of the
    scene in the same order. ``out_name`` is ``{pass}/{scene}/frame{i+1:04d}``,
    the name RAFT's ``create_sintel_submission`` writes for pair ``i``.

    Args:
        data_root (str): The Sintel root (holding ``training/``, ``test/``).
        split (str): ``'training'`` or ``'test'`` (no ground truth).
        pass_name (str): ``'clean'`` or ``'final'``.
        **kwargs: :class:`~mmengine.dataset.BaseDataset` arguments.
    """

    METAINFO = dict(dataset_name='MPI-Sintel')

    def __init__(self, data_root: str, split: str = 'training', pass_name: str = 'clean',
                 **kwargs):
        if split not in ('training', 'test'):
            raise ValueError(f"Sintel split must be 'training' or 'test', got {split!r}")
        if pass_name not in ('clean', 'final'):
            raise ValueError(f"pass_name must be 'clean' or 'final', got {pass_name!r}")
        self.split, self.pass_name = split, pass_name
        super().__init__(data_root=data_root, **kwargs)

    def load_pairs(self) -> List[Dict]:
        image_root = require_dir(osp.join(self.data_root, self.split, self.pass_name),
                                 'Sintel frames')
        flow_root = osp.join(self.data_root, self.split, 'flow')
        with_gt = self.split == 'training'
        pairs = []
        for scene in sorted(os.listdir(image_root)):
            images = sorted_glob(osp.join(image_root, scene, '*.png'))
            flows = sorted_glob(osp.join(flow_root, scene, '*.flo')) if with_gt else []
            if with_gt and len(flows) != len(images) - 1:
                raise FlowDatasetError(f'{osp.join(flow_root, scene)}: {len(flows)} .flo files '
                                       f'for {len(images)} frames (expected one fewer)')
            for i in range(len(images) - 1):
                pairs.append(flow_item(images[i], images[i + 1], flows[i] if with_gt else None,
                                       'flo', False, f'{self.pass_name}/{scene}/frame{i + 1:04d}',
                                       'MPI-Sintel'))
        return pairs
