"""Open3DSOT overlap / Success / Precision against hand-worked cases."""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mmdropmae.evaluation.functional.sot3d_metrics import (
    SOT3DResultError, bev_intersection_area, box3d_center_distance, box3d_overlap,
    convex_polygon_intersection, evaluate_sot3d, evaluate_sot3d_dirs, polygon_area,
    precision_auc_3d, read_box3d_file, success_auc_3d, success_curve_3d, write_box3d_file)
from tests.utils import REPO


def B(cx=0., cy=0., cz=0., l=4., w=2., h=2., yaw=0.):  # noqa: E741
    return np.array([cx, cy, cz, l, w, h, yaw])


# ------------------------------------------------------------ overlap
def test_identical_boxes():
    box = B(3., -1., 0.5, 4.2, 1.8, 1.5, 0.7)
    assert box3d_overlap(box, box) == pytest.approx(1.0)
    assert box3d_overlap(box, box, dim=2) == pytest.approx(1.0)


def test_partly_overlapping_axis_aligned():
    # 4 x 2 x 2 boxes shifted by 2 m along x: footprint overlap 2 x 2 = 4,
    # vertical overlap 2 -> 8 / (16 + 16 - 8) = 1/3
    a, b = B(), B(cx=2.)
    assert bev_intersection_area(a, b) == pytest.approx(4.)
    assert box3d_overlap(a, b) == pytest.approx(1 / 3)
    # BEV IoU: 4 / (8 + 8 - 4)
    assert box3d_overlap(a, b, dim=2) == pytest.approx(1 / 3)
    # shifted diagonally by (1, 1): footprint overlap 3 x 1 = 3
    assert box3d_overlap(a, B(cx=1., cy=1.)) == pytest.approx(6 / (32 - 6))


def test_rotated_square_octagon():
    # a 2 x 2 square and the same square turned by 45 deg: the intersection
    # is a regular octagon of area 8 (sqrt 2 - 1); h = 1 -> IoU 1 / sqrt 2
    a = B(l=2., w=2., h=1.)
    b = B(l=2., w=2., h=1., yaw=math.pi / 4)
    area = 8 * (math.sqrt(2) - 1)
    assert bev_intersection_area(a, b) == pytest.approx(area)
    assert box3d_overlap(a, b) == pytest.approx(area / (8 - area))
    assert box3d_overlap(a, b) == pytest.approx(1 / math.sqrt(2))


def test_rotated_by_90_degrees():
    # 4 x 2 box and the same turned by 90 deg: a 2 x 2 cross centre
    a = B(h=1.)
    b = B(h=1., yaw=math.pi / 2)
    assert box3d_overlap(a, b) == pytest.approx(4 / (8 + 8 - 4))
    # heading reversed (yaw + pi) is the same box
    assert box3d_overlap(a, B(h=1., yaw=math.pi)) == pytest.approx(1.)


def test_disjoint_and_touching():
    assert box3d_overlap(B(), B(cx=10.)) == 0.
    assert box3d_overlap(B(), B(cx=4.)) == 0.  # touching along an edge
    assert box3d_overlap(B(), B(cx=4., cy=2.)) == 0.  # touching at a corner
    assert box3d_overlap(B(), B(cx=4.001)) == 0.


def test_different_heights_follow_open3dsot():
    # Open3DSOT's vertical overlap takes a box as [cz - h, cz]:
    # a = [-2, 0], b = [-0.5, 0.5] -> 0.5; inter 4 x 0.5 = 2; vol 8 and 4
    a = B(l=2., w=2., h=2.)
    b = B(l=2., w=2., h=1., cz=0.5)
    assert box3d_overlap(a, b) == pytest.approx(2 / (8 + 4 - 2))
    # the exact rule: a = [-1, 1], b = [0, 1] -> 1 -> 4 / (12 - 4)
    assert box3d_overlap(a, b, vertical='exact') == pytest.approx(0.5)
    # equal heights: both rules agree (shift invariance)
    c = B(l=2., w=2., h=2., cz=0.7)
    assert box3d_overlap(a, c) == pytest.approx(box3d_overlap(a, c, vertical='exact'))
    assert box3d_overlap(a, c) == pytest.approx(4 * 1.3 / (16 - 4 * 1.3))
    # same footprint, vertically apart
    assert box3d_overlap(a, B(l=2., w=2., h=2., cz=5.)) == 0.


def test_zero_volume_gives_nan_which_fails_every_threshold():
    a = B(l=0., w=0., h=0.)
    o = box3d_overlap(a, a)
    assert math.isnan(o)
    assert success_curve_3d([o])[0] == 0.  # even t = 0


def test_polygon_clipping_matches_shapely():
    shapely = pytest.importorskip('shapely.geometry')
    from mmdropmae.evaluation.functional.sot3d_metrics import box3d_bev_corners
    rng = np.random.default_rng(0)
    for _ in range(200):
        a = B(*rng.uniform(-2, 2, 3), *rng.uniform(0.3, 5, 3), rng.uniform(-4, 4))
        b = B(*rng.uniform(-2, 2, 3), *rng.uniform(0.3, 5, 3), rng.uniform(-4, 4))
        pa = shapely.Polygon(box3d_bev_corners(a))
        pb = shapely.Polygon(box3d_bev_corners(b))
        assert bev_intersection_area(a, b) == pytest.approx(pa.intersection(pb).area, abs=1e-9)


def test_convex_intersection_basic():
    sq = np.array([[0, 0], [2, 0], [2, 2], [0, 2]], float)
    tri = np.array([[1, 1], [3, 1], [1, 3]], float)  # clockwise input accepted too
    # the part of the square with x >= 1, y >= 1 (x + y <= 4 holds there)
    inter = convex_polygon_intersection(sq, tri[::-1])
    assert polygon_area(inter) == pytest.approx(1.)
    # a triangle cutting the square's corner: x + y <= 1 -> area 1/2
    cut = np.array([[0, 0], [1, 0], [0, 1]], float)
    assert polygon_area(convex_polygon_intersection(sq, cut)) == pytest.approx(0.5)


def test_center_distance_is_3d():
    assert box3d_center_distance(B(), B(cx=3., cy=4., cz=12.)) == pytest.approx(13.)


# ------------------------------------------------------------ Success / Precision
def test_success_hand_worked():
    # overlaps 1, 0.5, 0: share >= t is 1 at t = 0, 2/3 for t in (0, 0.5]
    # (10 thresholds, 0.5 included: >=), 1/3 for t in (0.5, 1] (10)
    # trapz = 0.05 * (sum - (first + last) / 2) = 0.05 * (1 + 20/3 + 10/3 - 2/3)
    expected = 0.05 * (1 + 20 / 3 + 10 / 3 - (1 + 1 / 3) / 2) * 100
    assert success_auc_3d([1., 0.5, 0.]) == pytest.approx(expected)
    assert success_auc_3d([1., 1.]) == pytest.approx(100.)
    assert success_auc_3d([0., 0.]) == pytest.approx(0.05 * 0.5 * 100)  # t = 0 counts
    assert success_auc_3d([]) == 0.


def test_precision_hand_worked():
    # distances 0 and 1 m: share <= t is 1/2 for t < 1 (10 thresholds), 1 for
    # t >= 1 (11, 1.0 included: <=); trapz over [0, 2] / 2 * 100
    vals = np.array([0.5] * 10 + [1.] * 11)
    expected = float(np.sum(0.1 * (vals[1:] + vals[:-1]) / 2)) * 100 / 2
    assert precision_auc_3d([0., 1.]) == pytest.approx(expected)
    assert precision_auc_3d([0., 0.]) == pytest.approx(100.)
    assert precision_auc_3d([5.]) == 0.


def test_evaluate_first_frame_is_ground_truth_and_frames_are_pooled():
    gt1 = np.stack([B(cx=i) for i in range(4)])
    pred1 = gt1.copy()
    pred1[0] = B(cx=100.)  # ignored: frame 0 counts with the ground truth
    pred1[1:] = gt1[0]  # the box never moves
    gt2 = np.stack([B(cy=5.)])
    res = evaluate_sot3d([pred1, gt2], [gt1, gt2])
    assert res['num_frames'] == 5
    assert res['overlaps'][0] == pytest.approx(1.)
    assert res['distances'][0] == 0.
    # pooled: the five overlaps in one curve, not the mean of two sequences
    ov = [1., box3d_overlap(gt1[1], gt1[0]), box3d_overlap(gt1[2], gt1[0]),
          box3d_overlap(gt1[3], gt1[0]), 1.]
    assert res['success'] == pytest.approx(success_auc_3d(ov))
    per_seq = (evaluate_sot3d([pred1], [gt1])['success'] + 100.) / 2
    assert abs(res['success'] - per_seq) > 1.
    res_pred = evaluate_sot3d([pred1], [gt1], first_frame='pred')
    assert res_pred['overlaps'][0] == 0.


# ------------------------------------------------------------ files + CLI
def test_box_files_round_trip_and_errors(tmp_path):
    boxes = np.stack([B(1, 2, 3, 4, 5, 6, 0.5), B()])
    write_box3d_file(str(tmp_path / 'a.txt'), boxes)
    np.testing.assert_allclose(read_box3d_file(str(tmp_path / 'a.txt')), boxes, atol=1e-6)
    (tmp_path / 'bad.txt').write_text('1 2 3 4 5 6 0\n1 2 3\n')
    with pytest.raises(SOT3DResultError, match=r'bad\.txt, line 2: expected 7'):
        read_box3d_file(str(tmp_path / 'bad.txt'))
    with pytest.raises(SOT3DResultError, match='no such box file'):
        read_box3d_file(str(tmp_path / 'none.txt'))


def test_eval_dirs_and_cli(tmp_path):
    gt = {'0019_0000': np.stack([B(cx=i) for i in range(5)]),
          '0019_0001': np.stack([B(cy=i, yaw=0.3) for i in range(3)])}
    for name, boxes in gt.items():
        write_box3d_file(str(tmp_path / 'gt' / f'{name}.txt'), boxes)
        write_box3d_file(str(tmp_path / 'pred' / f'{name}.txt'),
                         np.repeat(boxes[:1], len(boxes), 0))
    res, seqs = evaluate_sot3d_dirs(str(tmp_path / 'pred'), str(tmp_path / 'gt'))
    assert seqs == ['0019_0000', '0019_0001'] and res['num_frames'] == 8
    out = tmp_path / 'm.json'
    proc = subprocess.run([sys.executable, str(Path(REPO) / 'tools/analysis_tools/eval_sot3d.py'),
                           str(tmp_path / 'pred'), str(tmp_path / 'gt'), '--json', str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    js = json.loads(out.read_text())
    assert js == dict(success=pytest.approx(res['success']),
                      precision=pytest.approx(res['precision']), num_frames=8)
    # a short prediction file: a clear error naming it
    write_box3d_file(str(tmp_path / 'pred' / '0019_0001.txt'), gt['0019_0001'][:2])
    proc = subprocess.run([sys.executable, str(Path(REPO) / 'tools/analysis_tools/eval_sot3d.py'),
                           str(tmp_path / 'pred'), str(tmp_path / 'gt')],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and '0019_0001.txt: 2 boxes for the 3 frames' in proc.stderr


def test_sot3d_metric_regroups_and_writes(tmp_path):
    from mmdropmae.evaluation.metrics import SOT3DMetric
    gt = np.stack([B(cx=i * 0.5) for i in range(3)])
    pred = gt + [0.2, 0, 0, 0, 0, 0, 0]
    metric = SOT3DMetric(outfile_prefix=str(tmp_path / 'res'))
    # frames out of order, as several workers may deliver them
    rows = [dict(video_id=0, video_name='0019_0003', frame_id=t, video_length=3,
                 pred_bbox_3d=pred[t], gt_bbox_3d=gt[t]) for t in (2, 0, 1)]
    metric.process(None, rows)
    out = metric.compute_metrics(metric.results)
    ref = evaluate_sot3d([pred], [gt])
    assert out == dict(success=pytest.approx(ref['success']),
                       precision=pytest.approx(ref['precision']), num_frames=3)
    written = read_box3d_file(str(tmp_path / 'res' / 'pred' / '0019_0003.txt'))
    np.testing.assert_allclose(written[0], gt[0], atol=1e-6)  # frame 0 = ground truth
    np.testing.assert_allclose(written[1:], pred[1:], atol=1e-6)
    assert json.loads((tmp_path / 'res' / 'metrics.json').read_text())['num_frames'] == 3
    with pytest.raises(ValueError, match='lacks frames'):
        metric.compute_metrics(rows[:2])
