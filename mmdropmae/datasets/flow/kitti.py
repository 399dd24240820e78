"""KITTI-2015 (Menze and Geiger, CVPR 2015) and HD1K (Kondermann et al.,
CVPRW 2016) flow: 16-bit PNG ground truth with a valid channel."""
import os.path as osp
from typing import Dict, List

from mmdropmae.registry import DATASETS
from .base import BaseFlowDataset, FlowDatasetError, flow_item, require_dir, sorted_glob


@DATASETS.register_module()
class KITTI2015Dataset(BaseFlowDataset):
    """KITTI-2015: ``data_root/{training,testing}/image_2/{i:06d}_10.png``,
    ``_11.png`` and ``data_root/training/{flow_occ,flow_noc}/{i:06d}_10.png``.

    Pairs as RAFT's ``KITTI``: sorted ``*_10.png`` with sorted ``*_11.png``
    and sorted flows; ``out_name`` is ``{i:06d}_10`` (the submission file).

    Args:
        data_root (str): The KITTI-2015 root.
        split (str): ``'training'`` or ``'testing'`` (no ground truth).
        flow_type (str): ``'flow_occ'`` (all pixels with ground truth, the
            benchmark's default, RAFT's) or ``'flow_noc'`` (non-occluded).
        **kwargs: :class:`~mmengine.dataset.BaseDataset` arguments.
    """

    METAINFO = dict(dataset_name='KITTI-2015')

    def __init__(self, data_root: str, split: str = 'training', flow_type: str = 'flow_occ',
                 **kwargs):
        if split not in ('training', 'testing'):
            raise ValueError(f"KITTI split must be 'training' or 'testing', got {split!r}")
        if flow_type not in ('flow_occ', 'flow_noc'):
            raise ValueError(f"flow_type must be 'flow_occ' or 'flow_noc', got {flow_type!r}")
        self.split, self.flow_type = split, flow_type
        super().__init__(data_root=data_root, **kwargs)

    def load_pairs(self) -> List[Dict]:
        img_dir = require_dir(osp.join(self.data_root, self.split, 'image_2'), 'KITTI image_2')
        images1 = sorted_glob(osp.join(img_dir, '*_10.png'))
        images2 = sorted_glob(osp.join(img_dir, '*_11.png'))
        for a in images1:
            b = a[:-len('_10.png')] + '_11.png'
            if b not in images2:
                raise FlowDatasetError(f'{a}: its second frame {b} is missing')
        flows = [None] * len(images1)
        if self.split == 'training':
            flow_dir = require_dir(osp.join(self.data_root, 'training', self.flow_type),
                                   f'KITTI {self.flow_type}')
            flows = [osp.join(flow_dir, osp.basename(a)) for a in images1]
            for f in flows:
                if not osp.isfile(f):
                    raise FlowDatasetError(f'KITTI ground truth missing: {f}')
        return [
            flow_item(a, a[:-len('_10.png')] + '_11.png', f, 'kitti', True,
                      osp.basename(a)[:-len('.png')], 'KITTI-2015')
            for a, f in zip(images1, flows)
        ]


@DATASETS.register_module()
class HD1KDataset(BaseFlowDataset):
    """HD1K: ``data_root/hd1k_input/image_2/{seq:06d}_{k:04d}.png`` and
    ``data_root/hd1k_flow_gt/flow_occ/{seq:06d}_{k:04d}.png`` (KITTI PNGs).

    Pairs as RAFT's ``HD1K``: for sequence 0, 1, ... while it has flows,
    ``(image k, image k+1, flow k)`` for ``k`` up to the second-to-last
    flow.

    Args:
        data_root (str): The HD1K root.
        **kwargs: :class:`~mmengine.dataset.BaseDataset` arguments.
    """

    METAINFO = dict(dataset_name='HD1K')

    def load_pairs(self) -> List[Dict]:
        img_dir = require_dir(osp.join(self.data_root, 'hd1k_input', 'image_2'),
                              'HD1K hd1k_input/image_2')
        flow_dir = require_dir(osp.join(self.data_root, 'hd1k_flow_gt', 'flow_occ'),
                               'HD1K hd1k_flow_gt/flow_occ')
        pairs, seq = [], 0
        while True:
            flows = sorted_glob(osp.join(flow_dir, f'{seq:06d}_*.png'))
            images = sorted_glob(osp.join(img_dir, f'{seq:06d}_*.png'))
            if not flows:
                break
            if len(images) < len(flows):
                raise FlowDatasetError(f'HD1K sequence {seq:06d}: {len(images)} images for '
                                       f'{len(flows)} flows in {img_dir}')
            for k in range(len(flows) - 1):
                pairs.append(flow_item(images[k], images[k + 1], flows[k], 'kitti', True,
                                       osp.basename(flows[k])[:-len('.png')], 'HD1K'))
            seq += 1
        return pairs
