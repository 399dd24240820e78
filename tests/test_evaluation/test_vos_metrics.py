"""Tests of the DAVIS / YouTube-VOS measures
(``mmdropmae.evaluation.functional.vos_metrics``) and ``VOSMetric``."""
import json
import math
import os.path as osp
import zipfile

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmdropmae.datasets.vos import (DAVISDataset, YouTubeVOSDataset, load_vos_mask,
                                    read_palette_mask)
from mmdropmae.evaluation.functional.vos_metrics import (
    GLOBAL_KEYS, boundary_precision_recall, boundary_radius, db_eval_boundary, db_eval_iou,
    db_statistics, disk, evaluate_sequence, format_vos_table, frame_object_scores, seg2bmap,
    sequence_object_records, summarize_vos)
from mmdropmae.evaluation.metrics import VOSMetric
from mmdropmae.registry import METRICS


def square(h, w, top, left, size):
    m = np.zeros((h, w), np.uint8)
    m[top:top + size, left:left + size] = 1
    return m


# --------------------------------------------------------------------- J
def test_iou_hand_worked():
    # 10x10 square vs the same square shifted 3 px right: overlap 7x10 = 70,
    # union 100 + 100 - 70 = 130.
    g, p = square(40, 40, 10, 10, 10), square(40, 40, 10, 13, 10)
    assert db_eval_iou(g, p) == pytest.approx(70 / 130)
    # 2x2 inside a 2x4: 4 / 8.
    a = np.zeros((5, 5), np.uint8)
    a[1:3, 1:5] = 1
    b = np.zeros((5, 5), np.uint8)
    b[1:3, 1:3] = 1
    assert db_eval_iou(a, b) == pytest.approx(0.5)
    # per-frame for (T, H, W)
    np.testing.assert_allclose(db_eval_iou(np.stack([a, a]), np.stack([b, a])), [0.5, 1.0])
    # void pixels are ignored
    void = np.zeros((5, 5), bool)
    void[1:3, 3:5] = True
    assert db_eval_iou(a, b, void) == pytest.approx(1.0)


def test_empty_mask_conventions():
    z = np.zeros((20, 30), np.uint8)
    m = square(20, 30, 5, 5, 6)
    # empty gt and empty prediction: J = F = 1 (DAVIS)
    assert db_eval_iou(z, z) == 1.0
    assert db_eval_boundary(z, z) == 1.0
    assert boundary_precision_recall(z, z) == (1.0, 1.0, 1.0)
    # object missed: P = 1, R = 0 -> F = 0
    assert db_eval_iou(m, z) == 0.0
    assert boundary_precision_recall(m, z) == (1.0, 0.0, 0.0)
    # false positive on an empty gt: P = 0, R = 1 -> F = 0
    assert db_eval_iou(z, m) == 0.0
    assert boundary_precision_recall(z, m) == (0.0, 1.0, 0.0)
    # per object in a frame: absent from both -> (1, 1)
    gt = np.zeros((20, 30), np.uint8)
    gt[m > 0] = 1
    assert frame_object_scores(gt, gt, [1, 2]) == {1: (1.0, 1.0), 2: (1.0, 1.0)}


# --------------------------------------------------------------------- F
def test_seg2bmap_square_outline():
    # The boundary of an s x s square is its closed 4s-pixel outline, half a
    # pixel up-left: rows/cols top-1 .. top+s-1.
    b = seg2bmap(square(40, 40, 10, 10, 10))
    assert b.sum() == 40
    outline = np.zeros((40, 40), bool)
    outline[9, 9:20] = outline[19, 9:20] = outline[9:20, 9] = outline[9:20, 19] = True
    np.testing.assert_array_equal(b, outline)
    # half plane: a single column, the bottom-right corner rule
    half = np.zeros((6, 8), np.uint8)
    half[:, :3] = 1
    bh = seg2bmap(half)
    assert bh[:, 2].all() and bh.sum() == 6


def test_disk_and_radius():
    np.testing.assert_array_equal(disk(1), [[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    assert disk(2).sum() == 13
    assert boundary_radius((480, 854), 0.008) == 8  # ceil(0.008 * 979.6)
    assert boundary_radius((40, 40), 0.008) == 1  # ceil(0.45)
    assert boundary_radius((40, 40), 3) == 3


def test_boundary_f_shifted_square_hand_worked():
    # gt outline G: rows 9 & 19 x cols 9..19, cols 9 & 19 x rows 10..18;
    # prediction shifted 3 px right: P = same with cols 12..22.
    g, p = square(40, 40, 10, 10, 10), square(40, 40, 10, 13, 10)
    # Radius 2 (disk: |d|^2 <= 4). P's top row cols 12..19 lie on G, 20 and
    # 21 are 1 and 2 px from G's corner, 22 is 3 px away: 10 of 11; bottom
    # row the same; P's left column (col 12, rows 10..18) reaches G's
    # top/bottom rows only from rows 10, 11, 17, 18: 4 of 9; P's right
    # column is 3 px from G: 0 of 9. Precision = 24/40; recall = 24/40 by
    # symmetry; F = 0.6.
    prec, rec, f = boundary_precision_recall(g, p, bound_th=2)
    assert (prec, rec, f) == pytest.approx((0.6, 0.6, 0.6))
    # Default tolerance on 40x40: ceil(0.008 * 56.6) = 1 px (cross): top row
    # 8 + 1 = 9 of 11, bottom 9, left column rows 10 and 18 = 2, right 0:
    # 20/40 = 0.5.
    assert boundary_precision_recall(g, p) == pytest.approx((0.5, 0.5, 0.5))
    assert db_eval_boundary(g, p) == pytest.approx(0.5)
    # A 3 px radius matches everything.
    assert db_eval_boundary(g, p, bound_th=3) == pytest.approx(1.0)
    # Asymmetric case: prediction = the gt square plus a far blob: recall 1,
    # precision = 40 / (40 + 16), F = 2PR / (P + R).
    p2 = g.copy()
    p2[30:34, 30:34] = 1
    prec, rec, f = boundary_precision_recall(g, p2, bound_th=2)
    assert prec == pytest.approx(40 / 56) and rec == 1.0
    assert f == pytest.approx(2 * (40 / 56) / (40 / 56 + 1))


def test_boundary_f_per_frame_and_torch():
    g, p = square(40, 40, 10, 10, 10), square(40, 40, 10, 13, 10)
    f = db_eval_boundary(np.stack([g, g]), np.stack([p, g]), bound_th=2)
    np.testing.assert_allclose(f, [0.6, 1.0])
    assert db_eval_boundary(torch.from_numpy(g), torch.from_numpy(p)) == pytest.approx(0.5)


# ------------------------------------------------------------ statistics
def test_db_statistics_hand_worked():
    v = [1.0, 0.9, 0.8, 0.4, 0.6, 0.2]
    mean, recall, decay = db_statistics(v)
    assert mean == pytest.approx(3.9 / 6)
    assert recall == pytest.approx(4 / 6)  # 1, .9, .8, .6 are > 0.5
    # bin edges round(linspace(1, 6, 5) + 1e-10) - 1 = [0, 1, 3, 4, 5]:
    # first bin v[0:2] -> .95, last bin v[4:6] -> .4
    assert decay == pytest.approx(0.95 - 0.4)
    # recall is strict: 0.5 does not count
    assert db_statistics([0.5, 0.5])[1] == 0.0
    # one frame: decay 0; empty: NaN
    assert db_statistics([0.7]) == pytest.approx((0.7, 1.0, 0.0))
    assert all(math.isnan(x) for x in db_statistics([]))
    # more than 256 frames: no uint8 wrap-around
    long = np.linspace(1, 0, 400)
    assert db_statistics(long)[2] == pytest.approx(
        np.mean(long[:101]) - np.mean(long[299:]), abs=1e-12)


def test_sequence_first_last_frames_and_late_object():
    # 6 frames; object 1 everywhere, object 2 enters at frame 2, object 3
    # vanishes after frame 3.
    T, H, W = 6, 20, 20
    gt = np.zeros((T, H, W), np.uint8)
    for t in range(T):
        gt[t, 2:8, 2:8] = 1
        if t >= 2:
            gt[t, 12:18, 2:8] = 2
        if t <= 3:
            gt[t, 2:8, 12:18] = 3
    pred = gt.copy()
    pred[1] = 0  # frame 1 wrong for objects 1 and 3 (2 not there yet)
    pred[0] = 0  # frame 0 is the input: ignored
    pred[5, 2:8, 12:18] = 3  # object 3 predicted after it vanished (last frame: ignored)
    pred[4, 2:8, 12:18] = 3  # ... and in frame 4: J = F = 0
    recs = {r['object_id']: r for r in evaluate_sequence(gt, pred, 'toy')}
    assert recs[1]['frames'] == [1, 2, 3, 4]
    assert recs[2]['frames'] == [3, 4]  # after its reference frame 2
    assert recs[3]['frames'] == [1, 2, 3, 4]
    np.testing.assert_allclose(recs[1]['J'], [0, 1, 1, 1])
    np.testing.assert_allclose(recs[2]['J'], [1, 1])
    np.testing.assert_allclose(recs[3]['J'], [0, 1, 1, 0])
    np.testing.assert_allclose(recs[3]['F'], [0, 1, 1, 0])
    assert recs[3]['J-Recall'] == 0.5
    # keep first and last frames
    recs = {r['object_id']: r for r in evaluate_sequence(gt, pred, 'toy', exclude_first=False,
                                                         exclude_last=False)}
    assert recs[1]['frames'] == [0, 1, 2, 3, 4, 5]
    assert recs[2]['frames'] == [2, 3, 4, 5]


def test_summary_is_mean_over_objects_and_seen_unseen():
    def rec(video, oid, j, f, cat=None):
        return sequence_object_records(video, {1: {oid: (j, f)}}, [oid], {oid: 0}, 3,
                                       categories={oid: cat})[0]

    records = [rec('a', 1, 1.0, 1.0, 'cat'), rec('a', 2, 0.0, 0.5, 'cat'),
               rec('b', 1, 0.5, 0.0, 'dog')]
    s = summarize_vos(records)
    # objects, not sequences, are averaged: J = (1 + 0 + .5) / 3
    assert s['J-Mean'] == pytest.approx(0.5)
    assert s['F-Mean'] == pytest.approx(0.5)
    assert s['J&F-Mean'] == pytest.approx(0.5)
    assert s['J-Recall'] == pytest.approx(1 / 3)
    assert list(s)[:7] == list(GLOBAL_KEYS)
    s = summarize_vos(records, seen_categories=['cat'])
    assert s['J-Seen'] == pytest.approx(0.5) and s['F-Seen'] == pytest.approx(0.75)
    assert s['J-Unseen'] == pytest.approx(0.5) and s['F-Unseen'] == pytest.approx(0.0)
    assert s['Overall'] == pytest.approx((0.5 + 0.75 + 0.5 + 0.0) / 4)
    # an object without evaluated frames is left out and counted
    empty = sequence_object_records('c', {2: {1: (0.0, 0.0)}}, [1], {1: 2}, 3)[0]
    s = summarize_vos(records + [empty])
    assert s['num_skipped_objects'] == 1 and s['J-Mean'] == pytest.approx(0.5)
    text = format_vos_table(s, records)
    assert 'J&F-Mean' in text and 'a_2' in text


# ------------------------------------------------------------- VOSMetric
def _samples_from_dataset(ds, predict):
    """Frame items of a dataset with ``pred_mask`` from ``predict(item, gt)``."""
    out = []
    for i in range(len(ds)):
        item = dict(ds[i])
        gt = load_vos_mask(item['gt_mask_path'], item['single_object']) \
            if item['gt_mask_path'] else None
        item['pred_mask'] = predict(item, gt)
        out.append(item)
    return out


def test_vos_metric_on_synthetic_davis(synthetic_davis_root, tmp_path):
    root, _ = synthetic_davis_root
    ds = DAVISDataset(str(root), split='val', test_mode=True)
    metric = METRICS.build(dict(type='VOSMetric', outfile_prefix=str(tmp_path / 'res')))
    samples = _samples_from_dataset(ds, lambda item, gt: gt)
    for s in samples:  # batch size 1, in dataset order
        metric.process({'data_samples': [None]}, [s])
    res = metric.evaluate(len(ds))
    for k in GLOBAL_KEYS:
        assert res[f'vos/{k}'] == pytest.approx(1.0 if 'Decay' not in k else 0.0)
    # the prediction was written in the DAVIS layout, ids kept
    first = samples[5]
    written = read_palette_mask(str(tmp_path / 'res' / first['video_name'] /
                                    f'{first["frame_name"]}.png'))
    np.testing.assert_array_equal(written, first['pred_mask'])
    assert osp.isfile(tmp_path / 'res' / 'vos_metrics.json')

    # "copy the first mask" baseline, delivered as sequence-level batches
    # of BaseDataElements with torch masks, in shuffled order.
    first_masks = {}
    for s in samples:
        if s['frame_id'] == 0:
            first_masks[s['video_name']] = s['pred_mask']
    metric = VOSMetric()
    rng = np.random.default_rng(0)
    for video in {s['video_name'] for s in samples}:
        frames = [s for s in samples if s['video_name'] == video]
        rng.shuffle(frames)
        elems = []
        for s in frames:
            meta = {k: v for k, v in s.items() if k not in ('pred_mask', )}
            elem = BaseDataElement(metainfo=meta)
            elem.pred_mask = torch.from_numpy(first_masks[video].astype(np.int64))
            elems.append(elem)
        metric.process({'inputs': [None]}, elems)
    res = metric.evaluate(2)  # 2 sequences = 2 data items
    assert 0 < res['vos/J&F-Mean'] < 0.95
    assert res['vos/J-Mean'] < 1 and res['vos/F-Mean'] < 1
    # every object of both sequences was evaluated, including the one that
    # enters mid-video
    names = {r['name'] for r in metric.per_object_results}
    assert {'val-000_1', 'val-000_2', 'val-000_3'} <= names
    late = next(r for r in metric.per_object_results if r['name'] == 'val-000_3')
    assert late['frames'][0] > 1  # evaluated only after its first appearance


def test_vos_metric_davis2016_binarises(synthetic_davis_root):
    root, _ = synthetic_davis_root
    ds = DAVISDataset(str(root), year='2016', split='val', test_mode=True)
    assert ds[0]['object_ids'] == [1]
    metric = VOSMetric()
    # predict the multi-object ids: binarised on both sides -> perfect
    samples = _samples_from_dataset(
        ds, lambda item, gt: load_vos_mask(item['gt_mask_path']) * 3)
    metric.process({'data_samples': [None] * len(samples)}, samples)
    res = metric.evaluate(len(ds))
    assert res['vos/J&F-Mean'] == pytest.approx(1.0)


def test_vos_metric_youtube_seen_unseen_and_submission(synthetic_ytvos_root, tmp_path):
    root, info = synthetic_ytvos_root
    dense = YouTubeVOSDataset(str(root), split='valid', ann_subdir='Annotations_dense',
                              test_mode=True)
    metric = VOSMetric(train_meta_file=str(root / 'train' / 'meta.json'),
                       outfile_prefix=str(tmp_path / 'yt'), submission_layout='youtube_vos',
                       zip_results=True)
    samples = _samples_from_dataset(dense, lambda item, gt: gt)
    for s in samples:
        metric.process({'data_samples': [None]}, [s])
    res = metric.evaluate(len(dense))
    for k in ('J-Seen', 'F-Seen', 'J-Unseen', 'F-Unseen', 'Overall'):
        assert res[f'vos/{k}'] == pytest.approx(1.0)
    cats = {r['category'] for r in metric.per_object_results}
    assert 'star' in cats  # the unseen category was evaluated
    s = samples[3]
    assert osp.isfile(tmp_path / 'yt' / 'Annotations' / s['video_name'] /
                      f'{s["frame_name"]}.png')
    with zipfile.ZipFile(str(tmp_path / 'yt') + '.zip') as z:
        assert f'Annotations/{s["video_name"]}/{s["frame_name"]}.png' in z.namelist()
    with open(tmp_path / 'yt' / 'vos_metrics.json') as f:
        assert json.load(f)['summary']['J-Mean'] == pytest.approx(1.0)

    # valid with sparse annotations: format only, nothing evaluated
    sparse = YouTubeVOSDataset(str(root), split='valid', test_mode=True)
    metric = VOSMetric(outfile_prefix=str(tmp_path / 'sub'), submission_layout='youtube_vos',
                       format_only=True)
    for i in range(len(sparse)):
        item = dict(sparse[i])
        item['pred_mask'] = np.zeros((item['height'], item['width']), np.uint8)
        metric.process({'data_samples': [None]}, [item])
    assert metric.evaluate(len(sparse)) == {}
    assert len(list((tmp_path / 'sub' / 'Annotations').rglob('*.png'))) == len(sparse)


def test_vos_metric_errors():
    metric = VOSMetric()
    with pytest.raises(KeyError, match='pred_mask'):
        metric.process({}, [dict(video_name='a', frame_id=0)])
    with pytest.raises(ValueError, match='original frame size'):
        metric.process({}, [dict(video_name='a', frame_id=1, pred_mask=np.zeros((4, 4)),
                                 gt_mask=np.zeros((5, 4)))])
    with pytest.raises(ValueError, match='integer object ids'):
        metric.process({}, [dict(video_name='a', frame_id=1, pred_mask=np.full((4, 4), 0.3),
                                 gt_mask=np.zeros((4, 4)))])
    with pytest.raises(ValueError, match='outfile_prefix'):
        VOSMetric(format_only=True)


def test_vos_metric_without_metainfo():
    # Bare samples (video_id, frame_id, masks): objects and first frames are
    # taken from the ground truth; frames arrive in any order.
    gt = np.zeros((5, 12, 12), np.uint8)
    for t in range(5):
        gt[t, 1:5, 1 + t:5 + t] = 1
    gt[3:, 8:11, 8:11] = 2  # enters at frame 3
    metric = VOSMetric()
    for t in [4, 2, 0, 3, 1]:
        pred = gt[t].copy()
        pred[pred == 2] = 0  # object 2 never found
        pred[0, 0] = 7  # a stray id that is not an object: ignored
        metric.process({}, [dict(video_id=3, frame_id=t, pred_mask=pred, gt_mask=gt[t])])
    res = metric.evaluate(5)
    recs = {r['object_id']: r for r in metric.per_object_results}
    assert set(recs) == {1, 2}
    assert recs[1]['frames'] == [1, 2, 3] and recs[1]['J-Mean'] == pytest.approx(1.0)
    # object 2 is only evaluated in frame ... none: reference 3, last frame 4
    assert recs[2]['frames'] == []
    assert res['vos/J-Mean'] == pytest.approx(1.0)
