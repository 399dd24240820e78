"""Palette (indexed, PIL mode ``P``) PNG masks as used by DAVIS and YouTube-VOS.

The implementation lives in :mod:`mmdropmae.utils.fileio`, shared with the
evaluation and the models; this module keeps the data-set side import path.
"""
from mmdropmae.utils.fileio import (DAVIS_PALETTE, PaletteMaskError, load_vos_mask,
                                    make_voc_palette, read_palette_mask, write_palette_mask)

__all__ = [
    'DAVIS_PALETTE', 'make_voc_palette', 'read_palette_mask', 'write_palette_mask',
    'load_vos_mask', 'PaletteMaskError'
]
