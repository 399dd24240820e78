"""End to end: synthetic LiDAR scenes (Open3D ray casting, KITTI tracking
layout, with a corrupt velodyne file in a test scene), the tiny BEVTrack
trained through tools/train.py (the config's schedule: 240 iterations) and
run through tools/test.py: the corrupt file is reported with its frame and
tracking goes on from the last box, the results are in the eval_sot3d layout
(frame 0 = ground truth) and score the same through
tools/analysis_tools/eval_sot3d.py, a tracked sequence is rendered to PNG,
and the trained tracker beats both the "box never moves" baseline and the
untrained tracker (the same network at its initialisation, through
tools/test.py) by stated margins."""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.utils import run_tool

REPO = Path(__file__).resolve().parents[2]
CFG = REPO / 'configs' / 'sot3d' / 'bevtrack_tiny_synthetic.py'


def _run(args, cwd, timeout=900):
    # one thread: the numbers below are reproduced exactly (training is seeded),
    # and on a shared 2-core machine two threads made the test 3x slower
    # (7.6 min instead of 2.3; Success 62.7 instead of 64.4)
    return run_tool(args, cwd, threads=1, timeout=timeout)


def _opts(**kw):
    return ['--cfg-options'] + [f'{k}={v}' for k, v in kw.items()]


# Margins of Success (points of the x100 scale) the trained tiny tracker must
# clear on test scenes 19-20 (4 cars, 80 frames). Measured on this data and
# schedule through tools/train.py + tools/test.py (2 CPU cores), Success of the
# trained tracker with training seeds 0 (the config's) / 1 / 2: 64.4 / 59.3 /
# 62.7; the box that never moves: 23.4; the untrained network (seed 0
# initialisation): 11.4. Worst seed: +35.9 over the static box, +47.9 over the
# untrained network; the margins leave about 16 and 18 points for variation.
STATIC_MARGIN = 20.
UNTRAINED_MARGIN = 30.


def _static_box_success(results):
    """Open3DSOT Success / Precision of predicting the first box in every
    frame, on the ground truth that tools/test.py wrote."""
    from mmdropmae.evaluation.functional.sot3d_metrics import evaluate_sot3d, read_box3d_file
    gts = [read_box3d_file(str(p)) for p in sorted((results / 'gt').glob('*.txt'))]
    return evaluate_sot3d([np.repeat(g[:1], len(g), 0) for g in gts], gts)


def _init_checkpoint(path):
    """The network of the config at its initialisation (seeded as
    tools/train.py seeds it: randomness.seed), as a checkpoint."""
    import torch
    from mmengine.config import Config
    from mmengine.runner import set_random_seed

    from mmdropmae.registry import MODELS
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(str(CFG))
    set_random_seed(cfg.randomness.seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), str(path))


@pytest.mark.slow
def test_train_test_eval_render(tmp_path):
    from mmdropmae.datasets.synthetic.lidar import (make_synthetic_kitti_tracking,
                                                    write_corrupt_bin)
    from mmdropmae.evaluation.functional.sot3d_metrics import read_box3d_file
    data = tmp_path / 'synthetic_kitti'
    # the config's data: train scenes 0-11 (with 12 scenes the training cars
    # include oncoming ones, as the test scenes have: with 0-5 alone none, and
    # the tracker lost those), 64 beams x 0.25 deg (KITTI's HDL-64E
    # class); objects Car, Car and a far Pedestrian (not tracked: category Car)
    summary = make_synthetic_kitti_tracking(str(data), scenes=tuple(range(12)) + (19, 20),
                                            num_frames=20, categories=('Car', 'Car',
                                                                       'Pedestrian'),
                                            seed=0, beams=64, azimuth_step=0.25)
    # test scenes have frames where a car has no points, and one corrupt file
    assert (summary['0019']['points_per_object'][0] == 0).any()
    write_corrupt_bin(str(data / 'velodyne' / '0019' / '000011.bin'))

    work = tmp_path / 'train'
    proc = _run([REPO / 'tools' / 'train.py', CFG, '--work-dir', work] + _opts(**{
        'train_dataloader.dataset.data_root': data,
        'train_dataloader.num_workers': 0,
        'default_hooks.checkpoint.interval': 8,
        'default_hooks.logger.interval': 10,
    }), cwd=tmp_path)
    losses = [float(v) for v in re.findall(r' loss: ([0-9.]+)', proc.stdout + proc.stderr)]
    assert len(losses) >= 20 and all(np.isfinite(losses))  # 8 epochs x 30 iterations
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3])
    ckpt = work / 'epoch_8.pth'
    assert ckpt.is_file()

    def track(checkpoint, name):
        results = tmp_path / name
        opts = {'test_dataloader.dataset.data_root': data,
                'test_dataloader.dataset.scenes': '[19,20]',
                'test_evaluator.outfile_prefix': results}
        proc = _run([REPO / 'tools' / 'test.py', CFG, checkpoint, '--work-dir',
                     tmp_path / f'{name}_work'] + _opts(**opts), cwd=tmp_path)
        return results, proc.stdout + proc.stderr

    results, log = track(ckpt, 'results')
    # the corrupt file: named with its frame, tracking went on from the last box
    assert '000011.bin (sequence 0019_0000 frame 11 (scene 0019 frame 11)): size' in log
    assert 'empty search area' in log
    metrics = json.loads((results / 'metrics.json').read_text())
    n_pred = sorted(p.name for p in (results / 'pred').glob('*.txt'))
    assert n_pred == ['0019_0000.txt', '0019_0001.txt', '0020_0000.txt', '0020_0001.txt']
    assert metrics['num_frames'] == 4 * 20
    pred = read_box3d_file(str(results / 'pred' / '0019_0000.txt'))
    gt = read_box3d_file(str(results / 'gt' / '0019_0000.txt'))
    np.testing.assert_allclose(pred[0], gt[0], atol=1e-5)  # frame 0 = ground truth
    # the corrupt frame 11 keeps the box of frame 10
    np.testing.assert_allclose(pred[11], pred[10], atol=1e-6)
    np.testing.assert_allclose(pred[:, 3:6], np.repeat(gt[:1, 3:6], 20, 0), atol=1e-5)

    # the margins: trained vs the box that never moves and vs the untrained net
    base = _static_box_success(results)
    init_ckpt = tmp_path / 'init.pth'
    _init_checkpoint(init_ckpt)
    init_results, _ = track(init_ckpt, 'results_init')
    init = json.loads((init_results / 'metrics.json').read_text())
    print(f"tiny BEVTrack after 240 iterations: Success {metrics['success']:.1f} / Precision "
          f"{metrics['precision']:.1f}; box never moves {base['success']:.1f} / "
          f"{base['precision']:.1f}; untrained {init['success']:.1f} / "
          f"{init['precision']:.1f}")
    assert metrics['success'] > base['success'] + STATIC_MARGIN
    assert metrics['success'] > init['success'] + UNTRAINED_MARGIN

    # the eval script on the written files gives the same numbers; render one
    out = tmp_path / 'eval.json'
    render = tmp_path / 'render'
    _run([REPO / 'tools' / 'analysis_tools' / 'eval_sot3d.py', results / 'pred', results / 'gt',
          '--json', out, '--render-root', data, '--render-dir', render, '--backend',
          'matplotlib', '--render-seqs', 1], cwd=tmp_path)
    js = json.loads(out.read_text())
    assert js['num_frames'] == metrics['num_frames']
    assert js['success'] == pytest.approx(metrics['success'], abs=1e-3)
    assert js['precision'] == pytest.approx(metrics['precision'], abs=1e-3)
    pngs = sorted(render.glob('0019_0000_*.png'))
    assert len(pngs) == 20 and pngs[0].stat().st_size > 1000
