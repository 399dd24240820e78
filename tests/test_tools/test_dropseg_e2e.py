"""End to end: the tiny DropSeg config trains on synthetic DAVIS through
tools/train.py and is evaluated through tools/test.py (VOSMetric), compared
with the "copy the first mask" baseline and with the same model untrained
(its initialisation, evaluated through tools/test.py as well) on the same
validation videos. Asserted: the loss falls and J&F is above the untrained
model's; the copy-first-mask comparison is printed (not robust at this scale,
see the comment at the end)."""
from pathlib import Path

import numpy as np
import pytest

from tests.utils import logged_losses, run_tool, test_tool_metric, untrained_checkpoint

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'configs' / 'dropseg' / 'dropseg_tiny_synthetic.py'
THREADS = 2
JF = r'vos/J&F-Mean: ([\d.]+)'


def copy_first_mask_scores(root: str, split: str = 'val') -> dict:
    """VOSMetric of predicting, for every frame, each object's reference mask
    (objects entering later: from their first frame on)."""
    from mmdropmae.datasets.vos import DAVISDataset, load_vos_mask
    from mmdropmae.evaluation.metrics.vos_metric import VOSMetric
    ds = DAVISDataset(data_root=root, split=split, mode='sequence', serialize_data=False)
    metric = VOSMetric()
    samples = []
    for seq in ds.sequences:
        cur = None
        for t in range(seq['num_frames']):
            gt = load_vos_mask(seq['mask_paths'][t])
            cur = np.zeros_like(gt) if cur is None else cur
            for obj, first in seq['first_frames'].items():
                if first == t:
                    cur = np.where(gt == obj, obj, cur)
            samples.append(dict(video_name=seq['video_name'], frame_id=t,
                                frame_name=seq['frame_names'][t],
                                gt_mask_path=seq['mask_paths'][t], num_frames=seq['num_frames'],
                                object_ids=seq['object_ids'], first_frames=seq['first_frames'],
                                pred_mask=cur.copy()))
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


@pytest.fixture(scope='module')
def davis_root(tmp_path_factory):
    from mmdropmae.datasets.synthetic.vos import make_synthetic_davis
    root = tmp_path_factory.mktemp('dropseg_davis')
    make_synthetic_davis(str(root), num_sequences=dict(train=8, val=4), num_frames=12,
                         size=(64, 48), num_objects=(2, 3), seed=0)
    return root


@pytest.mark.slow
def test_tiny_dropseg_train_and_test(davis_root, tmp_path):
    work = tmp_path / 'work'
    data = [f'train_dataloader.dataset.datasets.0.data_root={davis_root}',
            f'test_dataloader.dataset.data_root={davis_root}']
    # every iteration's own loss in the log (no moving average)
    opts = ['--cfg-options'] + data + ['default_hooks.logger.interval=1',
                                       'log_processor.window_size=1']
    run_tool([REPO / 'tools' / 'train.py', TINY, '--work-dir', work] + opts, tmp_path, THREADS)
    rows = logged_losses(work)
    # the bootstrapped CE changes its pixel pool after warm-up (iteration 60):
    # compare the plain-CE phase (top_p == 1), the mean of its first 15
    # iterations against the mean of its last 15
    plain = [r['loss'] for r in rows if r.get('top_p', 1.0) >= 0.999]
    assert len(plain) >= 50, len(plain)
    first, last = float(np.mean(plain[:15])), float(np.mean(plain[-15:]))
    ckpts = sorted(work.glob('epoch_*.pth'))
    assert ckpts
    test_opts = ['--cfg-options'] + data
    jf = test_tool_metric(TINY, ckpts[-1], tmp_path / 'test', test_opts, tmp_path, JF, THREADS)
    untrained = tmp_path / 'untrained.pth'
    untrained_checkpoint(TINY, untrained)
    jf_untrained = test_tool_metric(TINY, untrained, tmp_path / 'test_untrained', test_opts,
                                    tmp_path, JF, THREADS)
    baseline = copy_first_mask_scores(str(davis_root))['J&F-Mean']
    print(f'DropSeg tiny J&F {jf:.4f}, untrained {jf_untrained:.4f}, copy-first-mask '
          f'{baseline:.4f}; plain-CE loss {first:.4f} -> {last:.4f}')
    # the loss falls: the last window's mean below 0.7 x the first's
    # (measured 1.04 -> 0.53)
    assert last < 0.7 * first, (first, last)
    assert 0 <= jf <= 1
    # J&F. Measured on this machine (2026-12-02, fresh install): trained 0.154
    # (config seed 0), 0.075 / 0.190 (seeds 1 / 2), untrained 0.056, copy the
    # first mask 0.116; 12 epochs instead of 6 did not help (seeds 0 / 1:
    # 0.155 / 0.110). An earlier machine measured 0.235 for seed 0: the tiny
    # run is chaotic in its numerics, and beating copy-first-mask is not a
    # robust property at this scale (docs/vos_evaluation.md), so it is only
    # printed. What holds on every seed measured: above the untrained model
    # (worst +0.019).
    assert jf > jf_untrained + 0.01, (jf, jf_untrained)
