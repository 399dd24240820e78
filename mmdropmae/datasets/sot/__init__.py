"""Single-object-tracking datasets (one data-list entry per sequence; a flat
per-frame view in test mode). See ``base_sot_dataset`` for the API."""
from .base_sot_dataset import (IMG_EXTENSIONS, BaseSOTDataset, SOTAnnotationError, list_sot_frames,
                               natural_key, read_bbox_file, read_label_file, read_name_list)
from .coco_sot_dataset import COCOSOTDataset
from .got10k_dataset import GOT10kDataset
from .itb_dataset import ITBDataset
from .lasot_dataset import LaSOTDataset, LaSOTExtDataset
from .tnl2k_dataset import TNL2KDataset
from .trackingnet_dataset import TrackingNetDataset

__all__ = [
    'BaseSOTDataset', 'SOTAnnotationError', 'GOT10kDataset', 'LaSOTDataset', 'LaSOTExtDataset',
    'TrackingNetDataset', 'TNL2KDataset', 'ITBDataset', 'COCOSOTDataset', 'IMG_EXTENSIONS',
    'list_sot_frames', 'natural_key', 'read_bbox_file', 'read_label_file', 'read_name_list'
]
