"""End to end: the tiny DropMAE config pre-trains on synthetic mp4 videos
through tools/train.py, resumes, runs under tools/dist_train.sh with two CPU
processes, skips a corrupt video and rejects an empty data root."""
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'configs' / 'dropmae' / 'pretrain_tiny_synthetic.py'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = str(REPO) + os.pathsep + env.get('PYTHONPATH', '')
    env['OMP_NUM_THREADS'] = '1'
    return env


def _train(args, cwd, timeout=300, dist=0, config=TINY):
    if dist:
        cmd = ['bash', str(REPO / 'tools' / 'dist_train.sh'), str(config),
               str(dist)]
        env = dict(_env(), PORT=str(_free_port()), PYTHON=sys.executable)
    else:
        cmd = [sys.executable, str(REPO / 'tools' / 'train.py'), str(config)]
        env = _env()
    return subprocess.run(cmd + args, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _options(root, **extra):
    opts = {
        'train_dataloader.dataset.data_root': str(root),
        'train_dataloader.batch_size': 4,
        'train_dataloader.num_workers': 2,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': 2,
        'custom_hooks.0.interval': 4,
    }
    opts.update(extra)
    return ['--cfg-options'] + [f'{k}={v}' for k, v in opts.items()]


def _losses(work_dir: Path):
    logs = sorted(work_dir.glob('*/vis_data/scalars.json'))
    rows = [json.loads(line) for f in logs for line in f.read_text().split(
        '\n') if line.strip()]
    return [(r['step'], r['loss']) for r in rows if 'loss' in r]


@pytest.fixture(scope='module')
def video_root(synthetic_video_root, tmp_path_factory):
    """The shared synthetic videos plus a corrupt mp4 and an empty class."""
    from mmdropmae.datasets.synthetic import write_corrupt_video
    root = tmp_path_factory.mktemp('videos') / 'kinetics'
    shutil.copytree(synthetic_video_root, root)
    cls = sorted(p for p in root.iterdir() if p.is_dir())[0]
    write_corrupt_video(str(cls / 'broken_clip.mp4'), seed=1)
    (root / 'empty_class').mkdir()
    return root


@pytest.mark.slow
def test_tiny_pretraining_learns_and_resumes(video_root, tmp_path):
    work = tmp_path / 'work'
    # the tiny config, logging to local files and TensorBoard
    config = tmp_path / 'tiny_tb.py'
    config.write_text(
        f'_base_ = [{str(TINY)!r}]\n'
        "visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), "
        "dict(type='TensorboardVisBackend')])\n")
    # 7 videos / batch 4 -> 2 iterations per epoch; 10 epochs
    res = _train(['--work-dir', str(work)] +
                 _options(video_root, **{'train_cfg.max_epochs': 10}),
                 tmp_path, config=config)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-4000:]
    # the corrupt file is skipped with a warning naming it; the empty class
    # folder is reported
    assert 'broken_clip.mp4' in log and 'Skipping broken video' in log
    assert 'empty_class' in log
    losses = _losses(work)
    assert len(losses) == 20
    first = sum(v for _, v in losses[:5]) / 5
    last = sum(v for _, v in losses[-5:]) / 5
    assert last < first - 0.05, losses
    for name in ('epoch_8.pth', 'epoch_10.pth', 'last_checkpoint'):
        assert (work / name).exists(), name
    ckpt = torch.load(work / 'epoch_10.pth', weights_only=False)
    assert ckpt['meta']['epoch'] == 10
    assert any(k.startswith('neck.decoder_blocks.0.attn')
               for k in ckpt['state_dict'])
    # the monitor hook logged attention statistics and reconstructions
    scalars = '\n'.join(
        f.read_text() for f in work.glob('*/vis_data/scalars.json'))
    assert 'attn/between_mean' in scalars
    assert list(work.glob('*/vis_data/vis_image/reconstruction_*.png'))
    assert list(work.glob('*/vis_data/events.out.tfevents.*'))

    # resume from the latest checkpoint and continue to epoch 12
    res = _train(['--work-dir', str(work), '--resume'] +
                 _options(video_root, **{'train_cfg.max_epochs': 12}),
                 tmp_path, config=config)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-4000:]
    assert 'resumed epoch: 10' in log.lower() or 'Load checkpoint' in log
    assert 'Epoch(train) [11]' in log and 'Epoch(train)  [1]' not in log
    assert (work / 'epoch_12.pth').exists()
    ckpt = torch.load(work / 'epoch_12.pth', weights_only=False)
    assert ckpt['meta']['iter'] == 24


@pytest.mark.slow
def test_dist_train_two_cpu_processes(video_root, tmp_path):
    work = tmp_path / 'dist'
    res = _train(['--work-dir', str(work)] +
                 _options(video_root, **{'train_cfg.max_epochs': 2,
                                         'train_dataloader.num_workers': 1}),
                 tmp_path, dist=2)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-4000:]
    assert 'gloo' in log
    assert (work / 'epoch_2.pth').exists()
    # two ranks x batch 4 over 7 videos: one iteration per epoch
    ckpt = torch.load(work / 'epoch_2.pth', weights_only=False)
    assert ckpt['meta']['iter'] == 2


@pytest.mark.slow
def test_empty_data_root_is_a_clear_error(tmp_path):
    empty = tmp_path / 'no_videos'
    empty.mkdir()
    res = _train(['--work-dir', str(tmp_path / 'w')] + _options(empty),
                 tmp_path, timeout=120)
    assert res.returncode != 0
    assert str(empty) in res.stderr + res.stdout
