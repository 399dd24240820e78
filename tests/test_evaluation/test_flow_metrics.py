"""Optical-flow metrics: hand-worked cases of each protocol (RAFT
``evaluate.py``), and an independent torch re-implementation of RAFT's
``validate_sintel`` / ``validate_kitti`` loops on random data."""
import math

import numpy as np
import pytest
import torch

from mmdropmae.evaluation.functional.flow_metrics import (end_point_error, evaluate_flow,
                                                          flow_image_stats, format_flow_table,
                                                          summarize_flow, zero_flow_stats)


def _flow(rows):
    return np.asarray(rows, np.float64)


def test_sintel_protocol_pools_pixels_hand_worked():
    # image A: EPE 0 and 5 (gt (3, 4), pred 0); image B: EPE 1
    gt_a, pred_a = _flow([[[0, 0], [3, 4]]]), np.zeros((1, 2, 2))
    gt_b, pred_b = _flow([[[1, 0]]]), np.zeros((1, 1, 2))
    res = evaluate_flow([pred_a, pred_b], [gt_a, gt_b], protocol='sintel')
    # pooled over the 3 pixels: (0 + 5 + 1) / 3 = 2 (the per-image mean would be 1.75)
    assert res['epe'] == pytest.approx(2.0)
    assert res['px1'] == pytest.approx(1 / 3)  # only EPE 0: EPE == 1 is not < 1
    assert res['px3'] == pytest.approx(2 / 3)  # EPE 0 and 1
    assert res['px5'] == pytest.approx(2 / 3)  # EPE == 5 is not < 5
    assert res['fl_all'] == pytest.approx(1 / 3)  # EPE 5 > 3 and > 5% of |gt| = 0.25
    assert res['num_images'] == 2
    # chairs is the same computation; a valid mask is ignored (RAFT)
    valid = [np.zeros((1, 2)), np.zeros((1, 1))]
    chairs = evaluate_flow([pred_a, pred_b], [gt_a, gt_b], valid, protocol='chairs')
    assert chairs == res


def test_kitti_protocol_hand_worked():
    # image A (2x2): p0 gt (10, 0) pred (14, 0): EPE 4 > 3 and > 0.5 -> outlier
    #                p1 gt (100, 0) pred (104, 0): EPE 4 <= 5% of 100 -> inlier
    #                p2 invalid (pred far off, must not count)
    #                p3 gt 0 pred 0: EPE 0
    gt_a = _flow([[[10, 0], [100, 0]], [[0, 0], [0, 0]]])
    pred_a = _flow([[[14, 0], [104, 0]], [[50, 50], [0, 0]]])
    valid_a = np.array([[1, 1], [0, 1]], np.uint8)
    # image B: gt (0, 3) pred 0: EPE 3 (not > 3: inlier)
    gt_b, pred_b, valid_b = _flow([[[0, 3]]]), np.zeros((1, 1, 2)), np.ones((1, 1))
    res = evaluate_flow([pred_a, pred_b], [gt_a, gt_b], [valid_a, valid_b], protocol='kitti')
    # mean of the per-image means: ((4 + 4 + 0) / 3 + 3) / 2 = 17 / 6
    # (pooled over pixels it would be 11 / 4)
    assert res['epe'] == pytest.approx(17 / 6)
    assert res['fl_all'] == pytest.approx(1 / 4)  # pooled over the 4 valid pixels
    assert res['px1'] == pytest.approx(1 / 4)
    assert res['px3'] == pytest.approx(1 / 4)
    assert res['px5'] == pytest.approx(1.0)
    # an image without valid pixels has no mean EPE and is left out
    empty = evaluate_flow([pred_a, pred_b, pred_b], [gt_a, gt_b, gt_b + 9],
                          [valid_a, valid_b, np.zeros((1, 1))], protocol='kitti')
    assert empty['epe'] == pytest.approx(17 / 6) and empty['num_images'] == 3


def test_zero_magnitude_outlier_rule():
    # |gt| = 0: EPE 4 > 3 is an outlier (RAFT: 4 / 0 = inf > 0.05)
    s = flow_image_stats(_flow([[[4, 0]]]), np.zeros((1, 1, 2)), protocol='kitti')
    assert s['n_out'] == 1
    s = flow_image_stats(np.zeros((1, 1, 2)), np.zeros((1, 1, 2)), protocol='kitti')
    assert s['n_out'] == 0 and s['epe_mean'] == 0


def _raft_validate(preds, gts, valids):
    """RAFT evaluate.py's loops, in torch, on (2, H, W) tensors."""
    epe_list = []
    for p, g in zip(preds, gts):
        epe = torch.sum((p - g)**2, dim=0).sqrt()
        epe_list.append(epe.view(-1).numpy())
    epe_all = np.concatenate(epe_list)
    sintel = dict(epe=np.mean(epe_all), px1=np.mean(epe_all < 1), px3=np.mean(epe_all < 3),
                  px5=np.mean(epe_all < 5))
    out_list, kepe = [], []
    for p, g, v in zip(preds, gts, valids):
        epe = torch.sum((p - g)**2, dim=0).sqrt().view(-1)
        mag = torch.sum(g**2, dim=0).sqrt().view(-1)
        val = v.view(-1) >= 0.5
        out = ((epe > 3.0) & ((epe / mag) > 0.05)).float()
        kepe.append(epe[val].mean().item())
        out_list.append(out[val].numpy())
    kitti = dict(epe=np.mean(kepe), fl_all=np.mean(np.concatenate(out_list)))
    return sintel, kitti


def test_matches_raft_loops_on_random_data():
    rng = np.random.default_rng(0)
    preds, gts, valids = [], [], []
    for h, w in [(7, 9), (5, 11), (12, 4)]:
        gts.append(rng.normal(0, 8, (h, w, 2)))
        preds.append(gts[-1] + rng.normal(0, 3, (h, w, 2)))
        valids.append((rng.random((h, w)) < 0.7).astype(np.float32))
    t = [torch.from_numpy(x.transpose(2, 0, 1)) for x in preds]
    g = [torch.from_numpy(x.transpose(2, 0, 1)) for x in gts]
    v = [torch.from_numpy(x) for x in valids]
    sintel_ref, kitti_ref = _raft_validate(t, g, v)
    sintel = evaluate_flow(preds, gts, protocol='sintel')
    kitti = evaluate_flow(preds, gts, valids, protocol='kitti')
    for k, val in sintel_ref.items():
        assert sintel[k] == pytest.approx(val, rel=1e-9), k
    assert kitti['epe'] == pytest.approx(kitti_ref['epe'], rel=1e-9)
    assert kitti['fl_all'] == pytest.approx(kitti_ref['fl_all'], rel=1e-9)
    # the two protocols really differ here (image means vs pooled pixels)
    assert not math.isclose(kitti['epe'], sintel['epe'])


def test_zero_flow_baseline_and_errors():
    gt = _flow([[[3, 4], [0, 0]]])
    z = summarize_flow([zero_flow_stats(gt)], 'sintel')
    assert z['epe'] == pytest.approx(2.5)
    assert end_point_error(gt, gt).max() == 0
    with pytest.raises(ValueError, match='protocol'):
        flow_image_stats(gt, gt, protocol='middlebury')
    with pytest.raises(ValueError, match='differ in shape'):
        end_point_error(gt, gt[:, :1])
    with pytest.raises(ValueError, match=r'\(H, W, 2\)'):
        end_point_error(gt[..., 0], gt[..., 0])
    table = format_flow_table(z, 'sintel')
    assert 'EPE' in table and '2.5000' in table
