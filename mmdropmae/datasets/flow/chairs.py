"""FlyingChairs (Dosovitskiy et al., FlowNet, ICCV 2015)."""
import os.path as osp
from typing import Dict, List, Optional

import numpy as np

from mmdropmae.registry import DATASETS
from .base import BaseFlowDataset, FlowDatasetError, flow_item, require_dir, sorted_glob

#: Split ids of the FlyingChairs split file.
CHAIRS_SPLITS = {'train': 1, 'val': 2}
#: The split file shipped with the package: RAFT's ``chairs_split.txt``
#: (princeton-vl/RAFT, BSD-3-Clause), one id per pair of the 22,872 pairs of
#: ``FlyingChairs_release``: 22,232 train, 640 val.
BUNDLED_CHAIRS_SPLIT = osp.join(osp.dirname(osp.abspath(__file__)), 'chairs_split.txt')


def read_chairs_split(path: str, num_pairs: int) -> np.ndarray:
    """The split ids (1 train, 2 val; one line per pair) of the FlyingChairs
    split file (LMB's ``FlyingChairs_train_val.txt``, RAFT's
    ``chairs_split.txt``).

    Raises:
        FlowDatasetError: Missing file, a value other than 1/2 (naming the
            line), or not one line per pair.
    """
    if not osp.isfile(path):
        raise FlowDatasetError(
            f'FlyingChairs split file not found: {path} (the train/val list '
            'FlyingChairs_train_val.txt of the release; pass split_file=...)')
    ids = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            if line not in ('1', '2'):
                raise FlowDatasetError(f'{path}, line {lineno}: split id must be 1 (train) '
                                       f'or 2 (val), got {line!r}')
            ids.append(int(line))
    if len(ids) != num_pairs:
        raise FlowDatasetError(f'{path} has {len(ids)} split ids for {num_pairs} image '
                               'pairs: it does not belong to this data folder')
    return np.asarray(ids, np.int32)


@DATASETS.register_module()
class FlyingChairsDataset(BaseFlowDataset):
    """FlyingChairs: ``data_root/data/{i:05d}_img1.ppm``, ``_img2.ppm``,
    ``_flow.flo`` and the split file (one id per pair, 1 = train, 2 = val).

    Pairs are listed as RAFT's ``FlyingChairs`` (sorted ``*.ppm`` two by
    two with sorted ``*.flo``, ids from the split file).

    Args:
        data_root (str): The ``FlyingChairs_release`` folder (holding
            ``data/``).
        split (str): ``'train'``, ``'val'`` or ``'all'``.
        split_file (str, optional): The split file; default
            ``data_root/FlyingChairs_train_val.txt`` where it exists, else
            :data:`BUNDLED_CHAIRS_SPLIT` (RAFT's ``chairs_split.txt``, for
            the full 22,872-pair release).
        **kwargs: :class:`~mmengine.dataset.BaseDataset` arguments.
    """

    METAINFO = dict(dataset_name='FlyingChairs')

    def __init__(self, data_root: str, split: str = 'train', split_file: Optional[str] = None,
                 **kwargs):
        if split not in ('train', 'val', 'all'):
            raise ValueError(f"FlyingChairs split must be 'train', 'val' or 'all', got "
                             f'{split!r}')
        self.split = split
        self.split_file = split_file
        super().__init__(data_root=data_root, **kwargs)

    def load_pairs(self) -> List[Dict]:
        data = require_dir(osp.join(self.data_root, 'data'), 'FlyingChairs data')
        images = sorted_glob(osp.join(data, '*.ppm'))
        flows = sorted_glob(osp.join(data, '*.flo'))
        if len(images) != 2 * len(flows):
            raise FlowDatasetError(f'{data}: {len(images)} .ppm images for {len(flows)} .flo '
                                   'files (expected two images per flow)')
        for i, flo in enumerate(flows):
            stem = osp.basename(flo)[:-len('_flow.flo')]
            want = [osp.join(data, f'{stem}_img{k}.ppm') for k in (1, 2)]
            if images[2 * i:2 * i + 2] != want:
                raise FlowDatasetError(f'{flo}: its images {want} are missing or misnamed')
        split_file = self.split_file or osp.join(self.data_root, 'FlyingChairs_train_val.txt')
        if self.split_file is None and not osp.isfile(split_file):
            split_file = BUNDLED_CHAIRS_SPLIT
        ids = read_chairs_split(split_file, len(flows))
        pairs = []
        for i, flo in enumerate(flows):
            if self.split != 'all' and ids[i] != CHAIRS_SPLITS[self.split]:
                continue
            name = osp.basename(flo)[:-len('_flow.flo')]
            pairs.append(flow_item(images[2 * i], images[2 * i + 1], flo, 'flo', False, name,
                                   'FlyingChairs'))
        return pairs
