"""Tests of the VOS data: palette PNG I/O, DAVIS / YouTube-VOS loaders and the
synthetic VOS generator (``mmdropmae.datasets.vos``,
``mmdropmae.datasets.synthetic.vos``, ``tools/dataset_converters/
make_synthetic_vos.py``)."""
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from mmdropmae.datasets.synthetic.vos import SyntheticVOSSequence
from mmdropmae.datasets.vos import (DAVIS_PALETTE, FRAME_KEYS, SEQUENCE_KEYS, DAVISDataset,
                                    PaletteMaskError, YouTubeVOSDataset, load_vos_mask,
                                    read_imageset, read_palette_mask, write_palette_mask)
from mmdropmae.registry import DATASETS
from tests.utils import load_script


# ------------------------------------------------------------ palette I/O
def test_davis_palette():
    assert DAVIS_PALETTE.shape == (256, 3)
    assert DAVIS_PALETTE[:5].tolist() == [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0],
                                          [0, 0, 128]]
    assert DAVIS_PALETTE[255].tolist() == [224, 224, 192]


def test_palette_round_trip_keeps_ids(tmp_path):
    ids = np.zeros((7, 9), np.uint8)
    ids[1:3, 1:4] = 1
    ids[4:6, 2:8] = 2
    ids[0, 8] = 5
    ids[6, 0] = 255
    path = str(tmp_path / 'sub' / 'mask.png')
    write_palette_mask(path, ids)
    with Image.open(path) as img:
        assert img.mode == 'P'
        assert img.getpalette()[:9] == [0, 0, 0, 128, 0, 0, 0, 128, 0]
    np.testing.assert_array_equal(read_palette_mask(path), ids)
    # void 255 -> background; DAVIS 2016 binarisation
    np.testing.assert_array_equal(load_vos_mask(path), np.where(ids == 255, 0, ids))
    np.testing.assert_array_equal(load_vos_mask(path, single_object=True),
                                  ((ids > 0) & (ids < 255)).astype(np.uint8))
    # overwrite atomically from a torch tensor of another dtype; no temp left
    write_palette_mask(path, torch.from_numpy(ids.astype(np.int64)) // 2)
    np.testing.assert_array_equal(read_palette_mask(path), ids // 2)
    assert os.listdir(tmp_path / 'sub') == ['mask.png']
    # custom palette, bool input
    write_palette_mask(path, ids > 0, palette=[(0, 0, 0), (255, 255, 255)])
    np.testing.assert_array_equal(read_palette_mask(path), (ids > 0).astype(np.uint8))


def test_palette_read_rejects_non_palette(tmp_path):
    rgb = str(tmp_path / 'rgb.png')
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(rgb)
    with pytest.raises(PaletteMaskError, match='rgb.png.*mode .RGB.'):
        read_palette_mask(rgb)
    with pytest.raises(PaletteMaskError, match='rgb.png'):
        read_palette_mask(rgb, allow_gray=True)
    gray = str(tmp_path / 'gray.png')
    Image.fromarray(np.full((4, 4), 3, np.uint8)).save(gray)
    with pytest.raises(PaletteMaskError, match='gray.png'):
        read_palette_mask(gray)
    assert read_palette_mask(gray, allow_gray=True).max() == 3
    with pytest.raises(FileNotFoundError, match='nope.png'):
        read_palette_mask(str(tmp_path / 'nope.png'))
    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'not a png')
    with pytest.raises(PaletteMaskError, match='broken.png'):
        read_palette_mask(str(broken))


def test_palette_write_rejects_bad_ids(tmp_path):
    with pytest.raises(ValueError, match=r'\[0, 255\]'):
        write_palette_mask(str(tmp_path / 'a.png'), np.array([[0, 256]]))
    with pytest.raises(ValueError, match='shape'):
        write_palette_mask(str(tmp_path / 'a.png'), np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ValueError, match='integers'):
        write_palette_mask(str(tmp_path / 'a.png'), np.array([[0.5, 1.0]]))
    assert not os.listdir(tmp_path)


# ------------------------------------------------------- synthetic videos
def test_synthetic_sequence_exact_and_deterministic():
    a = SyntheticVOSSequence(64, 48, 8, seed=3, num_objects=3, num_entering=1, num_vanishing=1)
    b = SyntheticVOSSequence(64, 48, 8, seed=3, num_objects=3, num_entering=1, num_vanishing=1)
    fa, ma, info = a.render_all()
    fb, mb, _ = b.render_all()
    np.testing.assert_array_equal(fa, fb)
    np.testing.assert_array_equal(ma, mb)
    assert fa.shape == (8, 48, 64, 3) and ma.shape == (8, 48, 64) and ma.dtype == np.uint8
    objs = {o['id']: o for o in info['objects']}
    assert objs[3]['first_frame'] == objs[3]['t_start'] > 0  # enters mid-video, visible
    assert objs[2]['t_end'] < 8 and objs[2]['last_frame'] < 7  # vanishes
    assert not (ma[objs[2]['t_end']:] == 2).any()
    assert info['occluded']  # objects 1 and 2 cross
    # exact masks: background pixels are the background, object pixels are
    # inside the object's own (unoccluded) shape
    for t in range(8):
        bg = a._background(t)
        np.testing.assert_array_equal(fa[t][ma[t] == 0], bg[ma[t] == 0])
        for obj in a.objects:
            if obj.t_start <= t < obj.t_end:
                shape, _ = a._object_mask(obj, t)
                assert not ((ma[t] == obj.obj_id) & ~shape).any()
    c = SyntheticVOSSequence(64, 48, 8, seed=4, num_objects=3)
    assert not np.array_equal(c.render_all()[1], ma)


def test_make_synthetic_vos_cli(tmp_path):
    mod = load_script('tools/dataset_converters/make_synthetic_vos.py')
    mod.main([str(tmp_path), '--layout', 'both', '--num-train', '1', '--num-val', '1',
              '--num-frames', '5', '--size', '32x24', '--num-objects', '3'])
    davis = DAVISDataset(str(tmp_path / 'DAVIS'), split='train')
    assert len(davis) == 1 and davis[0]['num_frames'] == 5 and davis[0]['width'] == 32
    yt = YouTubeVOSDataset(str(tmp_path / 'YouTubeVOS'), split='valid')
    assert len(yt) == 1 and yt[0]['frame_names'][1] == '00005'


# ------------------------------------------------------------------ DAVIS
def test_davis_sequences(synthetic_davis_root):
    root, info = synthetic_davis_root
    ds = DATASETS.build(dict(type='DAVISDataset', data_root=str(root), year='2017',
                             split='val', pipeline=[]))
    assert ds.mode == 'sequence' and len(ds) == 2
    assert read_imageset(str(root / 'ImageSets' / '2017' / 'val.txt')) == ['val-000', 'val-001']
    gen = {i['name']: i for i in info['val']}
    for k in range(2):
        seq = ds[k]
        assert set(SEQUENCE_KEYS) <= set(seq)
        g = gen[seq['video_name']]
        assert seq['num_frames'] == 8 and len(seq['frame_paths']) == 8
        assert (seq['height'], seq['width']) == (48, 64)
        assert seq['frame_names'][:2] == ['00000', '00001']
        assert all(osp.isfile(p) for p in seq['frame_paths'] + seq['mask_paths'])
        assert seq['object_ids'] == [o['id'] for o in g['objects']]
        assert seq['first_frames'] == {o['id']: o['first_frame'] for o in g['objects']}
        for o in g['objects']:
            for t in range(8):
                present = o['visible_area'][t] > 0
                assert (o['id'] in seq['frame_object_ids'][t]) == present
        assert seq['single_object'] is False
    # val-000: object 3 enters mid-video, object 2 vanishes
    seq = ds.get_sequence('val-000')
    assert seq['first_frames'][3] > 0
    last2 = max(t for t, ids in enumerate(seq['frame_object_ids']) if 2 in ids)
    assert last2 < 7
    mask = ds.load_mask(seq['mask_paths'][seq['first_frames'][3]])
    assert (mask == 3).any()


def test_davis_frame_view(synthetic_davis_root):
    root, _ = synthetic_davis_root
    ds = DAVISDataset(str(root), split='val', test_mode=True)
    assert ds.mode == 'frame' and len(ds) == 16
    items = [ds[i] for i in range(len(ds))]
    assert set(FRAME_KEYS) <= set(items[0])
    assert [it['frame_id'] for it in items[:8]] == list(range(8))
    assert items[0]['is_first_frame'] and items[7]['is_last_frame']
    assert items[0]['video_name'] == 'val-000' and items[8]['video_name'] == 'val-001'
    seq = ds.get_sequence('val-000')
    t3 = seq['first_frames'][3]
    by_frame = {it['frame_id']: it['init_object_ids'] for it in items[:8]}
    assert by_frame[0] == [i for i, t in seq['first_frames'].items() if t == 0]
    assert by_frame[t3] == [3]
    assert all(v == [] for t, v in by_frame.items() if t not in (0, t3))
    assert items[3]['gt_mask_path'].endswith(osp.join('val-000', '00003.png'))
    # sequence subset
    sub = DAVISDataset(str(root), split='val', mode='frame', sequences=['val-001'])
    assert len(sub) == 8 and sub[0]['video_name'] == 'val-001'


def test_davis2016(synthetic_davis_root):
    root, info = synthetic_davis_root
    ds = DAVISDataset(str(root), year='2016', split='val')
    # only the sequence without an entering object is in the 2016 list
    assert [ds[i]['video_name'] for i in range(len(ds))] == ['val-001']
    seq = ds[0]
    assert seq['object_ids'] == [1] and seq['single_object'] is True
    assert set(np.unique(ds.load_mask(seq['mask_paths'][0]))) <= {0, 1}


def test_davis_imageset_2016_original_format(tmp_path):
    p = tmp_path / 'val.txt'
    p.write_text('/JPEGImages/480p/bear/00000.jpg /Annotations/480p/bear/00000.png\n'
                 '/JPEGImages/480p/bear/00001.jpg /Annotations/480p/bear/00001.png\n'
                 '/JPEGImages/480p/cows/00000.jpg /Annotations/480p/cows/00000.png\n')
    assert read_imageset(str(p)) == ['bear', 'cows']


@pytest.fixture
def davis_copy(synthetic_davis_root, tmp_path):
    root, _ = synthetic_davis_root
    dst = tmp_path / 'davis'
    shutil.copytree(root, dst)
    return dst


def test_davis_errors_name_the_file(davis_copy):
    root = davis_copy
    with pytest.raises(FileNotFoundError, match=r'ImageSets.2017.test-dev\.txt'):
        DAVISDataset(str(root), split='test-dev')
    # a listed sequence without frames
    with open(root / 'ImageSets' / '2017' / 'val.txt', 'a') as f:
        f.write('ghost\n')
    with pytest.raises(FileNotFoundError, match=r"'ghost'.*JPEGImages.480p.ghost"):
        DAVISDataset(str(root), split='val')
    DAVISDataset(str(root), split='val', sequences=['val-000'])  # subset avoids it
    # a missing annotation in the middle of a dense split
    ann = root / 'Annotations' / '480p' / 'train-000'
    os.remove(ann / '00004.png')
    with pytest.raises(FileNotFoundError, match=r'train-000.00004\.png'):
        DAVISDataset(str(root), split='train')
    ds = DAVISDataset(str(root), split='train', require_dense=False)
    assert ds.get_sequence('train-000')['mask_paths'][4] is None
    # the first frame must be annotated, even when sparse is allowed
    os.remove(ann / '00000.png')
    with pytest.raises(FileNotFoundError, match=r'train-000.00000\.png'):
        DAVISDataset(str(root), split='train', require_dense=False)


def test_davis_rejects_rgb_and_wrong_size(davis_copy):
    root = davis_copy
    ann = root / 'Annotations' / '480p' / 'val-001'
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(ann / '00002.png')
    with pytest.raises(PaletteMaskError, match=r'val-001.00002\.png'):
        DAVISDataset(str(root), split='val')
    # 'first' scanning only reads frame 0
    ds = DAVISDataset(str(root), split='val', scan_annotations='first')
    assert ds.get_sequence('val-001')['frame_object_ids'][2] is None
    write_palette_mask(str(ann / '00002.png'), np.zeros((48, 60), np.uint8))
    with pytest.raises(ValueError, match=r'00002\.png is 60x48 but its frame .*00002\.jpg'):
        DAVISDataset(str(root), split='val')


# ------------------------------------------------------------ YouTube-VOS
def test_youtube_vos_valid_sparse(synthetic_ytvos_root):
    root, info = synthetic_ytvos_root
    ds = YouTubeVOSDataset(str(root), split='valid')
    assert len(ds) == 2
    gen = {i['name']: i for i in info['valid']}
    seq = ds.get_sequence('valid0000')
    g = gen['valid0000']
    assert seq['frame_names'] == [f'{5 * t:05d}' for t in range(8)]
    first = {o['id']: o['first_frame'] for o in g['objects']}
    assert seq['first_frames'] == first
    assert max(first.values()) > 0  # an object enters mid-video
    # annotations only where an object first appears
    annotated = [t for t, p in enumerate(seq['mask_paths']) if p is not None]
    assert annotated == sorted(set(first.values()))
    late = max(first, key=first.get)
    late_mask = ds.load_mask(seq['mask_paths'][first[late]])
    assert set(np.unique(late_mask)) == {0, late}  # only the new object
    assert seq['object_categories'] == {o['id']: o['category'] for o in g['objects']}
    # frame view
    fv = YouTubeVOSDataset(str(root), split='valid', test_mode=True, sequences=['valid0000'])
    items = [fv[i] for i in range(len(fv))]
    assert [it['frame_name'] for it in items] == seq['frame_names']
    assert items[first[late]]['init_object_ids'] == [late]
    assert items[first[late]]['gt_mask_path'] is not None
    assert all(it['gt_mask_path'] is None for it in items if it['frame_id'] not in annotated)


def test_youtube_vos_dense_and_train(synthetic_ytvos_root):
    root, info = synthetic_ytvos_root
    dense = YouTubeVOSDataset(str(root), split='valid', ann_subdir='Annotations_dense',
                              scan_annotations='all')
    seq = dense.get_sequence('valid0000')
    assert all(p is not None for p in seq['mask_paths'])
    g = {i['name']: i for i in info['valid']}['valid0000']
    vanishing = [o for o in g['objects'] if o['last_frame'] < 7]
    assert vanishing
    for o in vanishing:
        assert all(o['id'] not in seq['frame_object_ids'][t] for t in range(o['last_frame'] + 1,
                                                                            8))
    train = YouTubeVOSDataset(str(root), split='train')
    assert len(train) == 3
    cats = {c for s in train.sequences for c in s['object_categories'].values()}
    assert 'star' not in cats and None not in cats
    s0 = train.get_sequence('train0000')
    gi = {i['name']: i for i in info['train']}['train0000']
    for o in gi['objects']:
        listed = [t for t, ids in enumerate(s0['frame_object_ids']) if ids and o['id'] in ids]
        assert listed == [t for t, v in enumerate(o['visible_area']) if v > 0]


@pytest.fixture
def ytvos_copy(synthetic_ytvos_root, tmp_path):
    root, _ = synthetic_ytvos_root
    dst = tmp_path / 'yt'
    shutil.copytree(root, dst)
    return dst


def test_youtube_vos_errors(ytvos_copy):
    root = ytvos_copy
    with pytest.raises(FileNotFoundError, match=r'test.meta\.json'):
        YouTubeVOSDataset(str(root), split='test')
    meta_path = root / 'valid' / 'meta.json'
    meta = json.loads(meta_path.read_text())
    seq = meta['videos']['valid0000']
    late = max(seq['objects'], key=lambda k: seq['objects'][k]['frames'][0])
    first_name = seq['objects'][late]['frames'][0]
    # missing first-appearance annotation
    png = root / 'valid' / 'Annotations' / 'valid0000' / f'{first_name}.png'
    saved = png.read_bytes()
    os.remove(png)
    with pytest.raises(FileNotFoundError, match=rf'valid0000.{first_name}\.png'):
        YouTubeVOSDataset(str(root), split='valid')
    # the annotation lacks the object
    write_palette_mask(str(png), np.zeros((48, 64), np.uint8))
    with pytest.raises(ValueError, match=rf'{first_name}\.png does not contain object {late}'):
        YouTubeVOSDataset(str(root), split='valid')
    png.write_bytes(saved)
    YouTubeVOSDataset(str(root), split='valid')
    # meta names a frame that does not exist
    seq['objects'][late]['frames'].append('99999')
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(FileNotFoundError, match='99999'):
        YouTubeVOSDataset(str(root), split='valid')
