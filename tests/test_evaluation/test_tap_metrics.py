"""TAP-Vid metrics: hand-worked cases of both query modes (points leaving
the frame, tracks occluded everywhere after the query, a query on the last
frame), a loop-by-loop re-implementation from the definitions, the query
sampling of the reference, and TAPVidMetric / eval_tap.py."""
import json

import numpy as np
import pytest

from mmdropmae.evaluation.functional import (TAPVID_KEYS, average_tapvid_metrics,
                                             compute_tapvid_metrics)
from tests.utils import load_script


def _track(xs, y):
    return np.stack([np.asarray(xs, float), np.full(len(xs), float(y))], -1)


def _first_case():
    """T = 5. A: query t=0, visible everywhere, errors 0.5, 1.5, 4 (exactly
    the 4 px threshold: not within, '<'), 32 px; predicted occluded at t=4.
    B: query on frame 2, occluded everywhere after it; predicted visible at
    t=3 (a false positive), occluded at t=4."""
    q = np.array([[[0, 10, 10], [2, 30, 40]]], float)
    gt = np.stack([_track([10, 12, 14, 16, 18], 10), _track([40, 40, 40, 41, 42], 30)])[None]
    pred = np.stack([_track([10, 12.5, 15.5, 20, 50], 10),
                     _track([0, 0, 40, 41, 42], 30)])[None]
    gt_occ = np.array([[[0, 0, 0, 0, 0], [1, 1, 0, 1, 1]]], bool)
    pred_occ = np.array([[[0, 0, 0, 0, 1], [1, 1, 0, 0, 1]]], bool)
    return q, gt_occ, gt, pred_occ, pred


def test_first_mode_hand_worked():
    m = compute_tapvid_metrics(*_first_case(), query_mode='first')
    assert list(m) == list(TAPVID_KEYS)
    # evaluated: A t=1..4, B t=3..4 (6 points); OA: A 3/4, B 1/2
    np.testing.assert_allclose(m['occlusion_accuracy'], [4 / 6])
    # 4 visible evaluated points (all A); within 1: t1; 2: t1, t2; 4: t1, t2
    # (4.0 is not < 4); 8, 16: t1..t3
    for thr, frac in zip((1, 2, 4, 8, 16), (1 / 4, 2 / 4, 2 / 4, 3 / 4, 3 / 4)):
        np.testing.assert_allclose(m[f'pts_within_{thr}'], [frac])
    # Jaccard: TP / (4 + FP); FP = predicted visible and (occluded or far):
    # thr 1: TP 1, FP A t2, t3 + B t3 = 3; thr 2, 4: TP 2, FP 2; 8, 16: TP 3, FP 1
    for thr, jac in zip((1, 2, 4, 8, 16), (1 / 7, 2 / 6, 2 / 6, 3 / 5, 3 / 5)):
        np.testing.assert_allclose(m[f'jaccard_{thr}'], [jac])
    np.testing.assert_allclose(m['average_jaccard'], [(1 / 7 + 2 / 3 + 6 / 5) / 5])
    np.testing.assert_allclose(m['average_pts_within_thresh'], [0.55])


def _strided_case():
    """T = 4, W = 64. P: query on the last frame (t=3), visible everywhere;
    prediction 4 px off at t=1 and predicted occluded at t=2. Q: query t=0,
    leaves the frame at t=2 (x = 64.5 >= W: occluded, coordinates outside),
    predicted visible at t=2 (false positive), occluded at t=3."""
    q = np.array([[[3, 5, 23], [0, 30, 60]]], float)
    gt = np.stack([_track([20, 21, 22, 23], 5), _track([60, 62, 64.5, 67], 30)])[None]
    pred = np.stack([_track([20, 25, 22, 23], 5), _track([60, 62.5, 63.5, 63.9], 30)])[None]
    gt_occ = np.array([[[0, 0, 0, 0], [0, 0, 1, 1]]], bool)
    pred_occ = np.array([[[0, 0, 1, 0], [0, 0, 0, 1]]], bool)
    return q, gt_occ, gt, pred_occ, pred


def test_strided_mode_hand_worked():
    m = compute_tapvid_metrics(*_strided_case(), query_mode='strided')
    # evaluated: P t=0, 1, 2 (all but its query frame, which is the last);
    # Q t=1, 2, 3. OA: P 2/3 (t2 wrong), Q 2/3 (t2 wrong)
    np.testing.assert_allclose(m['occlusion_accuracy'], [4 / 6])
    # visible evaluated: P t0 (0 px), t1 (4 px), t2 (0 px), Q t1 (0.5 px)
    for thr, frac in zip((1, 2, 4, 8, 16), (3 / 4, 3 / 4, 3 / 4, 1, 1)):
        np.testing.assert_allclose(m[f'pts_within_{thr}'], [frac])
    # thr 1, 2, 4: TP P t0 + Q t1 = 2 (P t2 is predicted occluded), FP P t1
    # (far) + Q t2 (out of frame) = 2; thr 8, 16: TP 3, FP 1
    for thr, jac in zip((1, 2, 4, 8, 16), (1 / 3, 1 / 3, 1 / 3, 3 / 5, 3 / 5)):
        np.testing.assert_allclose(m[f'jaccard_{thr}'], [jac])
    np.testing.assert_allclose(m['average_jaccard'], [0.44])
    np.testing.assert_allclose(m['average_pts_within_thresh'], [0.85])


def test_first_mode_ignores_a_query_on_the_last_frame():
    m = compute_tapvid_metrics(*_strided_case(), query_mode='first')
    # P (query on the last frame) has nothing after it; Q: t=1..3
    np.testing.assert_allclose(m['occlusion_accuracy'], [2 / 3])
    for thr in (1, 2, 4, 8, 16):
        np.testing.assert_allclose(m[f'pts_within_{thr}'], [1.0])
        np.testing.assert_allclose(m[f'jaccard_{thr}'], [0.5])  # TP Q t1, FP Q t2


def _naive(q, gt_occ, gt, pred_occ, pred, mode):
    """The definitions, point by point (one value per video)."""
    out = {k: [] for k in TAPVID_KEYS}
    for b in range(q.shape[0]):
        ev, occ_ok = 0, 0
        within = {t: 0 for t in (1, 2, 4, 8, 16)}
        tp = dict(within)
        fp = dict(within)
        vis = 0
        for n in range(q.shape[1]):
            tq = int(round(q[b, n, 0]))
            for t in range(gt.shape[2]):
                if (mode == 'first' and t <= tq) or (mode == 'strided' and t == tq):
                    continue
                ev += 1
                occ_ok += pred_occ[b, n, t] == gt_occ[b, n, t]
                d2 = ((pred[b, n, t] - gt[b, n, t])**2).sum()
                vis += not gt_occ[b, n, t]
                for thr in within:
                    close = d2 < thr * thr
                    if close and not gt_occ[b, n, t]:
                        within[thr] += 1
                        tp[thr] += not pred_occ[b, n, t]
                    if not pred_occ[b, n, t] and (gt_occ[b, n, t] or not close):
                        fp[thr] += 1
        out['occlusion_accuracy'].append(occ_ok / ev)
        for thr in within:
            out[f'pts_within_{thr}'].append(within[thr] / vis)
            out[f'jaccard_{thr}'].append(tp[thr] / (vis + fp[thr]))
        out['average_jaccard'].append(np.mean([out[f'jaccard_{t}'][-1] for t in within]))
        out['average_pts_within_thresh'].append(
            np.mean([out[f'pts_within_{t}'][-1] for t in within]))
    return out


@pytest.mark.parametrize('mode', ['first', 'strided'])
def test_matches_a_point_by_point_implementation(mode):
    rng = np.random.default_rng(0)
    b, n, t = 3, 7, 9
    q = np.stack([rng.integers(0, t, (b, n)), rng.uniform(0, 256, (b, n)),
                  rng.uniform(0, 256, (b, n))], -1).astype(float)
    gt = rng.uniform(0, 256, (b, n, t, 2))
    pred = gt + rng.normal(0, 6, gt.shape)
    gt_occ = rng.random((b, n, t)) < 0.3
    pred_occ = np.where(rng.random((b, n, t)) < 0.8, gt_occ, ~gt_occ)
    m = compute_tapvid_metrics(q, gt_occ, gt, pred_occ, pred, mode)
    ref = _naive(q, gt_occ, gt, pred_occ, pred, mode)
    for k in TAPVID_KEYS:
        np.testing.assert_allclose(m[k], ref[k], err_msg=k)
    # trackwise: one value per track, and a one-track video gives the same
    tw = compute_tapvid_metrics(q, gt_occ, gt, pred_occ, pred, mode, get_trackwise_metrics=True)
    assert tw['average_jaccard'].shape == (b, n)
    one = compute_tapvid_metrics(q[:1, 2:3], gt_occ[:1, 2:3], gt[:1, 2:3], pred_occ[:1, 2:3],
                                 pred[:1, 2:3], mode)
    np.testing.assert_allclose(tw['occlusion_accuracy'][0, 2], one['occlusion_accuracy'][0])


def test_perfect_and_still_predictions():
    q, gt_occ, gt, _, _ = _first_case()
    m = compute_tapvid_metrics(q, gt_occ, gt, gt_occ, gt, 'strided')
    for k in TAPVID_KEYS:
        np.testing.assert_allclose(m[k], [1.0], err_msg=k)
    with pytest.raises(ValueError, match='Unknown query mode'):
        compute_tapvid_metrics(q, gt_occ, gt, gt_occ, gt, 'last')
    with pytest.raises(ValueError, match='pred_tracks'):
        compute_tapvid_metrics(q, gt_occ, gt, gt_occ, gt[..., :1], 'first')
    mean = average_tapvid_metrics([dict(m), {k: np.array([0.0]) for k in TAPVID_KEYS}])
    assert mean['average_jaccard'] == pytest.approx(0.5)


def test_query_sampling_as_tapnet():
    from mmdropmae.datasets.tap import sample_queries_first, sample_queries_strided
    occ = np.zeros((3, 7), bool)
    occ[1, :3] = True  # track 1 appears at frame 3
    occ[2] = True  # track 2 is never visible
    pts = np.arange(3 * 7 * 2, dtype=float).reshape(3, 7, 2)
    first = sample_queries_first(occ, pts)
    np.testing.assert_array_equal(
        first['query_points'], [[0, pts[0, 0, 1], pts[0, 0, 0]], [3, pts[1, 3, 1], pts[1, 3, 0]]])
    np.testing.assert_array_equal(first['target_points'], pts[:2])
    np.testing.assert_array_equal(first['occluded'], occ[:2])
    np.testing.assert_array_equal(first['trackgroup'], [0, 1])
    strided = sample_queries_strided(occ, pts, query_stride=5)
    # frame 0: track 0; frame 5: tracks 0 and 1 (ordered by frame, then track)
    np.testing.assert_array_equal(strided['query_points'][:, 0], [0, 5, 5])
    np.testing.assert_array_equal(strided['trackgroup'], [0, 0, 1])
    np.testing.assert_array_equal(strided['query_points'][2], [5, pts[1, 5, 1], pts[1, 5, 0]])
    np.testing.assert_array_equal(strided['target_points'], pts[[0, 0, 1]])
    np.testing.assert_array_equal(strided['occluded'], occ[[0, 0, 1]])


def _samples(case, mode, name):
    q, go, gt, po, pr = case
    return dict(video_name=name, query_mode=mode, query_points=q[0], gt_occluded=go[0],
                gt_tracks=gt[0], pred_occluded=po[0], pred_tracks=pr[0])


def test_tapvid_metric_and_eval_script(tmp_path):
    from mmdropmae.evaluation.metrics import TAPVidMetric
    out = tmp_path / 'preds'
    metric = TAPVidMetric(outfile_prefix=str(out))
    metric.process({}, [_samples(_strided_case(), 'strided', 'a'),
                        _samples(_first_case(), 'strided', 'b')])
    res = metric.compute_metrics(metric.results)
    a = compute_tapvid_metrics(*_strided_case(), query_mode='strided')
    b = compute_tapvid_metrics(*_first_case(), query_mode='strided')
    for k in TAPVID_KEYS:
        assert res[k] == pytest.approx((a[k][0] + b[k][0]) / 2), k
    saved = json.loads((out / 'metrics.json').read_text())
    assert saved['mean']['average_jaccard'] == pytest.approx(res['average_jaccard'])
    script = load_script('tools/analysis_tools/eval_tap.py')
    rows = script.main([str(out), '--labels', 'ours', '--out-dir', str(tmp_path / 'eval')])
    for k in TAPVID_KEYS:
        assert rows['ours']['mean'][k] == pytest.approx(res[k]), k
    # the saved query mode can be overridden
    rows = script.main([str(out), '--query-mode', 'first'])
    f = compute_tapvid_metrics(*_strided_case(), query_mode='first')
    assert rows['preds']['videos'][0]['average_jaccard'] == pytest.approx(f['average_jaccard'][0])
    (tmp_path / 'bad').mkdir()
    np.savez(tmp_path / 'bad' / 'v.npz', query_points=np.zeros((1, 3)))
    with pytest.raises(KeyError, match='v.npz'):
        script.evaluate_dir(str(tmp_path / 'bad'))
    with pytest.raises(KeyError, match='pred_tracks'):
        TAPVidMetric().process({}, [dict(video_name='x', query_mode='first',
                                         query_points=np.zeros((1, 3)))])
