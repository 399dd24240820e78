"""Hand-worked SOT metric cases, one per convention.

Boxes are x, y, w, h. Ground truth G = (0, 0, 10, 10) (pixels 0..9, centre
4.5, 4.5 in the pixel-inclusive convention). Predictions used below:

====================  ===========  =================  ==================
prediction             IoU with G   centre error (px)  normalised (/10)
====================  ===========  =================  ==================
(0, 0, 10, 5)          50/100=0.5   |(4.5,2)-G|=2.5    0.25
(5, 0, 10, 10)         50/150=1/3   5                  0.5
(20, 0, 10, 10)        0            20 (exactly)       2.0
====================  ===========  =================  ==================
"""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement, InstanceData

from mmdropmae.evaluation.functional import sot_metrics as F
from mmdropmae.evaluation.functional.sot_results import (SOTResultError, read_sot_result,
                                                         result_file_path,
                                                         sequence_result_done,
                                                         write_sot_result)
from mmdropmae.evaluation.metrics import GOT10kMetric, OPEMetric
from mmdropmae.registry import METRICS

G = [0, 0, 10, 10]
SEQ_A_GT = np.array([G] * 4, float)
SEQ_A_PRED = np.array([[50, 50, 10, 10],  # frame 0: replaced by the gt -> IoU 1
                       [0, 0, 10, 5],     # IoU 0.5
                       [5, 0, 10, 10],    # IoU 1/3
                       [20, 0, 10, 10]],  # IoU 0, centre error exactly 20
                      float)


def test_iou_and_centre_error_by_hand():
    np.testing.assert_allclose(F.iou_pixel(SEQ_A_PRED[1:], SEQ_A_GT[1:]), [0.5, 1 / 3, 0])
    np.testing.assert_allclose(F.iou_continuous(SEQ_A_PRED[1:], SEQ_A_GT[1:]), [0.5, 1 / 3, 0])
    np.testing.assert_allclose(F.center_error(SEQ_A_PRED[1:], SEQ_A_GT[1:]), [2.5, 5, 20])
    np.testing.assert_allclose(F.center_error(SEQ_A_PRED[1:], SEQ_A_GT[1:], normalized=True),
                               [0.25, 0.5, 2.0])
    # identical boxes: exactly 1 (clipped), even for non-integer coordinates
    b = np.array([[0.1, 0.7, 0.3, 3.3]])
    assert F.iou_pixel(b, b)[0] == 1.0
    # GOT-10k bound: pred (15,0,10,10) vs gt (10,0,10,10) in a 20x20 image
    p, g = np.array([[15., 0, 10, 10]]), np.array([[10., 0, 10, 10]])
    np.testing.assert_allclose(F.iou_continuous(p, g), [50 / 150])
    np.testing.assert_allclose(F.iou_continuous(p, g, bound=(20, 20)), [50 / 100])
    assert F.iou_continuous(np.array([[np.nan] * 4]), g)[0] == 0.0
    assert len(F.SUCCESS_THRESHOLDS) == 21 and F.SUCCESS_THRESHOLDS[10] == 0.5


def test_ope_success_strict_threshold_and_auc():
    r = F.sequence_ope(SEQ_A_PRED, SEQ_A_GT)
    # IoUs 1, 0.5, 1/3, 0 over 4 frames (first frame counted as the gt)
    expected = np.array([0.75] * 7 + [0.5] * 3 + [0.25] * 10 + [0.0])
    np.testing.assert_allclose(r['success'], expected)
    assert r['success'][10] == 0.25  # IoU 0.5 is not > 0.5
    assert r['success'][20] == 0.0  # IoU 1 is not > 1
    assert r['success'].mean() == pytest.approx(9.25 / 21)
    # precision: errors 0, 2.5, 5, 20 -> `<=`: 20 px counts at 20, not at 19
    assert r['precision'][20] == 1.0 and r['precision'][19] == 0.75
    assert r['precision'][2] == 0.25 and r['precision'][3] == 0.5
    # normalised: 0, 0.25, 0.5, 2.0 -> at 0.20 only frame 0; at 0.25 two frames
    assert r['norm_precision'][20] == 0.25 and r['norm_precision'][25] == 0.5
    assert r['num_frames'] == 4 and r['mean_iou'] == pytest.approx((1 + .5 + 1 / 3) / 4)


def test_ope_first_frame_conventions():
    # 'exclude': IoUs 0.5, 1/3, 0 over 3 frames
    r = F.sequence_ope(SEQ_A_PRED, SEQ_A_GT, first_frame='exclude')
    assert r['success'].mean() == pytest.approx((7 * 2 / 3 + 3 * 1 / 3) / 21)
    # 'pred': frame 0 scored as predicted (IoU 0, error 50*sqrt2) -> 2/4 at t=0
    r = F.sequence_ope(SEQ_A_PRED, SEQ_A_GT, first_frame='pred')
    assert r['success'][0] == 0.5 and r['precision'][20] == 0.75


def test_ope_absent_frames_fail_vs_exclude():
    vis = np.array([True, True, False, True])  # frame 2 absent
    fail = F.sequence_ope(SEQ_A_PRED, SEQ_A_GT, vis, absent='fail')
    # remaining IoUs 1, 0.5, 0; denominator 4 (LaSOT)
    np.testing.assert_allclose(fail['success'], [0.5] * 10 + [0.25] * 10 + [0.0])
    assert fail['success'].mean() == pytest.approx(7.5 / 21)
    assert fail['precision'][20] == 0.75 and fail['num_frames'] == 4
    excl = F.sequence_ope(SEQ_A_PRED, SEQ_A_GT, vis, absent='exclude')
    # denominator 3 (pytracking default)
    np.testing.assert_allclose(excl['success'], [2 / 3] * 10 + [1 / 3] * 10 + [0.0])
    assert excl['success'].mean() == pytest.approx(10 / 21)
    assert excl['precision'][20] == 1.0 and excl['num_frames'] == 3
    # a zero-size gt box is treated like an absent frame
    gt = SEQ_A_GT.copy()
    gt[2] = [3, 3, 0, 0]
    z = F.sequence_ope(SEQ_A_PRED, gt, absent='exclude')
    np.testing.assert_allclose(z['success'], excl['success'])
    assert F.sequence_ope(SEQ_A_PRED, SEQ_A_GT, np.zeros(4, bool)) is None


def test_ope_invalid_predictions_take_previous_box():
    pred = SEQ_A_PRED.copy()
    pred[2] = [np.nan] * 4  # -> frame 1's box (IoU 0.5)
    pred[3] = [1, 1, 0, 5]  # zero width -> again frame 1's box
    r = F.sequence_ope(pred, SEQ_A_GT)
    assert r['success'][0] == 1.0 and r['success'][10] == 0.25


def test_ope_sequence_averaged():
    gt_b = np.array([G, G], float)
    res = F.evaluate_ope([SEQ_A_PRED, gt_b.copy()], [SEQ_A_GT, gt_b])
    # A: 9.25/21, B (perfect): 20/21 -> mean of the two sequences
    assert res['auc'] == pytest.approx((9.25 / 21 + 20 / 21) / 2)
    assert res['precision'] == pytest.approx(1.0)
    assert res['norm_precision'] == pytest.approx((0.25 + 1) / 2)
    assert res['num_sequences'] == 2
    perfect = F.evaluate_ope([SEQ_A_GT.copy()], [SEQ_A_GT])
    assert perfect['auc'] == pytest.approx(20 / 21)
    assert F.ope_preset('LaSOT') == ('fail', 'gt') and F.ope_preset('tnl2k') == ('exclude', 'gt')


# GOT-10k: 20x20 images; frame 0 and invisible frames excluded; frame-averaged
GOT_GT_1 = np.array([G, G, G, G, [10, 0, 10, 10], G], float)
GOT_PRED_1 = np.array([[5, 5, 3, 3],        # frame 0: excluded
                       [0, 0, 10, 5],        # 0.5
                       [5, 0, 10, 10],       # 1/3
                       [0, 0, 10, 10],       # 1
                       [15, 0, 10, 10],      # clipped to (15,0,5,10): 0.5 (1/3 unclipped)
                       [50, 50, 1, 1]], float)  # frame 5 invisible: excluded
GOT_VIS_1 = np.array([True, True, True, True, True, False])
GOT_GT_2 = np.array([G, G, G], float)
GOT_PRED_2 = np.array([[0, 0, 1, 1], G, [30, 30, 5, 5]], float)  # IoUs -, 1, 0


def test_got10k_by_hand():
    ious = F.sequence_got10k_ious(GOT_PRED_1, GOT_GT_1, GOT_VIS_1, bound=(20, 20))
    np.testing.assert_allclose(ious, [0.5, 1 / 3, 1, 0.5], atol=1e-12)
    res = F.evaluate_got10k([GOT_PRED_1, GOT_PRED_2], [GOT_GT_1, GOT_GT_2],
                            [GOT_VIS_1, np.ones(3, bool)], [(20, 20), (20, 20)])
    # frame-averaged over [0.5, 1/3, 1, 0.5, 1, 0] (sequence mean would be 0.5417)
    assert res['ao'] == pytest.approx((0.5 + 1 / 3 + 1 + 0.5 + 1 + 0) / 6)
    assert res['sr50'] == pytest.approx(2 / 6)  # 0.5 is not > 0.5
    assert res['sr75'] == pytest.approx(2 / 6)
    assert res['num_frames'] == 6 and len(res['success_curve']) == 101
    np.testing.assert_allclose(res['per_sequence_ao'], [(0.5 + 1 / 3 + 1 + 0.5) / 4, 0.5])
    no_bound = F.evaluate_got10k([GOT_PRED_1], [GOT_GT_1], [GOT_VIS_1])
    assert no_bound['ao'] == pytest.approx((0.5 + 1 / 3 + 1 + 1 / 3) / 4)
    perfect = F.evaluate_got10k([GOT_GT_1.copy()], [GOT_GT_1], [GOT_VIS_1])
    assert perfect['ao'] == pytest.approx(1.0) and perfect['sr75'] == 1.0


# ----------------------------------------------------------- MMEngine metrics
def _xyxy(b):
    b = np.asarray(b, float)
    return np.array([b[0], b[1], b[0] + b[2], b[1] + b[3]])


def _dict_samples(video_id, name, preds, gts, visible=None, shape=None, has_gt=True):
    out = []
    for f, (p, g) in enumerate(zip(preds, gts)):
        s = dict(video_id=video_id, video_name=name, frame_id=f, video_length=len(preds),
                 pred_bbox=_xyxy(p), gt_bbox=_xyxy(g) if has_gt or f == 0 else np.full(4, np.nan),
                 visible=True if visible is None else bool(visible[f]), time=0.01)
        if shape is not None:
            s['ori_shape'] = shape
        out.append(s)
    return out


def _element_samples(video_id, name, preds, gts, shape=None):
    out = []
    for f, (p, g) in enumerate(zip(preds, gts)):
        meta = dict(video_id=video_id, video_name=name, frame_id=f, video_length=len(preds),
                    visible=True)
        if shape is not None:
            meta['ori_shape'] = shape
        s = BaseDataElement(metainfo=meta)
        s.pred_track_instances = InstanceData(
            bboxes=torch.tensor(_xyxy(p)[None], dtype=torch.float32),
            scores=torch.tensor([0.9]))
        s.gt_instances = InstanceData(bboxes=torch.tensor(_xyxy(g)[None], dtype=torch.float32))
        out.append(s)
    return out


def test_ope_metric_from_samples(tmp_path):
    metric = METRICS.build(dict(type='OPEMetric', dataset='lasot',
                                outfile_prefix=str(tmp_path / 'res'),
                                curves_file=str(tmp_path / 'curves.json')))
    a = _dict_samples(0, 'seqA', SEQ_A_PRED, SEQ_A_GT, visible=[1, 1, 0, 1])
    b = _element_samples(1, 'seqB', np.array([G, G], float), np.array([G, G], float))
    samples = a + b
    order = [5, 0, 3, 1, 4, 2]  # any order, batches of 2
    for i in range(0, 6, 2):
        metric.process({}, [samples[k] for k in order[i:i + 2]])
    res = metric.evaluate(6)
    # LaSOT preset: absent frame fails (seq A AUC 7.5/21), seq B perfect (20/21)
    assert res['auc'] == pytest.approx((7.5 / 21 + 20 / 21) / 2)
    assert res['precision'] == pytest.approx((0.75 + 1) / 2)
    assert set(res) == {'auc', 'precision', 'norm_precision', 'success_rate_50'}
    assert metric.last_results['sequence_names'] == ['seqA', 'seqB']
    assert osp.isfile(tmp_path / 'curves.json')
    # result files: LaSOT layout, xywh, comma separated
    boxes = np.loadtxt(tmp_path / 'res' / 'seqA.txt', delimiter=',')
    np.testing.assert_allclose(boxes, SEQ_A_PRED)
    assert not [f for f in os.listdir(tmp_path / 'res') if f.startswith('.tmp')]


def test_got10k_metric_and_result_files(tmp_path):
    metric = GOT10kMetric(outfile_prefix=str(tmp_path / 'got'))
    metric.process({}, _dict_samples(0, 'GOT-10k_Val_000001', GOT_PRED_1, GOT_GT_1,
                                     visible=GOT_VIS_1, shape=(20, 20)))
    metric.process({}, _dict_samples(1, 'GOT-10k_Val_000002', GOT_PRED_2, GOT_GT_2,
                                     shape=(20, 20)))
    res = metric.evaluate(9)
    assert res['ao'] == pytest.approx((0.5 + 1 / 3 + 1 + 0.5 + 1 + 0) / 6)
    assert res['sr50'] == pytest.approx(2 / 6) and res['sr75'] == pytest.approx(2 / 6)
    d = tmp_path / 'got' / 'GOT-10k_Val_000001'
    np.testing.assert_allclose(np.loadtxt(d / 'GOT-10k_Val_000001_001.txt', delimiter=','),
                               GOT_PRED_1)
    np.testing.assert_allclose(np.loadtxt(d / 'GOT-10k_Val_000001_time.txt'), [0.01] * 6)


def test_metric_format_only_and_test_split(tmp_path):
    m = OPEMetric(dataset='trackingnet', outfile_prefix=str(tmp_path), format_only=True)
    m.process({}, _dict_samples(0, 'trk', SEQ_A_PRED, SEQ_A_GT))
    assert m.evaluate(4) == {}
    assert osp.isfile(tmp_path / 'trk.txt')
    # frames without gt (GOT-10k test split): files written, nothing scored
    g = GOT10kMetric(outfile_prefix=str(tmp_path / 'g'))
    g.process({}, _dict_samples(0, 'GOT-10k_Test_000001', SEQ_A_PRED, SEQ_A_GT, has_gt=False))
    assert g.evaluate(4) == {}
    assert osp.isfile(tmp_path / 'g' / 'GOT-10k_Test_000001' / 'GOT-10k_Test_000001_001.txt')
    with pytest.raises(ValueError, match='outfile_prefix'):
        OPEMetric(format_only=True)


def test_metric_errors():
    m = OPEMetric()
    m.process({}, _dict_samples(0, 's', SEQ_A_PRED, SEQ_A_GT)[:3])
    with pytest.raises(ValueError, match=r"sequence 's' has 3 of 4 frames"):
        m.evaluate(3)
    m = OPEMetric()
    s = _dict_samples(0, 's', SEQ_A_PRED, SEQ_A_GT)
    m.process({}, s + s[:1])
    with pytest.raises(ValueError, match='received twice'):
        m.evaluate(5)
    with pytest.raises(KeyError, match='frame_id'):
        OPEMetric().process({}, [dict(video_id=0, video_length=1, pred_bbox=[0, 0, 1, 1])])
    with pytest.raises(KeyError, match='pred_bbox'):
        OPEMetric().process({}, [dict(video_id=0, frame_id=0, video_length=1)])


def test_result_files_roundtrip(tmp_path):
    boxes = np.array([[1.5, 2, 3, 4], [5, 6, 7, 8.25]])
    p = write_sot_result(str(tmp_path), 'seq', boxes, 'got10k', times=[0.1, 0.2])
    assert p == result_file_path(str(tmp_path), 'seq', 'got10k')
    assert p.endswith(osp.join('seq', 'seq_001.txt'))
    np.testing.assert_allclose(read_sot_result(str(tmp_path), 'seq', 'got10k', 2), boxes)
    # the reader also finds the other layout, and tab-separated pytracking files
    np.testing.assert_allclose(read_sot_result(str(tmp_path), 'seq', 'lasot'), boxes)
    with open(tmp_path / 'tabs.txt', 'w') as f:
        f.write('1\t2\t3\t4\n5\t6\t7\t8\n9\t10\t11\t12\n')
    np.testing.assert_allclose(read_sot_result(str(tmp_path), 'tabs', 'lasot', 2),
                               [[1, 2, 3, 4], [5, 6, 7, 8]])
    assert sequence_result_done(str(tmp_path), 'seq', 'got10k', 2)
    assert not sequence_result_done(str(tmp_path), 'seq', 'got10k', 3)
    with pytest.raises(SOTResultError, match=r'seq_001\.txt: 2 boxes for 5 frames'):
        read_sot_result(str(tmp_path), 'seq', 'got10k', 5)
    with pytest.raises(SOTResultError, match=r'not found .*missing'):
        read_sot_result(str(tmp_path), 'missing', 'lasot')
    with open(tmp_path / 'bad.txt', 'w') as f:
        f.write('1,2,3\n')
    with pytest.raises(SOTResultError, match=r'bad\.txt, line 1: expected 4 values'):
        read_sot_result(str(tmp_path), 'bad', 'lasot')
