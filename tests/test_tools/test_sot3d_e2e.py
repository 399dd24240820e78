"""End to end: synthetic LiDAR scenes (Open3D ray casting, KITTI tracking
layout, with a corrupt velodyne file in a test scene), the tiny BEVTrack
trained briefly through tools/train.py and run through tools/test.py: the
corrupt file is reported with its frame and tracking goes on from the last
box, the results are in the eval_sot3d layout (frame 0 = ground truth) and
score the same through tools/analysis_tools/eval_sot3d.py, and a tracked
sequence is rendered to PNG.

Not asserted here (see docs/point_cloud_tracking.md): that the tiny tracker
beats the "box never moves" baseline. On this CPU budget (a few dozen
iterations) it does not yet: the Success of both is printed."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
CFG = REPO / 'configs' / 'sot3d' / 'bevtrack_tiny_synthetic.py'


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = str(REPO) + os.pathsep + env.get('PYTHONPATH', '')
    return env


def _run(args, cwd, timeout=900):
    proc = subprocess.run([sys.executable] + [str(a) for a in args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _opts(**kw):
    return ['--cfg-options'] + [f'{k}={v}' for k, v in kw.items()]


def _static_box_success(results):
    """Open3DSOT Success / Precision of predicting the first box in every
    frame, on the ground truth that tools/test.py wrote."""
    from mmdropmae.evaluation.functional.sot3d_metrics import evaluate_sot3d, read_box3d_file
    gts = [read_box3d_file(str(p)) for p in sorted((results / 'gt').glob('*.txt'))]
    return evaluate_sot3d([np.repeat(g[:1], len(g), 0) for g in gts], gts)


@pytest.mark.slow
def test_train_test_eval_render(tmp_path):
    from mmdropmae.datasets.synthetic.lidar import (make_synthetic_kitti_tracking,
                                                    write_corrupt_bin)
    data = tmp_path / 'synthetic_kitti'
    summary = make_synthetic_kitti_tracking(str(data), scenes=(0, 1, 19), num_frames=20,
                                            categories=('Car', 'Pedestrian', 'Car'), seed=0,
                                            beams=16, azimuth_step=1.0)
    # test scenes have frames where a car has no points, and one corrupt file
    assert (summary['0019']['points_per_object'][0] == 0).any()
    write_corrupt_bin(str(data / 'velodyne' / '0019' / '000011.bin'))

    work = tmp_path / 'train'
    proc = _run([REPO / 'tools' / 'train.py', CFG, '--work-dir', work] + _opts(**{
        'train_dataloader.dataset.data_root': data,
        'train_dataloader.dataset.scenes': '[0,1]',
        'train_dataloader.dataset.samples_per_epoch': 32,
        'train_dataloader.batch_size': 8,
        'train_dataloader.num_workers': 0,
        'train_cfg.max_epochs': 2,
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.logger.interval': 2,
    }), cwd=tmp_path)
    losses = [float(v) for v in re.findall(r' loss: ([0-9.]+)', proc.stdout + proc.stderr)]
    assert losses and all(np.isfinite(losses))
    ckpt = work / 'epoch_2.pth'
    assert ckpt.is_file()

    results = tmp_path / 'results'
    test_opts = {'test_dataloader.dataset.data_root': data,
                 'test_dataloader.dataset.scenes': '[19]'}
    proc = _run([REPO / 'tools' / 'test.py', CFG, ckpt, '--work-dir', tmp_path / 'test'] +
                _opts(**test_opts, **{'test_evaluator.outfile_prefix': results}), cwd=tmp_path)
    log = proc.stdout + proc.stderr
    # the corrupt file: named with its frame, tracking went on from the last box
    assert '000011.bin (sequence 0019_0000 frame 11 (scene 0019 frame 11)): size' in log
    assert 'empty search area' in log
    metrics = json.loads((results / 'metrics.json').read_text())
    n_pred = sorted(p.name for p in (results / 'pred').glob('*.txt'))
    assert n_pred == ['0019_0000.txt', '0019_0002.txt']
    assert metrics['num_frames'] == 2 * 20
    from mmdropmae.evaluation.functional.sot3d_metrics import read_box3d_file
    pred = read_box3d_file(str(results / 'pred' / '0019_0000.txt'))
    gt = read_box3d_file(str(results / 'gt' / '0019_0000.txt'))
    np.testing.assert_allclose(pred[0], gt[0], atol=1e-5)  # frame 0 = ground truth
    # the corrupt frame 11 keeps the box of frame 10
    np.testing.assert_allclose(pred[11], pred[10], atol=1e-6)
    np.testing.assert_allclose(pred[:, 3:6], np.repeat(gt[:1, 3:6], 20, 0), atol=1e-5)
    base = _static_box_success(results)
    print(f"tiny BEVTrack after 8 iterations: Success {metrics['success']:.1f} / Precision "
          f"{metrics['precision']:.1f}; box never moves {base['success']:.1f} / "
          f"{base['precision']:.1f}")

    # the eval script on the written files gives the same numbers; render one
    out = tmp_path / 'eval.json'
    render = tmp_path / 'render'
    _run([REPO / 'tools' / 'analysis_tools' / 'eval_sot3d.py', results / 'pred', results / 'gt',
          '--json', out, '--render-root', data, '--render-dir', render, '--backend',
          'matplotlib'], cwd=tmp_path)
    js = json.loads(out.read_text())
    assert js['num_frames'] == metrics['num_frames']
    assert js['success'] == pytest.approx(metrics['success'], abs=1e-3)
    assert js['precision'] == pytest.approx(metrics['precision'], abs=1e-3)
    pngs = sorted(render.glob('0019_0000_*.png'))
    assert len(pngs) == 20 and pngs[0].stat().st_size > 1000
