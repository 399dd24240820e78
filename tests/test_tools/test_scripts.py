"""Tests of the tool scripts (train/test entry points, launch scripts).

The end-to-end runs use a toy linear-regression model and dataset
(``toy_modules.py``, ``toy_config.py``), so they test the tools and MMEngine
plumbing (resume, AMP on CPU, torchrun + gloo) independently of the DropMAE
model.
"""
import os
import os.path as osp
import re
import socket
import stat
import subprocess
import sys
import textwrap

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
HERE = osp.dirname(osp.abspath(__file__))
TOY_CONFIG = osp.join(HERE, 'toy_config.py')
SHELL_SCRIPTS = ['dist_train.sh', 'dist_test.sh', 'slurm_train.sh',
                 'slurm_test.sh']


def _env(**extra):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO, HERE] + ([env['PYTHONPATH']] if env.get('PYTHONPATH') else []))
    # CPU path everywhere: gloo backend and bfloat16 AMP are what we test
    env['CUDA_VISIBLE_DEVICES'] = ''
    env.update(extra)
    return env


def _run(cmd, timeout=120, **env):
    proc = subprocess.run(
        cmd, cwd=REPO, env=_env(**env), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return proc.returncode, proc.stdout


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _losses(log_text):
    return [
        float(x)
        for x in re.findall(r'Iter\(train\).*?loss: ([\d.]+)', log_text)
    ]


@pytest.fixture
def fake_bin(tmp_path):
    """A folder with a fake ``python`` and ``srun`` that print their args."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name in ('fakepython', 'srun'):
        path = bin_dir / name
        path.write_text(textwrap.dedent("""\
            #!/usr/bin/env bash
            echo "PYTHONPATH=$PYTHONPATH"
            for a in "$@"; do echo "ARG $a"; done
            """))
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return bin_dir


# --------------------------------------------------------------------------
# command-line interfaces
# --------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize('script,options', [
    ('train.py', ['--work-dir', '--resume', '--amp', '--auto-scale-lr',
                  '--cfg-options', '--launcher', '--local_rank']),
    ('test.py', ['--work-dir', '--out', '--cfg-options', '--launcher']),
])
def test_python_tools_help(script, options):
    rc, out = _run([sys.executable, osp.join(TOOLS, script), '--help'])
    assert rc == 0, out
    for opt in options:
        assert opt in out


@pytest.mark.parametrize('script', SHELL_SCRIPTS)
def test_shell_scripts_executable_and_valid(script):
    path = osp.join(TOOLS, script)
    assert os.access(path, os.X_OK), f'{script} is not executable'
    rc, out = _run(['bash', '-n', path])
    assert rc == 0, out
    # too few arguments: a usage message, not a torchrun/srun error
    rc, out = _run(['bash', path])
    assert rc == 2 and 'usage' in out


def test_dist_train_passes_multi_node_env(fake_bin):
    rc, out = _run(
        ['bash', osp.join(TOOLS, 'dist_train.sh'), 'cfg.py', '4',
         '--amp', '--cfg-options', 'a=1'],
        PYTHON=str(fake_bin / 'fakepython'), NNODES='2', NODE_RANK='1',
        MASTER_ADDR='10.1.2.3', PORT='12345')
    assert rc == 0, out
    args = re.findall(r'^ARG (.*)$', out, re.M)
    assert args[:2] == ['-m', 'torch.distributed.run']
    for expected in ('--nnodes=2', '--node_rank=1', '--master_addr=10.1.2.3',
                     '--nproc_per_node=4', '--master_port=12345'):
        assert expected in args
    i = args.index(osp.join(TOOLS, 'train.py'))
    assert args[i + 1:] == ['cfg.py', '--launcher', 'pytorch', '--amp',
                            '--cfg-options', 'a=1']
    assert f'PYTHONPATH={TOOLS}/..' in out


def test_dist_test_defaults(fake_bin):
    env = dict(PYTHON=str(fake_bin / 'fakepython'))
    cmd = ['env', '-u', 'NNODES', '-u', 'NODE_RANK', '-u', 'MASTER_ADDR',
           '-u', 'PORT', 'bash', osp.join(TOOLS, 'dist_test.sh'), 'cfg.py',
           'ckpt.pth', '2', '--out', 'r.pkl']
    rc, out = _run(cmd, **env)
    assert rc == 0, out
    args = re.findall(r'^ARG (.*)$', out, re.M)
    for expected in ('--nnodes=1', '--node_rank=0', '--master_addr=127.0.0.1',
                     '--nproc_per_node=2', '--master_port=29500'):
        assert expected in args
    i = args.index(osp.join(TOOLS, 'test.py'))
    assert args[i + 1:] == ['cfg.py', 'ckpt.pth', '--launcher', 'pytorch',
                            '--out', 'r.pkl']


@pytest.mark.parametrize('script,fourth,tool', [
    ('slurm_train.sh', 'work_dirs/x', 'train.py'),
    ('slurm_test.sh', 'ckpt.pth', 'test.py'),
])
def test_slurm_scripts(fake_bin, script, fourth, tool):
    rc, out = _run(
        ['bash', osp.join(TOOLS, script), 'part', 'job', 'cfg.py', fourth,
         '--cfg-options', 'a=1'],
        PATH=f'{fake_bin}{os.pathsep}{os.environ["PATH"]}', GPUS='16',
        GPUS_PER_NODE='8', SRUN_ARGS='--qos=high --time=10')
    assert rc == 0, out
    args = re.findall(r'^ARG (.*)$', out, re.M)
    for expected in ('-p', 'part', '--job-name=job', '--gres=gpu:8',
                     '--ntasks=16', '--ntasks-per-node=8', '--qos=high',
                     '--time=10', '--launcher=slurm', '--cfg-options', 'a=1',
                     osp.join(TOOLS, tool), 'cfg.py'):
        assert expected in args
    if tool == 'train.py':
        assert '--work-dir=work_dirs/x' in args
    else:
        assert 'ckpt.pth' in args


# --------------------------------------------------------------------------
# end to end with the toy model (CPU)
# --------------------------------------------------------------------------
@pytest.mark.slow
def test_train_resume_amp_and_test_end_to_end(tmp_path):
    work = str(tmp_path / 'work')
    train = [sys.executable, osp.join(TOOLS, 'train.py'), TOY_CONFIG,
             '--work-dir', work]

    rc, out = _run(train)
    assert rc == 0, out
    assert osp.isfile(osp.join(work, 'iter_10.pth'))
    assert osp.isfile(osp.join(work, 'iter_20.pth'))
    losses = _losses(out)
    assert len(losses) == 4 and losses[-1] < losses[0], losses

    # `--resume` without a value: latest checkpoint of the work dir; AMP on
    # CPU becomes bfloat16 autocast.
    rc, out = _run(train + ['--resume', '--amp', '--cfg-options',
                            'train_cfg.max_iters=30'])
    assert rc == 0, out
    assert 'Auto resumed from the latest checkpoint' in out
    assert 'resumed epoch: 0, iter: 20' in out
    assert 'CPUAmpOptimWrapper' in out
    assert 'Iter(train) [ 5/30]' not in out  # continued, not restarted
    assert 'Iter(train) [30/30]' in out
    assert osp.isfile(osp.join(work, 'iter_30.pth'))

    # `--resume CKPT`: that checkpoint
    work2 = str(tmp_path / 'work2')
    rc, out = _run([sys.executable, osp.join(TOOLS, 'train.py'), TOY_CONFIG,
                    '--work-dir', work2, '--resume',
                    osp.join(work, 'iter_10.pth')])
    assert rc == 0, out
    assert 'resumed epoch: 0, iter: 10' in out
    assert 'Iter(train) [15/20]' in out and 'Iter(train) [ 5/20]' not in out

    # tools/test.py with --out
    pkl = str(tmp_path / 'preds.pkl')
    rc, out = _run([sys.executable, osp.join(TOOLS, 'test.py'), TOY_CONFIG,
                    osp.join(work, 'iter_30.pth'), '--work-dir',
                    str(tmp_path / 'test'), '--out', pkl])
    assert rc == 0, out
    assert re.search(r'Iter\(test\).*mse: [\d.]+', out), out
    assert osp.isfile(pkl)


@pytest.mark.slow
def test_dist_train_two_cpu_processes_gloo(tmp_path):
    work = str(tmp_path / 'dist')
    rc, out = _run(
        ['bash', osp.join(TOOLS, 'dist_train.sh'), TOY_CONFIG, '2',
         '--work-dir', work],
        timeout=180, PORT=str(_free_port()), PYTHON=sys.executable)
    assert rc == 0, out
    assert 'distributed backend switched from nccl to gloo' in out
    assert 'Distributed training: True' in out
    assert osp.isfile(osp.join(work, 'iter_20.pth'))
    # both ranks ran: torchrun reports a failure of any rank with rc != 0,
    # and the DistSamplerSeedHook/DDP collectives would hang with only one.
    assert len(_losses(out)) == 4


@pytest.mark.slow
def test_shutdown_distributed_keeps_final_barrier_handle(tmp_path):
    """The last collective's work object must be released by the main
    thread: if gloo's worker thread drops the last reference while the
    interpreter finalises, the rank aborts after a finished run (about 1 in
    50 two-process runs without the handle; see ``shutdown_distributed``).
    One process, so it runs in a subprocess with its own process group."""
    script = textwrap.dedent(f"""\
        import sys
        import torch.distributed as dist
        sys.path.insert(0, {TOOLS!r})
        import train
        dist.init_process_group(
            'gloo', init_method='file://{tmp_path / 'store'}', rank=0,
            world_size=1)
        train.shutdown_distributed()
        assert not dist.is_initialized()
        (work,) = train._FINAL_WORK
        assert work.is_completed()
        train.shutdown_distributed()  # no group: nothing to do
        assert len(train._FINAL_WORK) == 1
        print('ok')
        """)
    rc, out = _run([sys.executable, '-c', script])
    assert rc == 0 and out.strip().endswith('ok'), out
