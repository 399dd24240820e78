"""End to end: the tiny DropFlow config trains on synthetic FlyingChairs-like
pairs through tools/train.py and is evaluated through tools/test.py
(FlowMetric, chairs protocol), against the zero-flow baseline and the same
model untrained (its initialisation, through tools/test.py as well).

The margins are those measured on 2 shared CPU cores with about two to four
minutes of training of a randomly initialised tiny ViT (three seeds of the
config, docs/optical_flow.md)."""
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
    make_synthetic_chairs(str(root), num_train=512, num_val=32, size=(80, 64), seed=0,
                          max_translation=10, max_bg_translation=8, texture_detail=30)
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
    # measured (2 busy cores, 300 steps, about 2.5 min of training): EPE 4.63
    # trained (config seeds 1 and 2: 4.04, 4.17), 7.38 untrained (the local
    # match of random features), 6.42 zero flow; loss 5.35 -> 3.1.
    # The loss falls below 0.75 x its start (measured 0.62 at 200 steps)
    assert last < 0.75 * first, (first, last)
    # training removes much of the untrained error: below 0.75 x (measured 0.63)
    assert epe < 0.75 * epe_untrained, (epe, epe_untrained)
    # and beats zero flow by more than 20 % (measured 0.72 x; 0.63 and 0.65 x
    # for seeds 1 and 2)
    assert epe < 0.8 * baseline, (epe, baseline)
