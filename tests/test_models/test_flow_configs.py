"""The DropFlow configs carry RAFT's schedule (princeton-vl/RAFT
train_standard.sh, core/datasets.py fetch_dataloader, evaluate.py)."""
from pathlib import Path

import pytest
from mmengine.config import Config

CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / 'flow'

# stage: (steps, batch, lr, weight decay, gamma, crop, (min_scale, max_scale), test iters)
RAFT = {
    'chairs': (100000, 12, 4e-4, 1e-4, 0.8, (368, 496), (-0.1, 1.0), 24),
    'things': (100000, 6, 1.25e-4, 1e-4, 0.8, (400, 720), (-0.4, 0.8), 32),
    'sintel': (100000, 6, 1.25e-4, 1e-5, 0.85, (368, 768), (-0.2, 0.6), 32),
    'kitti': (50000, 6, 1e-4, 1e-5, 0.85, (288, 960), (-0.2, 0.4), 24),
}


def _steps(pipeline, name):
    return [s for s in pipeline if s['type'] == name]


@pytest.mark.parametrize('stage', sorted(RAFT))
def test_stage_recipe(stage):
    steps, batch, lr, wd, gamma, crop, scales, iters = RAFT[stage]
    cfg = Config.fromfile(str(CONFIGS / f'dropflow_vit-b16_{stage}.py'))
    assert cfg.train_cfg.max_iters == steps
    assert cfg.train_dataloader.batch_size == batch
    opt = cfg.optim_wrapper
    assert opt.optimizer.type == 'AdamW' and opt.optimizer.lr == lr
    assert opt.optimizer.weight_decay == wd and opt.clip_grad.max_norm == 1.0
    (sched, ) = cfg.param_scheduler
    assert sched.type == 'OneCycleLR' and sched.eta_max == lr
    assert sched.total_steps == steps + 100 and sched.pct_start == 0.05
    assert sched.anneal_strategy == 'linear'
    assert cfg.model.loss.gamma == gamma and cfg.model.loss.max_flow == 400
    assert cfg.model.head.num_iters == 12 and cfg.model.test_cfg.num_iters == iters
    ds = cfg.train_dataloader.dataset
    first = ds.datasets[0] if ds.type == 'ConcatDataset' else ds
    first = first.get('dataset', first)
    (crop_step, ) = _steps(first.pipeline, 'FlowRandomCrop')
    assert tuple(crop_step.crop_size) == crop
    assert crop[0] % 16 == 0 and crop[1] % 16 == 0  # whole ViT patches
    (resize, ) = _steps(first.pipeline, 'FlowRandomResize')
    assert (resize.min_scale, resize.max_scale) == scales
    flips = _steps(first.pipeline, 'FlowRandomFlip')
    assert (not flips) if stage == 'kitti' else flips[0].h_prob == 0.5


def test_sintel_mixture_and_kitti_eval():
    cfg = Config.fromfile(str(CONFIGS / 'dropflow_vit-b16_sintel.py'))
    parts = cfg.train_dataloader.dataset.datasets
    times = [(p.get('times', 1), p.get('dataset', p).type) for p in parts]
    assert times == [(100, 'SintelDataset'), (100, 'SintelDataset'), (200, 'KITTI2015Dataset'),
                     (5, 'HD1KDataset'), (1, 'FlyingThings3DDataset')]
    kitti = Config.fromfile(str(CONFIGS / 'dropflow_vit-b16_kitti.py'))
    assert kitti.test_evaluator.protocol == 'kitti' and kitti.model.test_cfg.pad_mode == 'kitti'
    sub = Config.fromfile(str(CONFIGS / 'dropflow_vit-b16_kitti-submission.py'))
    assert sub.test_evaluator.submission_layout == 'kitti' and sub.test_evaluator.format_only
    assert sub.test_dataloader.dataset.split == 'testing'
