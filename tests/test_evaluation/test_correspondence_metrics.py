"""Hand-worked PCK and mIoU cases."""
import numpy as np
import pytest

from mmdropmae.evaluation.metrics import PCKMetric, mIoUMetric
from mmdropmae.evaluation.metrics.correspondence_metric import pck_correct


def test_pck_hand_worked():
    # gt joints box: w = 10, h = 20 -> max side 20: thresholds 2 (@0.1), 4 (@0.2)
    gt = np.array([[0., 0.], [10., 0.], [0., 20.]])
    pred = gt + np.array([[1., 0.], [0., 3.], [3., 4.]])  # distances 1, 3, 5
    c, v = pck_correct(pred, gt, 0.1)
    assert c.tolist() == [True, False, False] and v.all()
    metric = PCKMetric(alphas=(0.1, 0.2))
    metric.process(None, [
        dict(video_name='a', frame_id=0, pred_keypoints=gt + 100, gt_keypoints=gt),  # skipped
        dict(video_name='a', frame_id=1, pred_keypoints=pred, gt_keypoints=gt),
    ])
    res = metric.compute_metrics(metric.results)
    assert res['PCK@0.1'] == pytest.approx(1 / 3)
    assert res['PCK@0.2'] == pytest.approx(2 / 3)


def test_pck_strict_threshold_and_invalid_joints():
    gt = np.array([[0., 0.], [10., 0.], [np.nan, np.nan]])  # box 10 x 0 -> 10
    pred = np.array([[1., 0.], [10., 2.], [0., 0.]])  # 1 == 0.1 * 10: not < -> wrong
    c, v = pck_correct(pred, gt, 0.1)
    assert c.tolist() == [False, False, False] and v.tolist() == [True, True, False]
    c, _ = pck_correct(pred, gt, 0.2)
    assert c.tolist() == [True, False, False]  # 2 == 0.2 * 10: not < either


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
