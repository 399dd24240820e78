"""End to end: the tiny DropFlow config trains on synthetic FlyingChairs-like
pairs through tools/train.py and is evaluated through tools/test.py
(FlowMetric, chairs protocol), against the zero-flow baseline and the same
model untrained (its initialisation, through tools/test.py as well).

The margins are those measured on 2 shared CPU cores with about two to four
minutes of training of a randomly initialised tiny ViT (three seeds of the
config, docs/optical_flow.md)."""
from pathlib import Path

import numpy as np
import pytest

from tests.utils import logged_losses, run_tool, test_tool_metric, untrained_checkpoint

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'configs' / 'flow' / 'dropflow_tiny_synthetic.py'
THREADS = 1  # measured faster than 2 on the shared cores
EPE = r'flow/epe: ([\d.]+)'


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


@pytest.mark.slow
def test_tiny_dropflow_train_and_test(chairs_root, tmp_path):
    work = tmp_path / 'work'
    data = [f'train_dataloader.dataset.data_root={chairs_root}',
            f'test_dataloader.dataset.data_root={chairs_root}']
    opts = ['--cfg-options'] + data + ['default_hooks.logger.interval=10',
                                       'log_processor.window_size=10']
    run_tool([REPO / 'tools' / 'train.py', TINY, '--work-dir', work] + opts, tmp_path, THREADS)
    rows = logged_losses(work)
    losses = [r['loss'] for r in rows]
    assert len(losses) >= 10, rows[-3:]
    ckpts = sorted(work.glob('iter_*.pth'))
    assert ckpts
    test_opts = ['--cfg-options'] + data
    epe = test_tool_metric(TINY, ckpts[-1], tmp_path / 'test', test_opts, tmp_path, EPE, THREADS)
    untrained = tmp_path / 'untrained.pth'
    untrained_checkpoint(TINY, untrained)
    epe_untrained = test_tool_metric(TINY, untrained, tmp_path / 'test_untrained', test_opts,
                                     tmp_path, EPE, THREADS)
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
