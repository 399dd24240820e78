"""tools/experiments/mini_replication.py: argument handling, the verdict rule,
and (slow) the fast variant end to end, checking that every number and
figure is produced and consistent, and that a second invocation re-uses the
finished runs. The direction of the result is not tested."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from tests.utils import REPO, load_script

SCRIPT = 'tools/experiments/mini_replication.py'


@pytest.fixture(scope='module')
def mr():
    return load_script(SCRIPT)


def test_parse_args_scales(mr):
    args = mr.parse_args([])
    assert args.scale['seeds'] == [0, 1, 2] and args.scale['iters'] == 1000
    args = mr.parse_args(['--fast', '--iters', '20', '--embed-dims', '64'])
    assert args.scale['iters'] == 20 and args.scale['embed_dims'] == 64
    assert args.scale['depth'] == mr.FAST['depth']
    for bad in (['--img-size', '100'], ['--embed-dims', '100'], ['--seeds', '3'],
                ['--seeds', '1', '1'], ['--drop-prob', '0'], ['--iters', '2']):
        with pytest.raises(SystemExit):
            mr.parse_args(bad)


def test_select_device(mr, monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert mr.select_device('auto') == 'cpu'
    with pytest.raises(SystemExit, match='no CUDA device'):
        mr.select_device('cuda')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert mr.select_device('auto') == 'cuda'
    assert mr.select_device('cuda') == 'cuda'
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '0')
    assert mr.select_device('cpu') == 'cpu'
    assert os.environ['CUDA_VISIBLE_DEVICES'] == ''


def test_verdict_rule(mr):
    # same sign, mean 0.03 >= 2 x spread 0.01
    assert mr.verdict([0.02, 0.03, 0.04], 0.01) == 'appears'
    assert mr.verdict([0.02, 0.03, 0.04], 0.02) == 'weak'
    assert mr.verdict([0.02, -0.03, 0.04], 0.001) == 'absent'
    assert mr.verdict([-0.02, -0.03, -0.04], 0.01) == 'reversed'
    # lower is better (loss): negative gaps are the paper's direction
    assert mr.verdict([-0.02, -0.03, -0.04], 0.01, higher_is_better=False) == 'appears'
    assert mr.verdict([0.0, 0.0], 0.0) == 'absent'


def test_config_difference_and_arm_configs(mr, tmp_path):
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    scale = mr.parse_args([]).scale
    a = mr.experiment_cfg_dict(mr.build_run_cfg('TwinMAE', 0, scale, 'd', str(tmp_path / 'a')))
    b = mr.experiment_cfg_dict(mr.build_run_cfg('DropMAE', 0, scale, 'd', str(tmp_path / 'b')))
    diff = mr.config_difference(a, b)
    assert diff == {'model.neck.attn_cfg.drop_prob': (0.0, 0.1)}
    c = mr.experiment_cfg_dict(mr.build_run_cfg('DropMAE', 1, scale, 'd', str(tmp_path / 'c')))
    assert mr.config_difference(b, c) == {'randomness.seed': (0, 1)}
    # the schedule follows --iters
    assert b['train_cfg']['max_iters'] == 1000
    assert b['param_scheduler'][1]['end'] == 1000
    assert b['default_hooks']['checkpoint']['interval'] == 250


def _run(out_dir):
    env = dict(os.environ, PYTHONPATH=REPO, CUDA_VISIBLE_DEVICES='')
    return subprocess.run(
        [sys.executable, SCRIPT, '--fast', '--out-dir', str(out_dir), '--device', 'cpu'],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=300)


@pytest.mark.slow
def test_fast_variant_end_to_end(mr, tmp_path, monkeypatch, capsys):
    out = tmp_path / 'mr'
    proc = _run(out)
    assert proc.returncode == 0, proc.stdout[-4000:]
    report = (out / 'report.md').read_text()
    res = json.loads((out / 'results.json').read_text())
    scale, seeds = res['scale'], res['seeds']
    assert seeds == mr.FAST['seeds']
    # every figure, a real PNG of some size
    import matplotlib.image as mpimg
    for name in ('attention_per_layer.png', 'training_curve.png', 'reconstruction.png'):
        assert name in report, name
        img = mpimg.imread(str(out / name))
        assert img.shape[0] > 100 and img.shape[1] > 100, (name, img.shape)
    for _, label, _ in mr.METRICS:
        assert f'| {label} |' in report, label
    assert '## Verdict' in report and 'What would change it' in report

    n_tok = 2 * (scale['img_size'] // 16)**2
    runs = {(r['arm'], r['seed']): r for r in res['runs']}
    assert set(runs) == {(a, s) for a in ('untrained', 'TwinMAE', 'DropMAE') for s in seeds}
    for key, run in runs.items():
        f = run['final']
        assert len(f['within']) == len(f['between']) == scale['decoder_depth'], key
        # (a) each query's attention is split between its own frame and the other
        np.testing.assert_allclose(np.add(f['within'], f['between']), 1.0, atol=1e-4)
        assert f['between_mean'] == pytest.approx(np.mean(f['between']))
        # (b) f_tem is a max over the N keys of the other frame: between / N <= f_tem <= between
        assert f['between_last'] / (n_tok // 2) - 1e-6 <= f['f_tem_mean'] <= f['between_last']
        assert f['f_tem_rel_uniform'] == pytest.approx(f['f_tem_mean'] * n_tok, rel=1e-5)
        # (c) J&F in [0, 1], the mean of J and F
        for m in ('jf', 'j', 'f'):
            assert 0.0 <= f[m] <= 1.0, (key, m, f[m])
        assert f['jf'] == pytest.approx((f['j'] + f['f']) / 2, abs=1e-6)
        # (d) a finite positive loss
        assert np.isfinite(f['loss']) and f['loss'] > 0
        want = [0] if key[0] == 'untrained' else [3, 6, 9, 12]
        assert [c['iter'] for c in run['curve']] == want
        assert run['curve'][-1]['jf'] == f['jf']
    # the arms differ only in the attention: the configs, and the weights
    # (the same init, ASAD changed the updates)
    for s in seeds:
        assert res['config_differences'][str(s)] == {
            'model.neck.attn_cfg.drop_prob': [0.0, scale['drop_prob']]}
    import torch
    w = {a: torch.load(out / 'runs' / f'{a}_seed0' / 'iter_12.pth', weights_only=False)
         ['state_dict'] for a in ('TwinMAE', 'DropMAE')}
    assert w['TwinMAE'].keys() == w['DropMAE'].keys()
    key = 'neck.decoder_blocks.0.attn.qkv.weight'
    assert not torch.equal(w['TwinMAE'][key], w['DropMAE'][key])
    assert not (out / 'runs' / 'TwinMAE_seed0' / 'iter_6.pth').exists()  # curve kept in json
    # the aggregates are those of the runs
    for key, _, _ in mr.METRICS:
        for arm in ('untrained', 'TwinMAE', 'DropMAE'):
            vals = [runs[(arm, s)]['final'][key] for s in seeds]
            assert res['table'][arm][key]['mean'] == pytest.approx(np.mean(vals))
            assert res['table'][arm][key]['std'] == pytest.approx(np.std(vals, ddof=1))
        gap = [runs[('DropMAE', s)]['final'][key] - runs[('TwinMAE', s)]['final'][key]
               for s in seeds]
        assert res['gaps'][key]['per_seed'] == pytest.approx(gap)
        assert res['gaps'][key]['verdict'] in mr.VERDICT_TEXT
    assert res['timing']['train_s'] > 0
    assert res['copy_first_mask']['jf'] <= 1.0

    # resumable: a second invocation (in this process, to save the start-up)
    # re-uses every finished run: no training, no measuring, the same report
    stamp = sorted(os.listdir(out / 'runs' / 'DropMAE_seed0'))

    def no_training(*args, **kwargs):
        raise AssertionError('a finished run was trained again')
    monkeypatch.setattr(mr, 'train', no_training)
    monkeypatch.setattr(mr, 'Probe', no_training)
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')  # restored afterwards
    threads = torch.get_num_threads()
    try:
        assert mr.main(['--fast', '--out-dir', str(out), '--device', 'cpu']) == 0
    finally:
        torch.set_num_threads(threads)
    assert capsys.readouterr().out.count('done before, results kept') == 6
    assert sorted(os.listdir(out / 'runs' / 'DropMAE_seed0')) == stamp
    res2 = json.loads((out / 'results.json').read_text())
    assert res2['gaps'] == res['gaps'] and res2['table'] == res['table']
    assert osp.exists(out / 'report.md')
