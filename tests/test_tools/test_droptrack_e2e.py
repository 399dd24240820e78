"""End to end: a tiny DropMAE pre-trains briefly on synthetic mp4 videos, the
tiny DropTrack fine-tunes from it on synthetic GOT-10k sequences through
tools/train.py (its encoder provably starting from the pre-trained one), and
tools/test.py tracks the val sequences; the fine-tuned tracker must beat the
"box never moves" baseline and the same tracker before fine-tuning (the
pre-trained encoder with the head at its initialisation) by stated margins
of success AUC."""
import re
from pathlib import Path

import numpy as np
import pytest

from tests.utils import run_tool

REPO = Path(__file__).resolve().parents[2]
MAE = REPO / 'configs' / 'dropmae' / 'pretrain_tiny_synthetic.py'
TRACK = REPO / 'configs' / 'droptrack' / 'droptrack_tiny_synthetic.py'


def _run(script, config, args, cwd, timeout=1800):  # generous: 2 busy cores
    return run_tool([REPO / 'tools' / script, config] + args, cwd, timeout=timeout)


def _opts(**kw):
    return ['--cfg-options'] + [f'{k}={v}' for k, v in kw.items()]


def _baseline_auc(root):
    """Success AUC of predicting the first box in every frame, with the
    conventions of OPEMetric(dataset='got10k')."""
    from mmdropmae.evaluation.functional.sot_metrics import (evaluate_ope,
                                                             ope_preset)
    from mmdropmae.registry import DATASETS
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    ds = DATASETS.build(
        dict(type='GOT10kDataset', data_root=str(root), split='val'))
    preds, gts, vis = [], [], []
    for i in range(ds.num_videos):
        seq = ds.get_sequence(i)
        gt = seq['gt_bboxes']
        preds.append(np.repeat(gt[:1], len(gt), 0))
        gts.append(gt)
        vis.append(seq['visible'])
    absent, first = ope_preset('got10k')
    return evaluate_ope(preds, gts, vis, absent=absent,
                        first_frame=first)['auc']


def _tracker_from_pretrained(mae_ckpt, path):
    """The tiny tracker as fine-tuning starts: the encoder loaded from the
    DropMAE checkpoint (checked tensor by tensor), the head at its
    initialisation; saved to ``path``."""
    import torch
    from mmengine.config import Config

    from mmdropmae.registry import MODELS
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(str(TRACK))
    cfg.model.backbone.init_cfg.checkpoint = str(mae_ckpt)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    mae = torch.load(mae_ckpt, map_location='cpu', weights_only=False)['state_dict']
    enc = {k[len('backbone.'):]: v for k, v in mae.items() if k.startswith('backbone.blocks.')}
    ours = model.backbone.state_dict()
    assert enc and all(torch.equal(ours[k], v) for k, v in enc.items())
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)


@pytest.mark.slow
def test_finetune_and_track_beats_static_box(tmp_path, synthetic_video_root):
    from mmdropmae.datasets.synthetic.sot import make_synthetic_got10k
    scenarios = ['plain', 'occlusion', 'fast_motion', 'scale_change',
                 'leave_frame']
    sot = tmp_path / 'synthetic_sot'
    make_synthetic_got10k(str(sot), 'train', num_sequences=30,
                          num_frames=(40, 80), size=(160, 120), seed=0,
                          scenarios=scenarios)
    make_synthetic_got10k(str(sot), 'val', num_sequences=10, num_frames=50,
                          size=(160, 120), seed=100, scenarios=scenarios)

    # 1. a (briefly) pre-trained tiny DropMAE
    mae_dir = tmp_path / 'dropmae'
    _run('train.py', MAE, ['--work-dir', str(mae_dir)] + _opts(**{
        'train_dataloader.dataset.data_root': synthetic_video_root,
        'train_dataloader.batch_size': 6,
        'train_dataloader.num_workers': 0,
        'train_cfg.max_epochs': 4,
        'default_hooks.checkpoint.interval': 4,
        'custom_hooks': '[]',
    }), cwd=tmp_path)
    mae_ckpt = mae_dir / 'epoch_4.pth'
    assert mae_ckpt.is_file()

    # 2. fine-tune the tiny tracker from it: the config's schedule stretched
    # to 24 epochs (CE from epoch 8, warm-up 8, lr step at 20). The config's
    # 12 epochs leave the tracker fragile (success AUC 0.17-0.30 here with
    # the training seeds or the test-time crop changed, against 0.19 for the
    # static box); 24 give 0.37
    track_dir = tmp_path / 'droptrack'
    proc = _run('train.py', TRACK, ['--work-dir', str(track_dir)] + _opts(**{
        'train_dataloader.dataset.datasets.0.data_root': sot,
        'model.backbone.init_cfg.checkpoint': mae_ckpt,
        'train_cfg.max_epochs': 24,
        'param_scheduler.0.milestones': '[20]',
        'model.ce_start_epoch': 8,
        'model.ce_warm_epochs': 8,
        'default_hooks.checkpoint.interval': 24,
    }), cwd=tmp_path)
    log = proc.stdout + proc.stderr
    assert 'Loaded encoder weights' in log and 'missing keys' not in log
    ckpt = track_dir / 'epoch_24.pth'
    assert ckpt.is_file()
    before = tmp_path / 'before_finetuning.pth'
    _tracker_from_pretrained(mae_ckpt, before)

    # 3. track the val sequences with tools/test.py, write GOT-10k results
    results = tmp_path / 'results'
    test_opts = _opts(**{
        'test_dataloader.dataset.data_root': sot,
        'test_evaluator.0.outfile_prefix': results,
    })
    proc = _run('test.py', TRACK,
                [str(ckpt), '--work-dir', str(tmp_path / 'test')] + test_opts,
                cwd=tmp_path)
    out = proc.stdout + proc.stderr
    auc = float(re.findall(r'auc: ([0-9.]+)', out)[-1])
    ao = float(re.findall(r'ao: ([0-9.]+)', out)[-1])
    assert (results / 'GOT-10k_Val_000001' /
            'GOT-10k_Val_000001_001.txt').is_file()
    base = _baseline_auc(sot)
    proc = _run('test.py', TRACK, [str(before), '--work-dir', str(tmp_path / 'test0')] +
                _opts(**{'test_dataloader.dataset.data_root': sot}), cwd=tmp_path)
    auc_before = float(re.findall(r'auc: ([0-9.]+)', proc.stdout + proc.stderr)[-1])
    print(f'tracker AUC {auc:.3f} (AO {ao:.3f}), static-box AUC {base:.3f}, '
          f'before fine-tuning {auc_before:.3f}')
    # margins of success AUC, about half the measured gaps (fine-tuned 0.37,
    # static box 0.19, before fine-tuning 0.11): 0.08 over the static box,
    # 0.15 over the tracker before fine-tuning
    assert auc > base + 0.08, (auc, base)
    assert auc > auc_before + 0.15, (auc, auc_before)

    # 4. an interrupted evaluation resumes: sequences with complete result
    # files are skipped, the others tracked, and all are scored
    import shutil
    for name in ('GOT-10k_Val_000002', 'GOT-10k_Val_000005'):
        shutil.rmtree(results / name)
    proc = _run('test.py', TRACK,
                [str(ckpt), '--work-dir', str(tmp_path / 'test2'),
                 '--resume-results'] + test_opts, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert 'skipping 8 of 10 sequences' in out
    assert (results / 'GOT-10k_Val_000002' /
            'GOT-10k_Val_000002_001.txt').is_file()
    line = [x for x in out.splitlines() if 'all 10 sequences' in x][-1]
    assert abs(float(re.findall(r'ao: ([0-9.]+)', line)[0]) - ao) < 1e-3
    assert abs(float(re.findall(r'auc: ([0-9.]+)', line)[0]) - auc) < 1e-3
