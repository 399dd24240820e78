"""Optical-flow data sets in their real layouts: FlyingChairs,
FlyingThings3D, MPI-Sintel, KITTI-2015 and HD1K (pair lists as RAFT's
``core/datasets.py``), one item per image pair (keys:
:data:`~mmdropmae.datasets.flow.base.FLOW_ITEM_KEYS`)."""
from .base import FLOW_ITEM_KEYS, BaseFlowDataset, FlowDatasetError, flow_item
from .chairs import FlyingChairsDataset, read_chairs_split
from .kitti import HD1KDataset, KITTI2015Dataset
from .pfm import read_pfm, write_pfm
from .sintel import SintelDataset
from .things import FlyingThings3DDataset

__all__ = [
    'FLOW_ITEM_KEYS', 'BaseFlowDataset', 'FlowDatasetError', 'flow_item',
    'FlyingChairsDataset', 'read_chairs_split', 'FlyingThings3DDataset', 'SintelDataset',
    'KITTI2015Dataset', 'HD1KDataset', 'read_pfm', 'write_pfm'
]
