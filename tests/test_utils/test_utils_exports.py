"""mmdropmae.utils exports its helpers lazily; the old import paths of the
moved helpers still work."""
import importlib

import pytest

import mmdropmae.utils as utils


def test_lazy_exports_resolve_to_submodules():
    for name in utils.__all__:
        value = getattr(utils, name)
        if name == 'register_all_modules':
            continue
        module = importlib.import_module(f'mmdropmae.utils.{utils._LAZY[name]}')
        assert getattr(module, name) is value
    for mod in ('constants', 'fileio', 'image'):
        module = importlib.import_module(f'mmdropmae.utils.{mod}')
        assert set(module.__all__) == {n for n, m in utils._LAZY.items() if m == mod}
    with pytest.raises(AttributeError, match='nothing_here'):
        utils.nothing_here  # noqa: B018


def test_constants():
    from mmdropmae.utils.constants import IMAGENET_MEAN, IMAGENET_STD, IMG_EXTENSIONS
    assert IMAGENET_MEAN == (123.675, 116.28, 103.53)
    assert IMAGENET_STD == (58.395, 57.12, 57.375)
    assert {'.jpg', '.jpeg', '.png', '.bmp', '.webp'} <= set(IMG_EXTENSIONS)


def test_old_paths_of_evaluation_helpers():
    from mmdropmae.evaluation.functional import sot_results
    from mmdropmae.utils import fileio
    assert sot_results.atomic_write_text is fileio.atomic_write_text
    assert sot_results.LAYOUTS is fileio.SOT_RESULT_LAYOUTS
    assert sot_results.result_file_path is fileio.sot_result_path
    assert sot_results.time_file_path is fileio.sot_time_path
    assert sot_results.sequence_result_done is fileio.sot_result_complete


def test_old_paths_of_dataset_helpers():
    pytest.importorskip('mmcv')
    from mmdropmae.datasets.sot import base_sot_dataset
    from mmdropmae.datasets.transforms import sot_transforms
    from mmdropmae.datasets.vos import base, palette, youtube_vos
    from mmdropmae.utils import constants, fileio, image
    for name in palette.__all__:
        assert getattr(palette, name) is getattr(fileio, name)
    for name in ('crop_size_of', 'sample_target', 'crop_valid_region', 'transform_box_to_crop'):
        assert getattr(sot_transforms, name) is getattr(image, name)
    assert base_sot_dataset.IMG_EXTENSIONS is constants.IMG_EXTENSIONS
    assert base_sot_dataset.parse_box_rows is fileio.parse_box_rows
    assert base_sot_dataset.natural_key is fileio.natural_key
    assert base.image_size is image.image_size
    assert youtube_vos.youtube_vos_categories is fileio.youtube_vos_categories
    assert youtube_vos.read_youtube_vos_meta is fileio.read_youtube_vos_meta
