"""SOT dataset loaders: synthetic GOT-10k / LaSOT folders, hand-written
TrackingNet / TNL2K / ITB / COCO samples, malformed annotations."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmdropmae.datasets.samplers import VideoSampler, split_videos
from mmdropmae.datasets.sot import (BaseSOTDataset, COCOSOTDataset, GOT10kDataset, ITBDataset,
                                    LaSOTDataset, LaSOTExtDataset, SOTAnnotationError,
                                    TNL2KDataset, TrackingNetDataset)
from mmdropmae.registry import DATA_SAMPLERS, DATASETS
from tests.utils import load_script


def _img(path, w=32, h=24):
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, np.full((h, w, 3), 127, np.uint8))


def _write(path, text):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def _read_rows(path):
    return np.array([[float(v) for v in ln.split(',')] for ln in open(path) if ln.strip()])


# ------------------------------------------------------------------ GOT-10k
def test_got10k_train_and_val(synthetic_got10k_root, tmp_path):
    root = str(synthetic_got10k_root)
    ds = GOT10kDataset(data_root=root, split='val')
    assert ds.num_videos == len(ds) == 5
    assert ds.video_names == [f'GOT-10k_Val_{i:06d}' for i in range(1, 6)]
    for i in range(5):
        seq = ds.get_sequence(i)
        seq_dir = osp.join(root, 'val', seq['video_name'])
        n = seq['num_frames']
        assert n == ds.get_len_per_video(i) == 20 == len(seq['frame_paths'])
        assert all(osp.isfile(p) for p in seq['frame_paths'])
        assert seq['frame_paths'][0].endswith('00000001.jpg')
        assert seq['gt_bboxes'].shape == (n, 4) and seq['gt_bboxes'].dtype == np.float32
        raw = _read_rows(osp.join(seq_dir, 'groundtruth.txt'))
        finite = np.isfinite(raw).all(1)
        np.testing.assert_array_equal(seq['gt_bboxes'][finite], raw[finite])
        assert (seq['gt_bboxes'][~finite] == 0).all()  # NaN rows stored as zeros
        absence = np.loadtxt(osp.join(seq_dir, 'absence.label'), dtype=int)
        cover = np.loadtxt(osp.join(seq_dir, 'cover.label'), dtype=int)
        np.testing.assert_array_equal(seq['visible'], (absence == 0) & (cover > 0) & finite)
        np.testing.assert_array_equal(seq['absent'], ~seq['visible'])
        np.testing.assert_array_equal(seq['attrs']['cover'], cover)
        assert seq['img_shape'] == (96, 128)  # from meta_info.ini
        assert seq['ann_complete'] and seq['dataset'] == 'got10k'
        np.testing.assert_array_equal(seq['init_bbox'], seq['gt_bboxes'][0])
    # scenario checks: val 2 occluded (absent while covered), val 5 leaves the frame (NaN)
    assert (~ds.get_sequence(1)['visible']).sum() >= 1
    nan_rows = ~np.isfinite(_read_rows(osp.join(root, 'val', 'GOT-10k_Val_000005',
                                                'groundtruth.txt'))).all(1)
    assert nan_rows.sum() >= 2
    assert not ds.get_sequence(4)['visible'][nan_rows].any()

    ann = ds.get_ann_infos_from_video(0)
    xywh = ds.get_bboxes_from_video(0)
    np.testing.assert_allclose(ann['bboxes'][:, :2], xywh[:, :2])
    np.testing.assert_allclose(ann['bboxes'][:, 2:], xywh[:, :2] + xywh[:, 2:])
    assert ann['bboxes_isvalid'].all() and ann['visible'].all()
    img = ds.get_img_infos_from_video(0)
    assert list(img['frame_ids']) == list(range(20)) and img['img_paths'][3].endswith('04.jpg')
    assert ds.get_frame_path(0, 3) == img['img_paths'][3]

    train = GOT10kDataset(data_root=root, split='train', check_frames=False)
    assert train.num_videos == 4 and train.get_len_per_video(0) == 24
    # a sequence list of indices into list.txt (OSTrack split-file format)
    lst = str(tmp_path / 'val_idx.txt')
    _write(lst, '3\n0\n')
    sub = GOT10kDataset(data_root=root, split='val', ann_file=lst)
    assert sub.video_names == ['GOT-10k_Val_000004', 'GOT-10k_Val_000001']
    _write(lst, 'GOT-10k_Val_000002\n')
    assert GOT10kDataset(data_root=root, split='val', ann_file=lst).num_videos == 1


def test_got10k_test_mode_flat_view(synthetic_got10k_root):
    ds = DATASETS.build(dict(type='GOT10kDataset', data_root=str(synthetic_got10k_root),
                             split='val', test_mode=True))
    assert len(ds) == 100 and ds.num_videos == 5
    seen = set()
    for idx in (0, 19, 20, 21, 99, -1):
        info = ds.get_data_info(idx)
        v, f = divmod(idx % 100, 20)
        assert (info['video_id'], info['frame_id']) == (v, f)
        assert info['video_length'] == 20 and info['ori_shape'] == (96, 128)
        seq = ds.get_sequence(v)
        assert info['img_path'] == seq['frame_paths'][f]
        xywh = seq['gt_bboxes'][f]
        np.testing.assert_allclose(info['gt_bbox_xywh'], xywh)
        np.testing.assert_allclose(info['gt_bbox'], [xywh[0], xywh[1], xywh[0] + xywh[2],
                                                     xywh[1] + xywh[3]])
        init = seq['gt_bboxes'][0]
        np.testing.assert_allclose(info['init_bbox'], [*init[:2], *(init[:2] + init[2:])])
        assert info['visible'] == bool(seq['visible'][f]) and info['has_gt']
        seen.add(info['sample_idx'])
    assert seen == {0, 19, 20, 21, 99}
    with pytest.raises(IndexError):
        ds.get_data_info(100)
    assert ds.frame_index(45) == (2, 5)
    assert list(ds.video_frame_range(1)) == list(range(20, 40))
    # __getitem__ runs the pipeline on the frame dict
    ds2 = GOT10kDataset(data_root=str(synthetic_got10k_root), split='val', test_mode=True,
                        pipeline=[lambda r: dict(r, loaded=True)], serialize_data=False)
    assert ds2[25]['loaded'] and ds2[25]['frame_id'] == 5
    sub = ds.get_subset([1, 3])
    assert len(sub) == 40 and sub.get_data_info(20)['video_name'] == 'GOT-10k_Val_000004'


def test_got10k_test_split_first_box_only(synthetic_got10k_root):
    ds = GOT10kDataset(data_root=str(synthetic_got10k_root), split='test', test_mode=True)
    assert ds.num_videos == 2 and len(ds) == 40
    seq = ds.get_sequence(0)
    assert seq['gt_bboxes'].shape == (1, 4) and not seq['ann_complete']
    assert seq['num_frames'] == 20
    f0, f5 = ds.get_data_info(0), ds.get_data_info(5)
    assert f0['has_gt'] and np.isfinite(f0['gt_bbox']).all()
    assert not f5['has_gt'] and np.isnan(f5['gt_bbox']).all() and not f5['visible']
    np.testing.assert_allclose(f5['init_bbox'], f0['gt_bbox'])


def test_video_sampler(synthetic_got10k_root, monkeypatch):
    assert split_videos([10, 10, 10, 10], 2) == [[0, 1], [2, 3]]
    assert split_videos([100, 1, 1, 1], 2) == [[0], [1, 2, 3]]
    assert split_videos([5, 5], 4) in ([[0], [], [1], []], [[0], [], [], [1]], [[], [0], [], [1]])
    chunks = split_videos([3, 7, 2, 9, 4, 4, 1], 3)
    assert sum(chunks, []) == list(range(7))  # contiguous, ordered, complete
    ds = GOT10kDataset(data_root=str(synthetic_got10k_root), split='val', test_mode=True)
    sampler = DATA_SAMPLERS.build(dict(type='VideoSampler', dataset=ds))
    assert list(sampler) == list(range(100)) and len(sampler) == 100
    import mmdropmae.datasets.samplers.video_sampler as vs
    parts = []
    for rank in range(3):
        monkeypatch.setattr(vs, 'get_dist_info', lambda r=rank: (r, 3))
        parts.append(list(VideoSampler(ds)))
    assert sorted(sum(parts, [])) == list(range(100))
    for p in parts:  # whole videos, frames in order
        assert p == sorted(p) and len(p) % 20 == 0
    train_ds = GOT10kDataset(data_root=str(synthetic_got10k_root), split='train')
    with pytest.raises(TypeError):
        VideoSampler(list(range(3)))
    assert len(train_ds) == 4


def test_video_sampler_in_dataloader(synthetic_got10k_root):
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    with DefaultScope.overwrite_default_scope('mmdropmae'):
        loader = Runner.build_dataloader(dict(
            dataset=dict(type='GOT10kDataset', data_root=str(synthetic_got10k_root),
                         split='test', test_mode=True),
            sampler=dict(type='VideoSampler'), batch_size=1, num_workers=0,
            collate_fn=dict(type='pseudo_collate')))
    ids = [(b['video_id'][0], b['frame_id'][0]) for b in loader]  # pseudo_collate
    assert ids == [(v, f) for v in range(2) for f in range(20)]


# -------------------------------------------------------------------- LaSOT
def test_lasot(synthetic_lasot_root):
    root = str(synthetic_lasot_root)
    ds = LaSOTDataset(data_root=root)
    assert ds.video_names == ['airplane-1', 'airplane-2', 'bird-1', 'bird-2']
    test = LaSOTDataset(data_root=root, ann_file='testing_set.txt')
    assert test.video_names == ['airplane-2', 'bird-2']
    seq = ds.get_sequence(0)  # airplane-1 leaves the frame
    sdir = osp.join(root, 'airplane', 'airplane-1')
    assert seq['frame_paths'][0] == osp.join(sdir, 'img', '00000001.jpg')
    oov = np.loadtxt(osp.join(sdir, 'out_of_view.txt'), delimiter=',').astype(bool)
    occ = np.loadtxt(osp.join(sdir, 'full_occlusion.txt'), delimiter=',').astype(bool)
    assert oov.sum() >= 2
    np.testing.assert_array_equal(seq['visible'], ~oov & ~occ)
    assert (seq['gt_bboxes'][oov] == 0).all()
    np.testing.assert_array_equal(seq['attrs']['out_of_view'], oov.astype(int))
    assert seq['language'] == 'the airplane target'
    occ_seq = ds.get_sequence(1)
    assert (~occ_seq['visible']).sum() == occ_seq['attrs']['full_occlusion'].sum() >= 1
    ext = LaSOTExtDataset(data_root=root, test_mode=True)
    assert len(ext) == 80 and ext.get_data_info(0)['dataset'] == 'lasot_ext'
    # bbox_min_size marks small boxes invisible
    big = LaSOTDataset(data_root=root, bbox_min_size=1000)
    assert not big.get_sequence(2)['visible'].any()
    # the test view carries the visibility labels apart from the box check
    # (what pytracking's LaSOT analysis uses): labels say visible here
    frames = LaSOTDataset(data_root=root, bbox_min_size=1000, test_mode=True)
    start = sum(frames.get_len_per_video(i) for i in range(2))
    info = frames.get_data_info(start)
    assert info['visible'] is False and info['target_visible'] is True
    first = frames.get_data_info(0)  # airplane-1: out-of-view frames are labelled
    labels = [frames.get_data_info(k)['target_visible'] for k in range(len(oov))]
    assert labels == (~oov & ~occ).tolist() and first['has_gt']


# ------------------------------------------------------ hand-written formats
def test_trackingnet(tmp_path):
    root = tmp_path / 'TrackingNet'
    for k in range(3):
        _img(str(root / 'TRAIN_0' / 'frames' / 'seqA' / f'{k}.jpg'))
    for k in range(2):
        _img(str(root / 'TRAIN_1' / 'frames' / 'seqB' / f'{k}.jpg'))
    _write(str(root / 'TRAIN_0' / 'anno' / 'seqA.txt'), '1,2,3,4\n2,3,4,5\n3,4,5,6\n')
    _write(str(root / 'TRAIN_1' / 'anno' / 'seqB.txt'), '1.5,2.5,3.5,4.5\n0,0,0,0\n')
    for k in range(4):
        _img(str(root / 'TEST' / 'frames' / 'seqT' / f'{k}.jpg'))
    _write(str(root / 'TEST' / 'anno' / 'seqT.txt'), '5,6,7,8\n')
    ds = TrackingNetDataset(data_root=str(root))
    assert ds.video_names == ['seqA', 'seqB']
    a = ds.get_sequence(0)
    assert a['frame_paths'][2].endswith(osp.join('TRAIN_0', 'frames', 'seqA', '2.jpg'))
    np.testing.assert_array_equal(a['gt_bboxes'][1], [2, 3, 4, 5])
    assert a['chunk'] == 'TRAIN_0'
    b = ds.get_sequence(1)
    assert b['visible'].tolist() == [True, False]  # 0-size box -> not visible
    assert b['target_visible'] is None  # TrackingNet has no visibility labels
    test = TrackingNetDataset(data_root=str(root), chunks='test', test_mode=True)
    assert len(test) == 4 and test.get_sequence(0)['gt_bboxes'].shape == (1, 4)
    assert not test.get_data_info(2)['has_gt']
    one = TrackingNetDataset(data_root=str(root), chunks=['TRAIN_1'], check_frames=False)
    assert one.video_names == ['seqB'] and one.get_frame_path(0, 1).endswith('1.jpg')


def test_tnl2k(tmp_path):
    root = tmp_path / 'TNL2K'
    for name in ('img1.png', 'img2.png', 'img10.png'):
        _img(str(root / 'Sub_p1' / 'advSamp_Baseball' / 'imgs' / name))
    _write(str(root / 'Sub_p1' / 'advSamp_Baseball' / 'groundtruth.txt'),
           '1,1,5,5\nNaN,NaN,NaN,NaN\n3,3,5,5\n')
    _write(str(root / 'Sub_p1' / 'advSamp_Baseball' / 'language.txt'), 'the white ball\n')
    for name in ('00001.jpg', '00002.jpg'):
        _img(str(root / 'BlackCar' / 'imgs' / name))
    _write(str(root / 'BlackCar' / 'groundtruth.txt'), '1\t1\t5\t5\n2\t2\t5\t5\n')
    ds = TNL2KDataset(data_root=str(root))
    assert ds.video_names == ['BlackCar', 'advSamp_Baseball']
    s = ds.get_sequence(1)
    assert [osp.basename(p) for p in s['frame_paths']] == ['img1.png', 'img2.png', 'img10.png']
    assert s['visible'].tolist() == [True, False, True]  # NaN row -> not visible
    assert (s['gt_bboxes'][1] == 0).all() and s['language'] == 'the white ball'
    np.testing.assert_array_equal(ds.get_sequence(0)['gt_bboxes'][1], [2, 2, 5, 5])


def test_itb(tmp_path):
    root = tmp_path / 'ITB'
    for name in ('00000001.jpg', '00000002.jpg'):
        _img(str(root / 'animal' / 'animal-1' / name))
        _img(str(root / 'human' / 'human-3' / name))
    _write(str(root / 'animal' / 'animal-1' / 'groundtruth.txt'), '1,2,3,4\n5,6,7,8\n')
    _write(str(root / 'human' / 'human-3' / 'groundtruth.txt'), '1 2 3 4\n5 6 7 8\n')
    ds = ITBDataset(data_root=str(root), test_mode=True)
    assert ds.video_names == ['animal-1', 'human-3'] and len(ds) == 4
    assert ds.get_sequence(1)['scenario'] == 'human'
    np.testing.assert_allclose(ds.get_data_info(3)['gt_bbox'], [5, 6, 12, 14])


def test_coco_sot(tmp_path):
    coco = dict(
        images=[dict(id=1, file_name='a.jpg', width=64, height=48),
                dict(id=2, file_name='b.jpg', width=32, height=32)],
        annotations=[
            dict(id=10, image_id=1, bbox=[1, 2, 20, 10], category_id=1, iscrowd=0),
            dict(id=11, image_id=1, bbox=[0, 0, 30, 30], category_id=1, iscrowd=1),  # crowd
            dict(id=12, image_id=2, bbox=[3, 3, 2, 9], category_id=2, iscrowd=0),  # tiny
            dict(id=13, image_id=2, bbox=[4, 5, 6.5, 7.5], category_id=2, iscrowd=0)],
        categories=[dict(id=1, name='person'), dict(id=2, name='dog')])
    _write(str(tmp_path / 'annotations' / 'instances_train2017.json'), json.dumps(coco))
    ds = COCOSOTDataset(data_root=str(tmp_path), ann_file='annotations/instances_train2017.json')
    assert ds.video_names == ['1_10', '2_13']
    s = ds.get_sequence(1)
    assert s['num_frames'] == 1 and s['img_shape'] == (32, 32) and s['category'] == 'dog'
    assert s['frame_paths'] == [osp.join(str(tmp_path), 'train2017', 'b.jpg')]
    np.testing.assert_allclose(s['gt_bboxes'], [[4, 5, 6.5, 7.5]])
    dogs = COCOSOTDataset(data_root=str(tmp_path), ann_file='annotations/instances_train2017.json',
                          categories=['dog'], min_bbox_size=1)
    assert dogs.video_names == ['2_12', '2_13']
    with pytest.raises(SOTAnnotationError, match='not found'):
        COCOSOTDataset(data_root=str(tmp_path), ann_file='missing.json')


# ------------------------------------------------------------------- errors
def _got_seq(root, n_frames=3, gt='1,2,3,4\n' * 3, labels=True):
    seq = osp.join(root, 'val', 'GOT-10k_Val_000001')
    for k in range(n_frames):
        _img(osp.join(seq, f'{k + 1:08d}.jpg'))
    _write(osp.join(seq, 'groundtruth.txt'), gt)
    if labels:
        _write(osp.join(seq, 'absence.label'), '0\n' * 3)
        _write(osp.join(seq, 'cover.label'), '8\n' * 3)
    _write(osp.join(root, 'val', 'list.txt'), 'GOT-10k_Val_000001\n')
    return seq


@pytest.mark.parametrize('gt,match', [
    ('1,2,3,4\n1,2,3\n1,2,3,4\n', r'groundtruth\.txt, line 2: expected 4 values'),
    ('1,2,3,4\n1,2,3,4\n', r'groundtruth\.txt: 2 boxes for 3 frames \(fewer boxes than frames\)'),
    ('1,2,3,4\n1,2,x,4\n1,2,3,4\n', r'groundtruth\.txt, line 2: non-numeric'),
    ('', r'groundtruth\.txt: empty annotation file'),
])
def test_malformed_groundtruth(tmp_path, gt, match):
    _got_seq(str(tmp_path), gt=gt)
    with pytest.raises(SOTAnnotationError, match=match):
        GOT10kDataset(data_root=str(tmp_path), split='val')


def test_missing_files(tmp_path):
    seq = _got_seq(str(tmp_path))
    _write(osp.join(seq, 'cover.label'), '8\n8\n')
    with pytest.raises(SOTAnnotationError, match=r'cover\.label: 2 labels for 3 frames'):
        GOT10kDataset(data_root=str(tmp_path), split='val')
    os.remove(osp.join(seq, 'groundtruth.txt'))
    with pytest.raises(SOTAnnotationError, match=r'annotation file not found: .*groundtruth\.txt'):
        GOT10kDataset(data_root=str(tmp_path), split='val')
    with pytest.raises(SOTAnnotationError, match='list file not found'):
        LaSOTDataset(data_root=str(tmp_path), ann_file='nope.txt')
    with pytest.raises(SOTAnnotationError, match='root folder not found'):
        LaSOTDataset(data_root=str(tmp_path / 'none'))
    with pytest.raises(ValueError, match='split'):
        GOT10kDataset(data_root=str(tmp_path), split='dev')


def test_lasot_label_length_mismatch(tmp_path):
    sdir = tmp_path / 'cat' / 'cat-1'
    for k in range(3):
        _img(str(sdir / 'img' / f'{k + 1:08d}.jpg'))
    _write(str(sdir / 'groundtruth.txt'), '1,2,3,4\n' * 3)
    _write(str(sdir / 'full_occlusion.txt'), '0,0\n')
    with pytest.raises(SOTAnnotationError, match=r'full_occlusion\.txt: 2 labels for 3'):
        LaSOTDataset(data_root=str(tmp_path))
    _write(str(sdir / 'full_occlusion.txt'), '0,0,1\n')
    _write(str(sdir / 'groundtruth.txt'), '1,2,3,4\n' * 4)
    with pytest.raises(SOTAnnotationError, match=r'4 boxes for 3 frames \(more boxes'):
        LaSOTDataset(data_root=str(tmp_path))


def test_base_class_is_abstract():
    with pytest.raises(NotImplementedError):
        BaseSOTDataset()


# ---------------------------------------------------------------- generator
def test_synthetic_sot_generator_invariants():
    from mmdropmae.datasets.synthetic.sot import render_sot_sequence
    a = render_sot_sequence(24, (128, 96), seed=5, leave_frame=True, occlusion=True,
                            scale_change=True)
    b = render_sot_sequence(24, (128, 96), seed=5, leave_frame=True, occlusion=True,
                            scale_change=True)
    assert all((x == y).all() for x, y in zip(a.frames, b.frames))  # deterministic
    assert a.frames[0].shape == (96, 128, 3) and a.frames[0].dtype == np.uint8
    bx = a.boxes
    assert (bx[:, 0] >= 0).all() and (bx[:, 1] >= 0).all()
    assert (bx[:, 0] + bx[:, 2] <= 128).all() and (bx[:, 1] + bx[:, 3] <= 96).all()
    assert a.out_of_view.any() and a.full_occlusion.any() and a.cut_by_image.any()
    assert (bx[a.out_of_view] == 0).all() and (bx[~a.out_of_view, 2:] > 0).all()
    touches = (bx[:, 0] == 0) | (bx[:, 0] + bx[:, 2] == 128) | (bx[:, 1] == 0) | \
        (bx[:, 1] + bx[:, 3] == 96)
    assert (touches[a.cut_by_image]).all()
    np.testing.assert_array_equal(a.cover == 0, a.absent)
    assert len(set(map(tuple, bx[:, 2:][~a.out_of_view & ~a.cut_by_image]))) > 3  # scale change
    plain = render_sot_sequence(20, (128, 96), seed=6)
    assert (plain.cover == 8).all() and not plain.absent.any()
    other = render_sot_sequence(20, (128, 96), seed=7)
    assert not (plain.frames[0] == other.frames[0]).all()


def test_make_synthetic_sot_cli(tmp_path):
    tool = load_script('tools/dataset_converters/make_synthetic_sot.py')
    tool.main([str(tmp_path / 'g'), '--layout', 'got10k', '--split', 'train', '--num-seqs', '2',
               '--num-frames', '12-16', '--size', '64x48', '--leave-frame'])
    tool.main([str(tmp_path / 'l'), '--layout', 'lasot', '--classes', 'cat',
               '--seqs-per-class', '2', '--num-frames', '12', '--size', '64x48', '--mixed'])
    g = GOT10kDataset(data_root=str(tmp_path / 'g'), split='train')
    assert g.num_videos == 2 and all(12 <= g.get_len_per_video(i) <= 16 for i in range(2))
    assert cv2.imread(g.get_sequence(0)['frame_paths'][0]).shape == (48, 64, 3)
    assert not g.get_sequence(0)['visible'].all()  # leaves the frame
    lasot = LaSOTDataset(data_root=str(tmp_path / 'l'), ann_file='testing_set.txt')
    assert lasot.video_names == ['cat-2']
    # same seed, same bytes
    tool.main([str(tmp_path / 'g2'), '--layout', 'got10k', '--split', 'train', '--num-seqs', '2',
               '--num-frames', '12-16', '--size', '64x48', '--leave-frame'])
    for name in ('groundtruth.txt', 'absence.label', '00000005.jpg'):
        p1 = tmp_path / 'g' / 'train' / 'GOT-10k_Train_000002' / name
        p2 = tmp_path / 'g2' / 'train' / 'GOT-10k_Train_000002' / name
        assert p1.read_bytes() == p2.read_bytes()
