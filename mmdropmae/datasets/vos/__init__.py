"""Video object segmentation data: DAVIS 2016/2017 and YouTube-VOS 2018/2019
loaders and palette-PNG mask I/O.

See :mod:`mmdropmae.datasets.vos.base` for the keys of the sequence entries
and of the per-frame test items.
"""
from .base import FRAME_KEYS, SEQUENCE_KEYS, BaseVOSDataset, frame_items
from .davis import DAVISDataset, load_davis_sequences, read_imageset
from .palette import (DAVIS_PALETTE, PaletteMaskError, load_vos_mask, make_voc_palette,
                      read_palette_mask, write_palette_mask)
from .youtube_vos import (YouTubeVOSDataset, load_youtube_vos_sequences,
                          read_youtube_vos_meta, youtube_vos_categories)

__all__ = [
    'DAVIS_PALETTE', 'PaletteMaskError', 'make_voc_palette', 'read_palette_mask',
    'write_palette_mask', 'load_vos_mask', 'BaseVOSDataset', 'SEQUENCE_KEYS', 'FRAME_KEYS',
    'frame_items', 'DAVISDataset', 'load_davis_sequences', 'read_imageset',
    'YouTubeVOSDataset', 'load_youtube_vos_sequences', 'read_youtube_vos_meta',
    'youtube_vos_categories'
]
