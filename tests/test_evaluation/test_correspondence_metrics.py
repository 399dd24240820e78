"""Hand-worked PCK and mIoU cases."""
import numpy as np
import pytest

from mmdropmae.evaluation.metrics import PCKMetric, mIoUMetric
from mmdropmae.evaluation.metrics.correspondence_metric import (pck_correct, pck_distances,
                                                                pck_reference)


# PCK follows CRW's JHMDB evaluation (ajabri/videowalk code/eval/eval_pck.py,
# identical to Liusifei/UVC eval_pck.py): reference 0.6 x the diagonal of the
# frame's gt-joint box, d / ref <= alpha, frame 0 skipped, the mean over joints
# of the per-joint PCK pooled over all frames of all videos. The former
# convention (longer box side, '<', pooled over all joints) fails every test.

def test_pck_reference_is_crw_box_diagonal_and_threshold_inclusive():
    # box 30 x 40: diagonal 50 -> ref 0.6 * 50 = 30; thresholds 3 (@0.1), 6 (@0.2)
    # (the longer side 40 would give 4 and 8)
    gt = np.array([[0., 0.], [30., 0.], [0., 40.]])
    assert pck_reference(gt, np.ones(3, bool)) == 30.0
    pred = gt + np.array([[3., 0.], [0., 3.5], [6., 0.]])  # d = 3, 3.5, 6
    dnorm, valid = pck_distances(pred, gt)
    np.testing.assert_allclose(dnorm, [0.1, 3.5 / 30, 0.2])
    c, v = pck_correct(pred, gt, 0.1)
    # joint 0 on the boundary (3 / 30 == 0.1): correct with '<='; joint 1:
    # 3.5 > 3 wrong (the longer side would accept it, 3.5 < 4)
    assert c.tolist() == [True, False, False] and v.all()
    c, _ = pck_correct(pred, gt, 0.2)
    assert c.tolist() == [True, True, True]  # joint 2 on the boundary 6 / 30 == 0.2


def test_pck_box_and_visibility_use_evaluated_joints_only():
    # joint 2 is far away; its prediction is CRW's "invisible" (x < 0), so it
    # is neither scored nor part of the box: ref = 0.6 * |(30, 40)| = 30
    gt = np.array([[0., 0.], [30., 40.], [300., 400.]])
    pred = np.array([[10., 0.], [30., 46.], [-1., 5.]])  # d = 10, 6
    dnorm, valid = pck_distances(pred, gt)
    assert valid.tolist() == [True, True, False]
    np.testing.assert_allclose(dnorm[:2], [10 / 30, 0.2])
    c, _ = pck_correct(pred, gt, 0.2)
    assert c.tolist() == [False, True, False]  # with joint 2 in the box: ref 300, both right
    # non-finite ground truth or prediction: skipped as well
    _, valid = pck_distances(np.array([[0., 0.], [np.nan, 1.], [5., 5.]]),
                             np.array([[1., 1.], [2., 2.], [np.inf, 0.]]))
    assert valid.tolist() == [True, False, False]
    # a single evaluated joint: box of size 0 -> d / 0, never correct (CRW)
    c, v = pck_correct(np.array([[0., 0.], [-1., 0.]]), np.array([[0., 0.], [5., 5.]]), 0.5)
    assert v.tolist() == [True, False] and not c.any()


def test_pck_mean_over_joints_not_pooled():
    # 3 joints, frames 0..3; frame 0 (given) carries a wrong prediction and is skipped.
    # joints 0, 1: exact in frames 1-3; joint 2: only annotated in frame 1, wrong there.
    # per joint: PCK_0 = PCK_1 = 1, PCK_2 = 0 -> mean 2/3 (pooled would be 6/7)
    gt = np.array([[0., 0.], [30., 40.], [0., 40.]])
    far = gt + 100.
    samples = [dict(video_name='a', frame_id=0, pred_keypoints=far, gt_keypoints=gt)]
    for t in (1, 2, 3):
        g = gt.copy()
        if t > 1:
            g[2] = np.nan
        p = g.copy()
        p[2] = far[2]
        samples.append(dict(video_name='a', frame_id=t, pred_keypoints=p, gt_keypoints=g))
    metric = PCKMetric(alphas=(0.1, 0.2))
    metric.process(None, samples)
    res = metric.compute_metrics(metric.results)
    assert res['PCK@0.1'] == pytest.approx(2 / 3) and res['PCK@0.2'] == pytest.approx(2 / 3)
    np.testing.assert_allclose(metric.per_joint_pck[0.2], [1., 1., 0.])
    # frame 0 scored on request: joints 0 and 1 get one wrong frame each
    metric = PCKMetric(alphas=(0.2, ), exclude_first=False)
    metric.process(None, samples)
    res = metric.compute_metrics(metric.results)
    assert res['PCK@0.2'] == pytest.approx((3 / 4 + 3 / 4 + 0) / 3)


def _pck_loops(videos, alpha):
    """An independent loop-by-loop reading of CRW's eval_pck.py: per video,
    per frame k >= 1, box over the visible joints, per-joint lists of d / box,
    per-joint fraction <= alpha, mean over joints."""
    dist = {}
    for pred, gt in videos:  # (T, J, 2) each
        for k in range(1, len(gt)):
            vis = [j for j in range(gt.shape[1]) if pred[k, j, 0] >= 0]
            xs = [gt[k, j, 0] for j in vis]
            ys = [gt[k, j, 1] for j in vis]
            box = 0.6 * np.hypot(max(xs + [-1]) - min(xs + [1e6]),
                                 max(ys + [-1]) - min(ys + [1e6]))
            for j in vis:
                d = np.hypot(*(pred[k, j] - gt[k, j]))
                dist.setdefault(j, []).append(d / box)
    return np.mean([np.mean(np.array(v) <= alpha) for _, v in sorted(dist.items())])


def test_pck_matches_crw_loops_on_random_videos():
    rng = np.random.default_rng(0)
    videos, samples = [], []
    for i, n in enumerate((5, 8, 3)):
        gt = rng.uniform(0, 120, (n, 15, 2))
        pred = gt + rng.normal(0, 8, gt.shape)
        pred[rng.random((n, 15)) < 0.1, 0] = -1.  # "invisible" joints
        videos.append((pred, gt))
        samples += [dict(video_name=str(i), frame_id=t, pred_keypoints=pred[t],
                         gt_keypoints=gt[t]) for t in range(n)]
    metric = PCKMetric(alphas=(0.05, 0.1, 0.2))
    metric.process(None, samples)
    res = metric.compute_metrics(metric.results)
    for a in (0.05, 0.1, 0.2):
        assert res[f'PCK@{a:g}'] == pytest.approx(_pck_loops(videos, a), abs=1e-12)
    assert 0.1 < res['PCK@0.1'] < 0.9  # a non-trivial case


def test_miou_hand_worked():
    metric = mIoUMetric(num_classes=4)
    gt1 = np.array([[0, 0], [1, 2]])
    pred1 = np.array([[0, 1], [1, 2]])
    gt2 = np.zeros((2, 2), int)
    gt2[0, 0] = 255  # ignored
    pred2 = np.array([[3, 0], [0, 0]])
    metric.process(None, [dict(frame_id=0, pred_mask=pred1, gt_mask=gt1),
                          dict(frame_id=1, pred_mask=pred2, gt_mask=gt2)])
    res = metric.compute_metrics(metric.results)
    # class 0: TP 4, FN 1 -> 4/5; class 1: TP 1, FP 1 -> 1/2; class 2: 1;
    # class 3: never in gt, predicted only on the ignored pixel -> excluded
    assert res['mIoU'] == pytest.approx((4 / 5 + 1 / 2 + 1) / 3)
    assert np.isnan(metric.per_class_iou[3])


def test_miou_exclude_first_and_shape_check():
    metric = mIoUMetric(num_classes=2, exclude_first=True)
    metric.process(None, [dict(frame_id=0, pred_mask=np.zeros((2, 2)), gt_mask=np.ones((2, 2))),
                          dict(frame_id=1, pred_mask=np.ones((2, 2)), gt_mask=np.ones((2, 2)))])
    assert metric.compute_metrics(metric.results)['mIoU'] == 1.0
    with pytest.raises(ValueError, match='differ'):
        metric.process(None, [dict(frame_id=1, pred_mask=np.ones((2, 3)),
                                   gt_mask=np.ones((2, 2)))])
