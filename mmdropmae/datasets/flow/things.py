"""FlyingThings3D (Mayer et al., CVPR 2016), optical-flow subset."""
import os.path as osp
from typing import Dict, List, Sequence

from mmdropmae.registry import DATASETS
from .base import BaseFlowDataset, FlowDatasetError, flow_item, require_dir, sorted_glob


@DATASETS.register_module()
class FlyingThings3DDataset(BaseFlowDataset):
    """FlyingThings3D: ``data_root/frames_{clean,final}pass/{TRAIN,TEST}/
    {A,B,C}/{seq}/{left,right}/*.png`` and ``data_root/optical_flow/
    {TRAIN,TEST}/{A,B,C}/{seq}/{into_future,into_past}/{left,right}/*.pfm``.

    Pairs as RAFT's ``FlyingThings3D``: per sequence and camera, sorted
    frames and sorted flows; ``into_future`` gives ``(frame i, frame i+1,
    flow i)``, ``into_past`` ``(frame i+1, frame i, flow i+1)``, for ``i`` up
    to the second-to-last flow. The PFM flow's third channel is dropped.

    Args:
        data_root (str): The FlyingThings3D root.
        pass_name (str): ``'clean'`` or ``'final'``.
        split (str): ``'TRAIN'`` or ``'TEST'``.
        directions (Sequence[str]): Any of ``'into_future'``, ``'into_past'``.
        cameras (Sequence[str]): Any of ``'left'``, ``'right'`` (RAFT: left).
        **kwargs: :class:`~mmengine.dataset.BaseDataset` arguments.
    """

    METAINFO = dict(dataset_name='FlyingThings3D')

    def __init__(self, data_root: str, pass_name: str = 'clean', split: str = 'TRAIN',
                 directions: Sequence[str] = ('into_future', 'into_past'),
                 cameras: Sequence[str] = ('left', ), **kwargs):
        if pass_name not in ('clean', 'final'):
            raise ValueError(f"pass_name must be 'clean' or 'final', got {pass_name!r}")
        if split not in ('TRAIN', 'TEST'):
            raise ValueError(f"FlyingThings3D split must be 'TRAIN' or 'TEST', got {split!r}")
        bad = set(directions) - {'into_future', 'into_past'}
        if bad:
            raise ValueError(f'unknown flow directions {sorted(bad)}')
        self.pass_name, self.split = pass_name, split
        self.directions, self.cameras = list(directions), list(cameras)
        super().__init__(data_root=data_root, **kwargs)

    def load_pairs(self) -> List[Dict]:
        img_root = require_dir(
            osp.join(self.data_root, f'frames_{self.pass_name}pass', self.split),
            'FlyingThings3D frames')
        flow_root = require_dir(osp.join(self.data_root, 'optical_flow', self.split),
                                'FlyingThings3D optical_flow')
        pairs = []
        for cam in self.cameras:
            for direction in self.directions:
                seqs = sorted_glob(osp.join(img_root, '*', '*'))
                for seq_dir in seqs:
                    rel = osp.relpath(seq_dir, img_root)
                    images = sorted_glob(osp.join(seq_dir, cam, '*.png'))
                    fdir = osp.join(flow_root, rel, direction, cam)
                    flows = sorted_glob(osp.join(fdir, '*.pfm'))
                    if images and not flows:
                        raise FlowDatasetError(f'no .pfm flow in {fdir} for the frames of '
                                               f'{osp.join(seq_dir, cam)}')
                    if len(flows) > len(images):
                        raise FlowDatasetError(f'{fdir}: {len(flows)} flows for '
                                               f'{len(images)} frames')
                    for i in range(len(flows) - 1):
                        if direction == 'into_future':
                            a, b, f = images[i], images[i + 1], flows[i]
                        else:
                            a, b, f = images[i + 1], images[i], flows[i + 1]
                        name = f'{self.pass_name}/{rel}/{direction}/{cam}/' + \
                            osp.splitext(osp.basename(a))[0]
                        pairs.append(flow_item(a, b, f, 'pfm', False, name, 'FlyingThings3D'))
        return pairs
