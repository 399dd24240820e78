"""tools/analysis_tools/eval_flow.py: files matched by relative path without
ending (``.flo`` and KITTI PNG on either side), the printed table, the JSON
numbers (hand-worked KITTI case) and the errors."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from mmdropmae.evaluation.functional.flow_io import write_flo, write_kitti_flow

REPO = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location(
        'eval_flow', REPO / 'tools' / 'analysis_tools' / 'eval_flow.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _write_case(tmp_path):
    gt_a = np.array([[[10, 0], [100, 0]], [[0, 0], [0, 0]]], np.float32)
    pred_a = np.array([[[14, 0], [104, 0]], [[50, 50], [0, 0]]], np.float32)
    valid_a = np.array([[1, 1], [0, 1]], np.float32)
    gt_b, pred_b = np.array([[[0, 3]]], np.float32), np.zeros((1, 1, 2), np.float32)
    write_kitti_flow(str(tmp_path / 'gt' / 'seq' / 'a.png'), gt_a, valid_a)
    write_kitti_flow(str(tmp_path / 'gt' / 'b.png'), gt_b)
    write_flo(str(tmp_path / 'pred' / 'seq' / 'a.flo'), pred_a)  # .flo vs PNG
    write_kitti_flow(str(tmp_path / 'pred' / 'b.png'), pred_b)
    write_flo(str(tmp_path / 'pred' / 'extra.flo'), pred_b)


def test_kitti_json_hand_worked(tmp_path, capsys):
    _write_case(tmp_path)
    out = tmp_path / 'res.json'
    rc = _tool().main([str(tmp_path / 'pred'), str(tmp_path / 'gt'), '--protocol', 'kitti',
                       '--json', str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert 'Fl-all' in printed and '1 predictions have no ground truth' in printed
    res = json.loads(out.read_text())
    assert set(res) == {'epe', 'px1', 'px3', 'px5', 'fl_all', 'num_images'}
    assert res['epe'] == pytest.approx(17 / 6)
    assert res['fl_all'] == pytest.approx(0.25)
    assert res['px5'] == pytest.approx(1.0) and res['num_images'] == 2
    # sintel: every pixel, pooled (the invalid pixel's EPE 50 * sqrt 2 counts)
    rc = _tool().main([str(tmp_path / 'pred'), str(tmp_path / 'gt'), '--protocol', 'sintel',
                       '--json', str(out)])
    res = json.loads(out.read_text())
    assert res['epe'] == pytest.approx((4 + 4 + 50 * np.sqrt(2) + 0 + 3) / 5)


def test_missing_prediction_fails_with_names(tmp_path, capsys):
    _write_case(tmp_path)
    (tmp_path / 'pred' / 'b.png').unlink()
    rc = _tool().main([str(tmp_path / 'pred'), str(tmp_path / 'gt'), '--protocol', 'kitti'])
    assert rc == 1
    err = capsys.readouterr().err
    assert '1 of 2 ground-truth files have no prediction' in err and 'b' in err
    rc = _tool().main([str(tmp_path / 'nope'), str(tmp_path / 'gt'), '--protocol', 'kitti'])
    assert rc == 1 and 'flow folder not found' in capsys.readouterr().err
