"""Utilities: ``register_all_modules`` and the neutral helpers shared by
``mmdropmae.datasets``, ``mmdropmae.models`` and ``mmdropmae.evaluation``
(:mod:`.constants`, :mod:`.fileio`, :mod:`.image`, :mod:`.flow_io`).

The helpers are loaded on first access (PEP 562 module ``__getattr__``), so
``import mmdropmae.utils`` stays light: it imports MMEngine's scope only.
"""
import importlib

from .setup_env import register_all_modules

#: Public helper name -> its submodule (loaded lazily).
_LAZY = {
    name: module
    for module, names in {
        'constants': ('IMAGENET_MEAN', 'IMAGENET_STD', 'IMG_EXTENSIONS'),
        'fileio': ('atomic_open', 'atomic_write_text', 'natural_key', 'list_image_files',
                   'list_image_stems', 'parse_box_rows', 'SOT_RESULT_LAYOUTS',
                   'check_sot_layout', 'sot_result_path', 'sot_time_path',
                   'sot_result_complete', 'make_voc_palette', 'DAVIS_PALETTE',
                   'PaletteMaskError', 'read_palette_mask', 'write_palette_mask',
                   'load_vos_mask', 'read_label_png', 'read_youtube_vos_meta',
                   'youtube_vos_categories'),
        'image': ('load_rgb_image', 'write_rgb_image', 'image_size', 'crop_size_of',
                  'sample_target', 'crop_valid_region', 'transform_box_to_crop'),
    }.items() for name in names
}

__all__ = ['register_all_modules'] + list(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(f'.{module}', __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
