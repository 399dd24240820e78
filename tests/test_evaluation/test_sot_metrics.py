"""Hand-worked SOT metric cases, one per convention.

Boxes are x, y, w, h. Ground truth G = (0, 0, 10, 10) (pixels 0..9, centre
4.5, 4.5 in the pixel-inclusive convention). Predictions used below:

===================  ===========  =================  ==================
prediction            IoU with G   centre error (px)  normalised (/10)
===================  ===========  =================  ==================
HALF (0, 0, 10, 5)    50/100=0.5   |(4.5,2)-G|=2.5    0.25
SHIFT (5, 0, 10, 10)  50/150=1/3   5                  0.5
AWAY (20, 0, 10, 10)  0            20 (exactly)       2.0
FAR (50, 50, 10, 10)  0            50*sqrt(2)         5*sqrt(2)
===================  ===========  =================  ==================

OPE rules (OSTrack / DropTrack / pytracking
``lib/test/analysis/extract_results.py``, ``exclude_invalid_frames=False``):
every frame is in the denominator; an invalid frame (0-size ground truth, or
the LaSOT labels say invisible) has overlap -1 (fails success at every
threshold), centre error inf (fails precision) and normalised error -1
(*passes* normalised precision; LaSOT only: inf for label-invisible frames).
Counting success thresholds ``IoU > t`` over t = 0, 0.05, ..., 1: an IoU of
1 passes 20 of the 21, 0.5 passes 10 (t = 0..0.45), 1/3 passes 7
(t = 0..0.30), 0 and -1 pass none. AUC = passes summed over frames and
thresholds / (21 * N). The "old" numbers in the comments are the previous
implementation's (absent frames excluded outside LaSOT, normalised error of
an absent frame a failure); every test below fails on it.
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
Z = [0, 0, 0, 0]  # absent target as a 0-size box (TNL2K, LaSOT out of view)
HALF, SHIFT, AWAY, FAR = [0, 0, 10, 5], [5, 0, 10, 10], [20, 0, 10, 10], [50, 50, 10, 10]
SEQ_A_GT = np.array([G] * 4, float)
SEQ_A_PRED = np.array([FAR,     # frame 0: replaced by the gt -> IoU 1
                       HALF,    # IoU 0.5
                       SHIFT,   # IoU 1/3
                       AWAY],   # IoU 0, centre error exactly 20
                      float)

# S: the sequence of the per-preset table: frame 2 has a positive box but the
# labels say invisible (LaSOT full occlusion / GOT-10k cover 0), frame 3 a
# 0-size box while the labels say visible.
S_GT = np.array([G, G, G, Z, G], float)
S_PRED = np.array([FAR, HALF, SHIFT, SHIFT, AWAY], float)
S_LABELS = np.array([True, True, False, True, True])


def _scores(res):
    """(AUC, P@20, NP@0.2) of a sequence_ope or evaluate_ope result."""
    if 'auc' in res:
        return res['auc'], res['precision'], res['norm_precision']
    return res['success'].mean(), res['precision'][20], res['norm_precision'][20]


def _check(res, auc, prec, norm_prec):
    assert _scores(res) == pytest.approx((auc, prec, norm_prec), abs=1e-12)


def test_iou_and_centre_error_by_hand():
    np.testing.assert_allclose(F.iou_pixel(SEQ_A_PRED[1:], SEQ_A_GT[1:]), [0.5, 1 / 3, 0])
    np.testing.assert_allclose(F.iou_continuous(SEQ_A_PRED[1:], SEQ_A_GT[1:]), [0.5, 1 / 3, 0])
    np.testing.assert_allclose(F.center_error(SEQ_A_PRED[1:], SEQ_A_GT[1:]), [2.5, 5, 20])
    np.testing.assert_allclose(F.center_error(SEQ_A_PRED[1:], SEQ_A_GT[1:], normalized=True),
                               [0.25, 0.5, 2.0])
    # integer boxes: identical boxes give exactly 1
    assert F.iou_pixel(np.array([G], float), np.array([G], float))[0] == 1.0
    # GOT-10k bound: pred (15,0,10,10) vs gt (10,0,10,10) in a 20x20 image
    p, g = np.array([[15., 0, 10, 10]]), np.array([[10., 0, 10, 10]])
    np.testing.assert_allclose(F.iou_continuous(p, g), [50 / 150])
    np.testing.assert_allclose(F.iou_continuous(p, g, bound=(20, 20)), [50 / 100])
    assert F.iou_continuous(np.array([[np.nan] * 4]), g)[0] == 0.0
    assert len(F.SUCCESS_THRESHOLDS) == 21 and F.SUCCESS_THRESHOLDS[10] == 0.5


def test_iou_not_clipped_like_the_reference():
    """calc_iou_overlap does not clip: for b = (0.1, 0.7, 0.3, 3.3), float64
    gives the intersection width (0.1 + 0.3 - 1) - 0.1 + 1 =
    0.30000000000000004, so intersection 0.9900000000000001 > area
    0.3 * 3.3 = 0.9899999999999999 and IoU(b, b) = 1.0000000000000004 > 1:
    frame 0 (prediction := gt) passes even t = 1.0. Old: clipped to 1."""
    b = [0.1, 0.7, 0.3, 3.3]
    assert F.iou_pixel(np.array([b]), np.array([b]))[0] == 1.0000000000000004
    r = F.sequence_ope(np.array([FAR, b], float), np.array([b, b], float))
    # both frames pass all 21 thresholds: AUC 42 / (21 * 2) = 1; errors 0
    _check(r, 1.0, 1.0, 1.0)  # old: 20/21


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


def test_invalid_gt_frame_rule_tnl2k_zero_size_box():
    """TNL2K marks an absent target with a 0-size box: overlap -1, centre
    error inf, normalised error -1, and the frame stays in the denominator."""
    gt = np.array([G, G, Z, G], float)
    pred = np.array([FAR, HALF, SHIFT, AWAY], float)
    res = F.evaluate_ope([pred], [gt], dataset='tnl2k')
    # per frame: IoU 1, 0.5, -1, 0; error 0, 2.5, inf, 20; normalised 0, 0.25, -1, 2
    # success: frames 0, 1 pass 20 + 10 thresholds -> 30 / (21 * 4) = 7.5 / 21
    # P@20: errors 0, 2.5, 20 pass, inf fails -> 3/4
    # NP@0.2: 0 and -1 pass, 0.25 and 2 fail -> 2/4
    _check(res, 30 / 84, 3 / 4, 2 / 4)  # old: 30/63 = 10/21, 1, 1/3 (frame 2 dropped)
    r = res['per_sequence'][0]
    np.testing.assert_allclose(r['ious'], [1, 0.5, -1, 0])
    np.testing.assert_allclose(r['center_errors'], [0, 2.5, np.inf, 20])
    np.testing.assert_allclose(r['norm_center_errors'], [0, 0.25, -1, 2])
    assert r['num_frames'] == 4 and r['num_valid'] == 3


def test_lasot_rule_label_invisible_vs_zero_size():
    """LaSOT: frame 2 invisible by the labels (box positive), frame 3 a 0-size
    box with the labels visible. Both invalid (overlap -1, centre error inf);
    the normalised error is inf for frame 2 (the reference's LaSOT-only rule)
    but -1 (a pass) for frame 3. LaSOT_ext has no such rule: -1 for both."""
    lasot = F.evaluate_ope([S_PRED], [S_GT], [S_LABELS], dataset='lasot')
    # success: frames 0, 1 -> (20 + 10) / (21 * 5) = 2/7; P@20: frames 0, 1, 4 -> 3/5
    # NP@0.2: frame 0 (0) and frame 3 (-1) -> 2/5
    _check(lasot, 30 / 105, 3 / 5, 2 / 5)  # old: NP 1/5 (frame 3 failed)
    ext = F.evaluate_ope([S_PRED], [S_GT], [S_LABELS], dataset='lasot_ext')
    # NP@0.2: frames 0, 2, 3 -> 3/5
    _check(ext, 30 / 105, 3 / 5, 3 / 5)  # old: NP 1/5
    np.testing.assert_allclose(lasot['per_sequence'][0]['norm_center_errors'],
                               [0, 0.25, np.inf, -1, 2])
    np.testing.assert_allclose(ext['per_sequence'][0]['norm_center_errors'],
                               [0, 0.25, -1, -1, 2])


def test_nan_and_zero_size_predictions():
    """A zero-size prediction (reference rule) and a NaN one (the reference
    raises; LaSOT MATLAB toolkit rule) take the previous frame's box, after
    that one's own replacement; next to an absent (0-size) ground truth."""
    gt = np.array([G, G, G, Z, G], float)
    pred = np.array([FAR, HALF, [np.nan] * 4, [1, 1, 0, 5], SHIFT], float)
    r = F.sequence_ope(pred, gt)
    # frames 2 and 3 become HALF (frame 3 copies the already replaced frame 2)
    np.testing.assert_allclose(r['ious'], [1, 0.5, 0.5, -1, 1 / 3])
    # success passes: 20 + 10 + 10 + 0 + 7 = 47 -> 47 / 105
    # P@20: errors 0, 2.5, 2.5, inf, 5 -> 4/5; NP@0.2: 0 and -1 pass -> 2/5
    _check(r, 47 / 105, 4 / 5, 2 / 5)  # old (tnl2k): 47/84, 1, 1/4
    _check(F.evaluate_ope([pred], [gt], dataset='tnl2k'), 47 / 105, 4 / 5, 2 / 5)
    # a NaN first prediction is the ground truth's box for the filling
    pred0 = np.array([[np.nan] * 4, [0, 0, 0, 0], HALF], float)
    r0 = F.sequence_ope(pred0, np.array([G, G, G], float))
    np.testing.assert_allclose(r0['ious'], [1, 1, 0.5])


def test_first_frame_rule():
    """Frame 0's prediction is replaced by the ground truth *after* the
    zero-size filling, so frame 1's 0-size prediction inherits the raw
    frame-0 box (AWAY), as in the reference; frame 0 stays counted."""
    gt = np.array([G, G, Z], float)
    pred = np.array([AWAY, [3, 3, 0, 0], HALF], float)
    r = F.sequence_ope(pred, gt)
    # IoU 1, 0, -1; errors 0, 20, inf; normalised 0, 2, -1
    # success: frame 0 passes 20 thresholds -> 20 / 63; P@20: errors 0, 20 -> 2/3
    # NP@0.2: 0 and -1 pass, 2 fails -> 2/3
    _check(r, 20 / 63, 2 / 3, 2 / 3)  # old: 10/21, 1, 1/2
    np.testing.assert_allclose(r['ious'], [1, 0, -1])
    np.testing.assert_allclose(r['center_errors'], [0, 20, np.inf])
    # scoring the raw first prediction instead: IoUs 0, 0, -1; errors 20, 20, inf
    _check(F.sequence_ope(pred, gt, first_frame='pred'), 0.0, 2 / 3, 1 / 3)


# per preset, on S: (AUC, P@20, NP@0.2), worked frame by frame
# frame:            0          1            2 (labels: invisible)   3 (0-size)   4
# IoU / err / nerr  1/0/0      .5/2.5/.25   with labels: -1/inf/-1  -1/inf/-1    0/20/2
#                                           (LaSOT: -1/inf/inf)
#                                           without: 1/3/5/.5
# with labels:    success (20+10)/105, P@20 frames 0,1,4, NP@0.2 frames 0,3 (+2 w/o LaSOT rule)
# without labels: success (20+10+7)/105, P@20 frames 0,1,2,4, NP@0.2 frames 0,3
PRESET_CASES = {
    'lasot': (30 / 105, 3 / 5, 2 / 5),        # old: 30/105, 3/5, 1/5
    'lasot_ext': (30 / 105, 3 / 5, 3 / 5),    # old: 30/105, 3/5, 1/5
    'default': (30 / 105, 3 / 5, 3 / 5),      # old: 30/63, 1, 1/3
    'tnl2k': (37 / 105, 4 / 5, 2 / 5),        # old: 30/63, 1, 1/3 (labels used, frames dropped)
    'trackingnet': (37 / 105, 4 / 5, 2 / 5),  # old: 30/63, 1, 1/3
    'itb': (37 / 105, 4 / 5, 2 / 5),          # old: 30/63, 1, 1/3
    'otb': (37 / 105, 4 / 5, 2 / 5),          # old: 30/63, 1, 1/3
    'got10k': (37 / 105, 4 / 5, 2 / 5),       # old: 30/63, 1, 1/3 (cover == 0 ignored now)
}


@pytest.mark.parametrize('preset', sorted(PRESET_CASES))
def test_ope_presets_by_hand(preset):
    res = F.evaluate_ope([S_PRED], [S_GT], [S_LABELS], dataset=preset)
    _check(res, *PRESET_CASES[preset])
    assert res['absent'] == 'pytracking' and res['first_frame'] == 'gt'
    assert res['per_sequence'][0]['num_frames'] == 5  # every frame counted
    assert F.ope_preset(preset) == ('pytracking', 'gt')
    rules = F.ope_rules(preset)
    assert rules['use_visible'] == (preset in ('lasot', 'lasot_ext', 'default'))
    assert rules['lasot_rule'] == (preset == 'lasot')
    assert F.ope_rules('LaSOT') == F.ope_rules('lasot')
    assert F.ope_rules('uav') == F.ope_rules('default')


def test_absent_options():
    """'exclude' (the cleaner variant) and 'fail', on S with the TNL2K
    preset (labels ignored: frames 0, 1, 2, 4 valid, frame 3 invalid)."""
    excl = F.evaluate_ope([S_PRED], [S_GT], [S_LABELS], dataset='tnl2k', absent='exclude')
    # 4 frames: success (20 + 10 + 7 + 0) / 84; P@20 4/4; NP@0.2 frame 0 only -> 1/4
    _check(excl, 37 / 84, 1.0, 1 / 4)
    assert excl['per_sequence'][0]['num_frames'] == 4
    fail = F.evaluate_ope([S_PRED], [S_GT], [S_LABELS], dataset='tnl2k', absent='fail')
    # 5 frames, frame 3 fails all three: NP@0.2 frame 0 only -> 1/5
    _check(fail, 37 / 105, 4 / 5, 1 / 5)
    # with the labels too, 'exclude' is the previous implementation's TNL2K rule
    old = F.evaluate_ope([S_PRED], [S_GT], [S_LABELS], dataset='tnl2k', absent='exclude',
                         use_visible=True)
    _check(old, 30 / 63, 1.0, 1 / 3)
    # 'exclude' leaves out a sequence without a valid frame; 'pytracking' keeps it
    assert F.sequence_ope(SEQ_A_PRED, SEQ_A_GT, np.zeros(4, bool), absent='exclude') is None
    r = F.sequence_ope(SEQ_A_PRED, SEQ_A_GT, np.zeros(4, bool))
    _check(r, 0.0, 0.0, 1.0)  # all invalid: -1 / inf / -1
    with pytest.raises(ValueError, match='absent must be one of'):
        F.sequence_ope(SEQ_A_PRED, SEQ_A_GT, absent='drop')
    with pytest.raises(ValueError, match='4 visibility flags for 5'):
        F.sequence_ope(S_PRED, S_GT, np.ones(4, bool))


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


def _s_samples(with_labels):
    """S as a dataset delivers it: ``visible`` = labels and a valid box
    (frame 3's 0-size box is not visible); ``target_visible`` = the labels."""
    out = _dict_samples(0, 'S', S_PRED, S_GT, visible=S_LABELS & (S_GT[:, 2] > 0))
    if with_labels:
        for s, v in zip(out, S_LABELS):
            s['target_visible'] = bool(v)
    return out


@pytest.mark.parametrize('preset', ['lasot', 'lasot_ext', 'tnl2k', 'got10k'])
def test_ope_metric_same_rules_as_functions(preset):
    m = OPEMetric(dataset=preset)
    m.process({}, _s_samples(with_labels=True))
    res = m.evaluate(5)
    assert (res['auc'], res['precision'], res['norm_precision']) == pytest.approx(
        PRESET_CASES[preset], abs=1e-12)
    assert m.last_results['absent'] == 'pytracking'


def test_ope_metric_target_visible_and_overrides():
    # without target_visible, LaSOT's label-invisible rule also hits frame 3
    # (its `visible` is False because of the 0-size box): NP@0.2 1/5 not 2/5
    m = OPEMetric(dataset='lasot')
    m.process({}, _s_samples(with_labels=False))
    assert m.evaluate(5)['norm_precision'] == pytest.approx(1 / 5)
    m = OPEMetric(dataset='tnl2k', absent='exclude')
    m.process({}, _s_samples(with_labels=True))
    res = m.evaluate(5)
    assert (res['auc'], res['precision'], res['norm_precision']) == pytest.approx(
        (37 / 84, 1.0, 1 / 4))
    m = OPEMetric(dataset='tnl2k', absent='exclude', use_visible=True)
    m.process({}, _s_samples(with_labels=True))
    assert m.evaluate(5)['auc'] == pytest.approx(30 / 63)
    with pytest.raises(ValueError, match='absent must be one of'):
        OPEMetric(absent='drop')
    with pytest.raises(ValueError, match='first_frame must be one of'):
        OPEMetric(first_frame='first')


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
