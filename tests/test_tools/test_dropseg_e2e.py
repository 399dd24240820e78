"""End to end: the tiny DropSeg config trains on synthetic DAVIS through
tools/train.py and is evaluated through tools/test.py (VOSMetric), compared
with the "copy the first mask" baseline on the same validation videos."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'configs' / 'dropseg' / 'dropseg_tiny_synthetic.py'


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = str(REPO) + os.pathsep + env.get('PYTHONPATH', '')
    env['OMP_NUM_THREADS'] = '2'
    return env


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


def _losses(work_dir: Path):
    rows = []
    for f in sorted(work_dir.glob('*/vis_data/scalars.json')):
        rows += [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
    return [r for r in rows if 'loss' in r]


def test_tiny_dropseg_train_and_test(davis_root, tmp_path):
    work = tmp_path / 'work'
    opts = ['--cfg-options', f'train_dataloader.dataset.datasets.0.data_root={davis_root}',
            f'test_dataloader.dataset.data_root={davis_root}', 'default_hooks.logger.interval=5']
    train = subprocess.run([sys.executable, str(REPO / 'tools' / 'train.py'), str(TINY),
                            '--work-dir', str(work)] + opts, cwd=tmp_path, env=_env(),
                           capture_output=True, text=True, timeout=400)
    assert train.returncode == 0, train.stderr[-3000:]
    rows = _losses(work)
    assert rows, 'no training losses logged'
    # the bootstrapped CE changes its pixel pool after warm-up: compare the
    # plain-CE phase (top_p == 1)
    plain = [r for r in rows if r.get('top_p', 1.0) >= 0.999]
    assert plain[-1]['loss'] < plain[0]['loss']
    ckpts = sorted(work.glob('epoch_*.pth'))
    assert ckpts
    test = subprocess.run([sys.executable, str(REPO / 'tools' / 'test.py'), str(TINY),
                           str(ckpts[-1]), '--work-dir', str(work)] + opts, cwd=tmp_path,
                          env=_env(), capture_output=True, text=True, timeout=300)
    assert test.returncode == 0, test.stderr[-3000:]
    out = test.stdout + test.stderr
    line = [x for x in out.splitlines() if 'vos/J&F-Mean:' in x][-1]
    jf = float(line.split('vos/J&F-Mean:')[1].split()[0])
    baseline = copy_first_mask_scores(str(davis_root))['J&F-Mean']
    print(f'DropSeg tiny J&F {jf:.4f} vs copy-first-mask {baseline:.4f}')
    assert 0 <= jf <= 1
    assert jf > baseline
