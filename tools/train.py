# Copyright (c) mmdropmae contributors. All rights reserved.
"""Train a model (DropMAE/TwinMAE pre-training or a downstream task) with
MMEngine's ``Runner``.

Examples::

    python tools/train.py configs/dropmae/<config>.py
    python tools/train.py CONFIG --work-dir work_dirs/run1 --amp
    python tools/train.py CONFIG --resume              # latest ckpt in work_dir
    python tools/train.py CONFIG --resume work_dirs/run1/iter_1000.pth
    bash tools/dist_train.sh CONFIG 8                  # torchrun, 8 processes

CPU-only machines: distributed runs use the ``gloo`` backend instead of the
configured one (usually ``nccl``), and ``--amp`` (or an ``AmpOptimWrapper`` in
the config) runs bfloat16 autocast without a loss scaler, because MMEngine's
``AmpOptimWrapper`` refuses to run without an accelerator.
"""
import argparse
import logging
import os
import os.path as osp
import subprocess
import warnings
from datetime import timedelta

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If a checkpoint path is given, resume from it; if given without '
        'a value, resume from the latest checkpoint in the work directory.')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic mixed precision training (float16 with a '
        'dynamic loss scale on GPU, bfloat16 autocast on CPU)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='enable automatically scaling LR by the real batch size '
        '(cfg.auto_scale_lr.base_batch_size must be set)')
    add_runner_args(parser)
    return parse_runner_args(parser)


def add_runner_args(parser):
    """``--cfg-options``, ``--launcher`` and ``--local-rank``, shared with
    tools/test.py."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # When using PyTorch version >= 2.0.0, `torch.distributed.launch`
    # passes `--local-rank` instead of `--local_rank`.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(parser):
    """Parse, and export ``--local-rank`` as ``LOCAL_RANK`` for MMEngine."""
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


WEIGHTS_ONLY_NOTE = (
    'torch>=2.6 loads checkpoints with weights_only=True by default, which '
    'cannot read the message hub (HistoryBuffer, numpy arrays) that '
    'MMEngine 0.10.7 saves for resuming; TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 '
    'is set so that torch.load unpickles them: only load checkpoints you '
    'trust.')


def allow_full_checkpoint_load(notes):
    """Let MMEngine's ``torch.load`` calls read full checkpoints again."""
    if os.environ.get('TORCH_FORCE_WEIGHTS_ONLY_LOAD', '0') not in ('', '0'):
        return  # the user asked for weights_only loading explicitly
    os.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    warnings.filterwarnings(
        'ignore', message='Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY')
    notes.append(WEIGHTS_ONLY_NOTE)


# --------------------------------------------------------------------------
# CPU support
# --------------------------------------------------------------------------
def setup_amp(cfg, enable_amp, notes):
    """Turn on AMP (``--amp``) and make AMP configs run on CPU."""
    optim_wrapper = cfg.get('optim_wrapper')
    if optim_wrapper is None:
        if enable_amp:
            raise ValueError('--amp needs `optim_wrapper` in the config')
        return
    wrapper_type = optim_wrapper.get('type', 'OptimWrapper')
    if enable_amp:
        if wrapper_type in ('AmpOptimWrapper', 'CPUAmpOptimWrapper'):
            notes.append('AMP training is already enabled in the config.')
        else:
            assert wrapper_type == 'OptimWrapper', (
                '`--amp` is only supported when the optimizer wrapper type is '
                f'`OptimWrapper` but got {wrapper_type}.')
            optim_wrapper.type = 'AmpOptimWrapper'
            optim_wrapper.loss_scale = 'dynamic'
            wrapper_type = 'AmpOptimWrapper'
    if wrapper_type == 'AmpOptimWrapper' and not torch.cuda.is_available():
        dtype = optim_wrapper.get('dtype', None)
        if dtype not in (None, 'bfloat16', torch.bfloat16):
            notes.append(f'AMP dtype {dtype} replaced by bfloat16 on CPU.')
        optim_wrapper.type = 'CPUAmpOptimWrapper'
        optim_wrapper.dtype = 'bfloat16'
        optim_wrapper.pop('loss_scale', None)
        notes.append('CUDA is not available: AmpOptimWrapper replaced by '
                     'CPUAmpOptimWrapper (bfloat16 autocast, no loss scale).')


def _slurm_master_addr():
    node_list = os.environ['SLURM_NODELIST']
    return subprocess.getoutput(
        f'scontrol show hostname {node_list} | head -n1').strip()


def init_cpu_dist(launcher, dist_cfg):
    """Initialise ``torch.distributed`` with gloo on a machine without CUDA.

    MMEngine's ``init_dist`` always calls ``torch.cuda.set_device`` (and its
    slurm path divides by ``torch.cuda.device_count()``), which fails without
    CUDA, so the process group is created here; the Runner then sees it
    already initialised and only reads rank and world size from it.
    """
    kwargs = {k: v for k, v in dist_cfg.items() if k != 'backend'}
    timeout = kwargs.get('timeout')
    if timeout is not None and not isinstance(timeout, timedelta):
        kwargs['timeout'] = timedelta(seconds=timeout)
    if launcher == 'slurm':
        proc_id = int(os.environ['SLURM_PROCID'])
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            os.environ['MASTER_ADDR'] = _slurm_master_addr()
        os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
        os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
        os.environ['RANK'] = str(proc_id)
    elif launcher == 'mpi':
        os.environ['RANK'] = os.environ['OMPI_COMM_WORLD_RANK']
        os.environ['WORLD_SIZE'] = os.environ['OMPI_COMM_WORLD_SIZE']
        os.environ['LOCAL_RANK'] = os.environ['OMPI_COMM_WORLD_LOCAL_RANK']
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            raise KeyError('The environment variable MASTER_ADDR is not set')
    torch.distributed.init_process_group(
        backend='gloo',
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **kwargs)


def setup_cpu_distributed(cfg, launcher, notes):
    """Switch a distributed run to gloo and CPU DDP when CUDA is missing."""
    if launcher == 'none' or torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', dict())
    dist_cfg = env_cfg.setdefault('dist_cfg', dict())
    backend = dist_cfg.get('backend', 'nccl')
    if backend != 'gloo':
        notes.append(f'CUDA is not available: distributed backend switched '
                     f'from {backend} to gloo.')
        dist_cfg['backend'] = 'gloo'
    # DDP over CPU modules needs device_ids=None (the Runner's default is
    # [LOCAL_RANK], which only works for GPU modules).
    wrapper_cfg = cfg.get('model_wrapper_cfg')
    if wrapper_cfg is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    elif 'DistributedDataParallel' in str(wrapper_cfg.get('type', 'MMDistributedDataParallel')):
        wrapper_cfg.setdefault('device_ids', None)
    if not torch.distributed.is_initialized():
        init_cpu_dist(launcher, dist_cfg)


def shutdown_distributed():
    """Synchronise the ranks and tear the process group down before exit.

    gloo runs each collective on a worker thread, and that thread drops its
    reference to the work object right after waking the waiting rank. If it
    is the last reference, the work's destructor takes the GIL (its captured
    thread-local state holds a Python object); when the main thread is
    already finalising the interpreter by then, the worker thread is killed
    inside a noexcept destructor and the rank aborts ("terminate called
    without an active exception", SIGABRT) after a run that finished, so
    torchrun reports a failure. Seen about once in 50 two-process runs here
    (torch 2.13, gdb backtrace: ``~AsyncBarrierWork`` -> ``take_gil`` ->
    ``pthread_exit`` during ``Py_FinalizeEx``). Holding our own handle on the
    final barrier until exit means the last reference is released by the
    main thread, which owns the GIL.
    """
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        work = torch.distributed.barrier(async_op=True)
        work.wait()
        _FINAL_WORK.append(work)
        torch.distributed.destroy_process_group()


# the final barrier's work handle, kept alive until the interpreter exits
_FINAL_WORK = []


# --------------------------------------------------------------------------
def load_config(args):
    """Register mmdropmae, read the config, apply ``--cfg-options``,
    ``--launcher`` and ``--work-dir`` (CLI > config > ./work_dirs/<name>).
    Shared by tools/train.py and tools/test.py."""
    # the runner switches to the config's default scope itself
    from mmdropmae.utils import register_all_modules
    register_all_modules(init_default_scope=False)

    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.setdefault('default_scope', 'mmdropmae')
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def main():
    args = parse_args()

    cfg = load_config(args)

    notes = []
    allow_full_checkpoint_load(notes)
    setup_amp(cfg, args.amp, notes)

    if args.auto_scale_lr:
        if 'auto_scale_lr' in cfg and \
                'base_batch_size' in cfg.auto_scale_lr:
            cfg.auto_scale_lr.enable = True
        else:
            raise RuntimeError('Can not find "auto_scale_lr" or '
                               '"auto_scale_lr.base_batch_size" in your'
                               ' configuration file.')

    # resume: `--resume` alone -> latest checkpoint of work_dir,
    # `--resume CKPT` -> that checkpoint.
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    setup_cpu_distributed(cfg, args.launcher, notes)

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        from mmdropmae.registry import RUNNERS
        runner = RUNNERS.build(cfg)

    for note in notes:
        print_log(note, logger=runner.logger, level=logging.WARNING)

    runner.train()
    shutdown_distributed()


if __name__ == '__main__':
    main()
