"""End to end: the tiny DropFlow config trains on synthetic FlyingChairs-like
pairs through tools/train.py and is evaluated through tools/test.py
(FlowMetric, chairs protocol), against the zero-flow baseline and the same
model untrained (its initialisation, through tools/test.py as well).

The margins are those measured on 2 shared CPU cores in about three
minutes of training of a randomly initialised tiny ViT: the trained model is
far better than its initialisation but only at parity with zero flow."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'configs' / 'flow' / 'dropflow_tiny_synthetic.py'
TIMEOUT = 1200


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = str(REPO) + os.pathsep + env.get('PYTHONPATH', '')
    env['OMP_NUM_THREADS'] = '1'  # measured faster than 2 on the shared cores
    return env


def zero_flow_epe(root: str) -> float:
    """Chairs-protocol EPE of predicting no motion on the val split."""
    from mmdropmae.datasets.flow import FlyingChairsDataset
    from mmdropmae.datasets.transforms.flow_transforms import LoadFlowPair
    from mmdropmae.evaluation.functional.flow_metrics import summarize_flow, zero_flow_stats
    ds = FlyingChairsDataset(data_root=root, split='val')
    stats = [zero_flow_stats(LoadFlowPair()(dict(ds[i]))['gt_flow'], protocol='chairs')
             for i in range(len(ds))]
    return summarize_flow(stats, 'chairs')['epe']


@pytest.fixture(scope='module')
def chairs_root(tmp_path_factory):
    from mmdropmae.datasets.synthetic.flow import make_synthetic_chairs
    root = tmp_path_factory.mktemp('flow_chairs')
    make_synthetic_chairs(str(root), num_train=64, num_val=8, size=(80, 64), seed=0,
                          max_translation=10, max_bg_translation=8)
    return root


def _untrained_checkpoint(path: Path):
    from mmengine.config import Config

    from mmdropmae.registry import MODELS
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(TINY)).model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)


def _test_epe(ckpt: Path, work: Path, opts, cwd) -> float:
    test = subprocess.run([sys.executable, str(REPO / 'tools' / 'test.py'), str(TINY),
                           str(ckpt), '--work-dir', str(work)] + opts, cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert test.returncode == 0, test.stdout[-2000:] + test.stderr[-3000:]
    found = re.findall(r'flow/epe: ([\d.]+)', test.stdout + test.stderr)
    assert found, test.stdout[-2000:] + test.stderr[-3000:]
    return float(found[-1])


@pytest.mark.slow
def test_tiny_dropflow_train_and_test(chairs_root, tmp_path):
    work = tmp_path / 'work'
    data = [f'train_dataloader.dataset.data_root={chairs_root}',
            f'test_dataloader.dataset.data_root={chairs_root}']
    opts = ['--cfg-options'] + data + ['default_hooks.logger.interval=10',
                                       'log_processor.window_size=10']
    train = subprocess.run([sys.executable, str(REPO / 'tools' / 'train.py'), str(TINY),
                            '--work-dir', str(work)] + opts, cwd=tmp_path, env=_env(),
                           capture_output=True, text=True, timeout=TIMEOUT)
    assert train.returncode == 0, train.stdout[-2000:] + train.stderr[-3000:]
    rows = []
    for f in sorted(work.glob('*/vis_data/scalars.json')):
        rows += [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
    losses = [r['loss'] for r in rows if 'loss' in r]
    assert len(losses) >= 10, rows[-3:]
    ckpts = sorted(work.glob('iter_*.pth'))
    assert ckpts
    test_opts = ['--cfg-options'] + data
    epe = _test_epe(ckpts[-1], tmp_path / 'test', test_opts, tmp_path)
    untrained = tmp_path / 'untrained.pth'
    _untrained_checkpoint(untrained)
    epe_untrained = _test_epe(untrained, tmp_path / 'test_untrained', test_opts, tmp_path)
    baseline = zero_flow_epe(str(chairs_root))
    first, last = float(np.mean(losses[:3])), float(np.mean(losses[-3:]))
    print(f'DropFlow tiny EPE {epe:.3f}, untrained {epe_untrained:.3f}, zero flow '
          f'{baseline:.3f}; loss {first:.3f} -> {last:.3f}')
    # measured (2 busy cores, 200 steps): EPE 6.99 trained, 22.84 untrained
    # (the random global matching), 7.02 zero flow; loss 7.82 -> 3.38.
    # The loss falls below 0.6 x its start (measured 0.43)
    assert last < 0.6 * first, (first, last)
    # training removes most of the untrained error: below 0.5 x (measured 0.31)
    assert epe < 0.5 * epe_untrained, (epe, epe_untrained)
    # against zero flow the tiny random-init run only reaches parity (measured
    # 0.995 x): not worse than 1.02 x. Far below zero flow needs a pre-trained
    # encoder or a longer run than a unit-test budget (docs/optical_flow.md).
    assert epe < 1.02 * baseline, (epe, baseline)
