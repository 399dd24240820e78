"""mmdropmae.utils.fileio: atomic writes, frame listing, box files, SOT
result layouts, label PNGs and the YouTube-VOS meta file."""
import json
import os

import numpy as np
import pytest
from PIL import Image

from mmdropmae.utils import fileio
from mmdropmae.utils.fileio import (DAVIS_PALETTE, PaletteMaskError, atomic_open,
                                    atomic_write_text, list_image_files, list_image_stems,
                                    load_vos_mask, natural_key, parse_box_rows, read_label_png,
                                    read_palette_mask, read_youtube_vos_meta, sot_result_complete,
                                    sot_result_path, sot_time_path, write_palette_mask,
                                    youtube_vos_categories)


def _leftovers(folder):
    return [n for n in os.listdir(folder) if n.startswith('.tmp_')]


# ------------------------------------------------------------ atomic writes
def test_atomic_write_text_creates_folders_and_replaces(tmp_path):
    path = tmp_path / 'a' / 'b' / 'out.txt'
    atomic_write_text(str(path), 'one\n')
    assert path.read_text() == 'one\n'
    atomic_write_text(str(path), 'two\n')
    assert path.read_text() == 'two\n'
    assert _leftovers(path.parent) == []


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path):
    path = tmp_path / 'out.txt'
    with pytest.raises(TypeError):
        atomic_write_text(str(path), 123)  # f.write(int) fails after the temp file exists
    assert not path.exists()
    assert _leftovers(tmp_path) == []

    path.write_text('old')
    with pytest.raises(RuntimeError, match='boom'):
        with atomic_open(str(path), 'w') as f:
            f.write('half of the new cont')
            raise RuntimeError('boom')
    assert path.read_text() == 'old'  # the target is untouched
    assert _leftovers(tmp_path) == []


def test_atomic_open_binary(tmp_path):
    path = tmp_path / 'x.bin'
    with atomic_open(str(path), 'wb', suffix='.bin') as f:
        f.write(b'\x00\x01')
    assert path.read_bytes() == b'\x00\x01'


# ------------------------------------------------------------ frame folders
def test_list_image_files_natural_order(tmp_path):
    for name in ('img10.jpg', 'img2.JPG', 'img1.png', 'notes.txt', 'x.webp'):
        (tmp_path / name).write_bytes(b'')
    (tmp_path / 'sub.jpg').mkdir()  # a folder is not a frame
    assert list_image_files(str(tmp_path)) == ['img1.png', 'img2.JPG', 'img10.jpg', 'x.webp']
    assert list_image_files(str(tmp_path), extensions=('.png', )) == ['img1.png']
    assert natural_key('a10') > natural_key('a9')

    class MyError(ValueError):
        pass

    with pytest.raises(MyError, match='frame folder not found: .*nope'):
        list_image_files(str(tmp_path / 'nope'), error_cls=MyError)
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert list_image_files(str(empty)) == []


def test_list_image_stems(tmp_path):
    for name in ('00010.jpg', '00002.jpg', '.hidden.jpg', 'meta.json', '00005.png'):
        (tmp_path / name).write_bytes(b'')
    assert list_image_stems(str(tmp_path)) == ['00002', '00005', '00010']
    with pytest.raises(FileNotFoundError, match='clip folder not found'):
        list_image_stems(str(tmp_path / 'nope'), what='clip')
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match='no images in frames folder'):
        list_image_stems(str(empty))


# ------------------------------------------------------- box files, layouts
def test_parse_box_rows(tmp_path):
    path = tmp_path / 'gt.txt'
    path.write_text('1,2,3,4\n\n5\t6\t7\t8\n9 10 11 NaN\n')
    rows = parse_box_rows(str(path))
    assert rows.dtype == np.float64 and rows.shape == (3, 4)
    np.testing.assert_array_equal(rows[:2], [[1, 2, 3, 4], [5, 6, 7, 8]])
    assert np.isnan(rows[2, 3])

    empty = tmp_path / 'empty.txt'
    empty.write_text('\n')
    assert parse_box_rows(str(empty)).shape == (0, 4)

    bad = tmp_path / 'bad.txt'
    bad.write_text('1,2,3,4\n1,2,3\n')
    with pytest.raises(KeyError, match=r'bad\.txt, line 2: expected 4 values'):
        parse_box_rows(str(bad), KeyError)
    bad.write_text('1,2,x,4\n')
    with pytest.raises(ValueError, match=r'line 1: non-numeric box value'):
        parse_box_rows(str(bad))
    with pytest.raises(ValueError, match='result file not found'):
        parse_box_rows(str(tmp_path / 'nope.txt'), kind='result')


def test_sot_result_layouts(tmp_path):
    root = str(tmp_path)
    assert sot_result_path(root, 's', 'got10k') == os.path.join(root, 's', 's_001.txt')
    assert sot_result_path(root, 's', 'LaSOT') == os.path.join(root, 's.txt')
    assert sot_time_path(root, 's', 'got10k') == os.path.join(root, 's', 's_time.txt')
    assert sot_time_path(root, 's', 'pytracking') is None
    with pytest.raises(ValueError, match="unknown result layout 'nope'"):
        sot_result_path(root, 's', 'nope')

    assert not sot_result_complete(root, 's', 'lasot', 2)
    atomic_write_text(sot_result_path(root, 's', 'lasot'), '1,2,3,4\n1,2,3,4\n')
    assert sot_result_complete(root, 's', 'lasot', 2)
    assert not sot_result_complete(root, 's', 'lasot', 3)
    atomic_write_text(sot_result_path(root, 's', 'lasot'), '1,2,3\n')
    assert not sot_result_complete(root, 's', 'lasot', 1)  # malformed = not done


# ---------------------------------------------------------------- label PNGs
def test_palette_png_round_trip(tmp_path):
    ids = np.array([[0, 1, 2], [3, 255, 7]], np.uint8)
    path = str(tmp_path / 'sub' / 'm.png')
    write_palette_mask(path, ids)
    assert _leftovers(tmp_path / 'sub') == []
    with Image.open(path) as img:
        assert img.mode == 'P'
        pal = np.array(img.getpalette()[:768], np.uint8).reshape(-1, 3)
    np.testing.assert_array_equal(pal[:len(DAVIS_PALETTE)], DAVIS_PALETTE)
    np.testing.assert_array_equal(read_palette_mask(path), ids)
    np.testing.assert_array_equal(load_vos_mask(path), np.where(ids == 255, 0, ids))
    np.testing.assert_array_equal(load_vos_mask(path, single_object=True),
                                  [[0, 1, 1], [1, 0, 1]])
    labels = read_label_png(path)  # keeps void 255
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, ids)


def test_write_palette_mask_failure_leaves_no_file(tmp_path):
    with pytest.raises(ValueError, match=r'\[0, 255\]'):
        write_palette_mask(str(tmp_path / 'bad.png'), np.array([[0, 300]]))
    assert os.listdir(tmp_path) == []


def test_read_label_png_modes(tmp_path):
    gray = str(tmp_path / 'gray.png')
    Image.fromarray(np.array([[0, 4], [19, 255]], np.uint8), mode='L').save(gray)
    np.testing.assert_array_equal(read_label_png(gray), [[0, 4], [19, 255]])
    wide = str(tmp_path / 'wide.png')
    Image.fromarray(np.array([[0, 1000]], np.uint16)).save(wide)
    np.testing.assert_array_equal(read_label_png(wide), [[0, 1000]])
    rgb = str(tmp_path / 'rgb.png')
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(rgb)
    with pytest.raises(ValueError, match="rgb.png: expected an indexed or grayscale.*'RGB'"):
        read_label_png(rgb)
    with pytest.raises(PaletteMaskError, match='rgb.png'):
        read_palette_mask(rgb)
    with pytest.raises(FileNotFoundError):
        read_label_png(str(tmp_path / 'nope.png'))


def test_davis_palette_values():
    assert DAVIS_PALETTE.shape == (256, 3) and not DAVIS_PALETTE.flags.writeable
    assert DAVIS_PALETTE[:3].tolist() == [[0, 0, 0], [128, 0, 0], [0, 128, 0]]
    assert DAVIS_PALETTE[255].tolist() == [224, 224, 192]
    np.testing.assert_array_equal(fileio.make_voc_palette(4), DAVIS_PALETTE[:4])


# ------------------------------------------------------- YouTube-VOS meta
def test_youtube_vos_meta(tmp_path):
    meta = tmp_path / 'meta.json'
    meta.write_text(json.dumps({'videos': {
        'v1': {'objects': {'1': {'category': 'zebra', 'frames': ['00000']},
                           '2': {'category': 'ape', 'frames': ['00005']}}},
        'v2': {'objects': {'1': {'frames': ['00000']}}}}}))
    assert set(read_youtube_vos_meta(str(meta))) == {'v1', 'v2'}
    assert youtube_vos_categories(str(meta)) == ['ape', 'zebra']
    with pytest.raises(FileNotFoundError, match='nope.json'):
        read_youtube_vos_meta(str(tmp_path / 'nope.json'))
    meta.write_text('{"no": 1}')
    with pytest.raises(ValueError, match='no "videos" dict'):
        read_youtube_vos_meta(str(meta))
