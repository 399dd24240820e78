"""Exact resume: every random stream of a training run is a function of the
seed and the position in the run, so a resumed run draws what an
uninterrupted one draws.

What a training run of this toolbox draws random numbers from, and how each
one is made to come back after ``--resume``:

- **the main process's global generators** (Python ``random``, NumPy's
  global ``RandomState``, torch's CPU generator and every CUDA device's;
  other accelerators' generators are not re-seeded). They drive the joint masking
  noise of ``DropMAEViT``, the ASAD drop masks (the native kernel and the
  torch path draw their seeds from torch's generator), dropout and drop path,
  the data loader's base seed, the probes of
  ``TemporalMatchingMonitorHook`` and, with ``num_workers=0``, the data
  transforms. MMEngine seeds them once when the runner is built and never
  saves them, so a resumed run continues from a fresh seed instead of from
  where the interrupted run was. Here they are re-seeded at the start of every
  epoch from ``(seed, epoch)`` and at the start of every iteration from
  ``(seed, iteration)``, the scheme of fairseq's ``Trainer._set_seed``
  (facebookresearch/fairseq, ``fairseq/trainer.py``: "set seed based on
  args.seed and the update number so that we get reproducible results when
  resuming from checkpoints"); whatever runs between a checkpoint and the
  next epoch (validation, other hooks) no longer shifts the training streams.
  ``seed`` is the runner's (``randomness.seed``, plus the rank when
  ``diff_rank_seed``; MMEngine restores it from the checkpoint on resume).
- **the sampler**: MMEngine's ``DefaultSampler`` shuffles with a private
  generator seeded with ``sampler seed + epoch`` (``set_epoch`` from
  ``DistSamplerSeedHook``), and the resumed loop restarts at the saved epoch,
  so its order already comes back; nothing to do.
- **the data loader workers** (``LoadFramePairFromVideo``'s frame pair,
  ``RandomResizedCrop``, ``RandomFlip``, the SOT/VOS samplers and
  transforms: all draw from the workers' global NumPy / Python generators).
  MMEngine's ``worker_init_fn`` seeds worker ``w`` with ``seed + w +
  num_workers * rank`` at every worker start, without the epoch: with
  ``persistent_workers=False`` every epoch replays the same random stream per
  worker; with ``persistent_workers=True`` the streams run on across epochs,
  and a resumed run restarts them at their epoch-0 seeds, so its
  augmentations differ from the uninterrupted run's. Here the workers are
  seeded from ``(seed, rank, worker id, sampler epoch)`` instead
  (:class:`EpochWorkerSeeder`), and, in epoch-based loops, persistent workers
  are restarted at every epoch so that each epoch starts from those seeds.
  Prefetching never crosses a checkpoint: a worker only receives indices of
  the next epoch after ``iter(loader)`` of that epoch.

The checkpoint records in ``meta['random_state']`` that it was written with
this scheme; resuming a checkpoint without that record works, with a warning
that the remaining epochs cannot match the interrupted run's exactly.

Not covered: a mid-epoch checkpoint of an ``EpochBasedTrainLoop`` (MMEngine
re-runs the whole epoch on resume), ``IterBasedTrainLoop`` with
``num_workers=0`` (MMEngine replays the data loader in the main process
before the first iteration), a different number of ranks or workers on
resume, and non-deterministic kernels (e.g. CUDA atomics), which change
results without any random number.
"""
import logging
import random
import warnings
from functools import partial
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import worker_init_fn as mmengine_worker_init_fn
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmdropmae.registry import HOOKS

#: domain tags of the seed derivations (so that no two streams share a seed)
EPOCH_STREAM, ITER_STREAM, WORKER_STREAM = 0, 1, 2
#: what the hook writes into ``checkpoint['meta']``
META_KEY = 'random_state'
SCHEME = 'seed-and-position-v1'


def _entropy(values: Sequence[int]) -> list:
    return [int(v) % 2**64 for v in values]


def seed_all(entropy: Sequence[int]) -> None:
    """Seed Python ``random``, NumPy's global generator and torch (the CPU
    generator and every CUDA device's) from
    ``numpy.random.SeedSequence(entropy)``.

    Args:
        entropy (Sequence[int]): Integers the seeds are derived from (e.g.
            ``(seed, EPOCH_STREAM, epoch)``); negative values are taken
            modulo 2**64.
    """
    words = np.random.SeedSequence(_entropy(entropy)).generate_state(8)
    random.seed((int(words[0]) << 32) | int(words[1]))
    np.random.seed(words[2:6])
    seed = (int(words[6]) << 32) | int(words[7])
    # what torch.manual_seed does for CPU and CUDA, without its checks of
    # other device types (6 us instead of ~100 us: this runs every iteration)
    torch.default_generator.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)  # deferred until CUDA is initialised


def _sampler_of(loader) -> Optional[object]:
    """The sampler that ``set_epoch`` is called on (as DistSamplerSeedHook)."""
    sampler = getattr(loader, 'sampler', None)
    if hasattr(sampler, 'set_epoch'):
        return sampler
    batch_sampler = getattr(loader, 'batch_sampler', None)
    sampler = getattr(batch_sampler, 'sampler', None)
    if hasattr(sampler, 'set_epoch'):
        return sampler
    return None


class EpochWorkerSeeder:
    """``worker_init_fn`` seeding each data loader worker from ``(seed, rank,
    worker id, epoch)``, the epoch read from the sampler when the worker
    starts.

    MMEngine's :func:`mmengine.dataset.worker_init_fn` uses ``seed + worker_id
    + num_workers * rank``, the same in every epoch. With a fork start method
    the worker reads the epoch of its copy of the sampler; when pickled (spawn,
    forkserver) the seeder carries the epoch at pickling time, which is when
    ``iter(loader)`` starts the workers, instead of the sampler (and its
    dataset).

    Args:
        seed (int): The runner's seed.
        rank (int): The process's rank.
        sampler (object, optional): The sampler with an ``epoch`` attribute
            (``DefaultSampler``); without one the epoch is 0.
        disable_subprocess_warning (bool): Silence warnings in workers other
            than worker 0, as MMEngine's option of that name.
    """

    def __init__(self,
                 seed: int,
                 rank: int,
                 sampler: Optional[object] = None,
                 disable_subprocess_warning: bool = False) -> None:
        self.seed = int(seed)
        self.rank = int(rank)
        self.sampler = sampler
        self.epoch = 0
        self.disable_subprocess_warning = disable_subprocess_warning

    def current_epoch(self) -> int:
        """The epoch the next started worker is seeded for."""
        if self.sampler is not None:
            return int(getattr(self.sampler, 'epoch', 0))
        return self.epoch

    def __call__(self, worker_id: int) -> None:
        seed_all((self.seed, WORKER_STREAM, self.rank, worker_id, self.current_epoch()))
        if self.disable_subprocess_warning and worker_id != 0:
            warnings.simplefilter('ignore')

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state['epoch'] = self.current_epoch()
        state['sampler'] = None
        return state

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(seed={self.seed}, rank={self.rank}, '
                f'epoch={self.current_epoch()})')


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Make ``--resume`` exact: re-seed every random generator of a training
    run from the seed and the run's position (see the module docstring for
    what is covered and how).

    - ``before_train``: replaces MMEngine's default ``worker_init_fn`` of the
      training data loader by :class:`EpochWorkerSeeder` (a custom
      ``worker_init_fn`` of the config is kept);
    - ``before_train_epoch``: restarts persistent workers (epoch-based loops,
      see ``restart_persistent_workers``), then seeds the main process from
      ``(seed, epoch)``;
    - ``before_train_iter``: seeds the main process from ``(seed, iteration)``;
    - ``before_save_checkpoint``: records the scheme in
      ``checkpoint['meta']['random_state']``;
    - ``after_load_checkpoint``: warns when a resumed checkpoint lacks it.

    Priority ``HIGHEST``: the seeding happens before any other hook of the same
    stage can draw a random number.

    Args:
        seed_workers (bool): Install :class:`EpochWorkerSeeder`. Defaults to
            True.
        restart_persistent_workers (bool): With ``persistent_workers=True``
            (and the workers seeded by :class:`EpochWorkerSeeder`), shut the
            workers down at the start of every epoch after the first so that
            the next ``iter(loader)`` starts them seeded for that epoch, as a
            resumed run does (one worker start-up per epoch, what
            ``persistent_workers=False`` costs). With False, persistent
            workers keep their streams and resuming is not exact for the data.
            Defaults to True.
    """
    priority = 'HIGHEST'

    def __init__(self, seed_workers: bool = True, restart_persistent_workers: bool = True) -> None:
        self.seed_workers = seed_workers
        self.restart_persistent_workers = restart_persistent_workers
        self._worker_seeder = None
        self._told_restart = False

    # -- data loader workers ------------------------------------------------
    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        if not self.seed_workers or getattr(loader, 'num_workers', 0) == 0:
            return
        fn = getattr(loader, 'worker_init_fn', None)
        if not (isinstance(fn, partial) and fn.func is mmengine_worker_init_fn):
            runner.logger.info(
                f'RandomStateHook: keeping the configured worker_init_fn {fn!r} '
                'of train_dataloader; its workers are seeded by it.')
            return
        self._worker_seeder = EpochWorkerSeeder(
            seed=runner.seed,
            rank=fn.keywords.get('rank', get_rank()),
            sampler=_sampler_of(loader),
            disable_subprocess_warning=fn.keywords.get('disable_subprocess_warning', False))
        loader.worker_init_fn = self._worker_seeder

    def _restart_persistent_workers(self, runner) -> None:
        loader = runner.train_dataloader
        if not (self.restart_persistent_workers and self._worker_seeder is not None
                and getattr(loader, 'persistent_workers', False)):
            return
        iterator = getattr(loader, '_iterator', None)
        if iterator is None:
            return
        if not self._told_restart:
            runner.logger.info(
                'RandomStateHook: train_dataloader has persistent_workers=True; its '
                'workers are restarted at every epoch so that each epoch starts from '
                'the seeds (seed, rank, worker, epoch), as after a resume (pass '
                'restart_persistent_workers=False to keep them: resuming is then '
                'not exact for the data).')
            self._told_restart = True
        # what DataLoader.__del__ -> _MultiProcessingDataLoaderIter.__del__ does
        iterator._shutdown_workers()
        loader._iterator = None

    # -- main process -------------------------------------------------------
    def before_train_epoch(self, runner) -> None:
        self._restart_persistent_workers(runner)
        seed_all((runner.seed, EPOCH_STREAM, runner.epoch))

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        seed_all((runner.seed, ITER_STREAM, runner.iter))

    # -- checkpoints --------------------------------------------------------
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[META_KEY] = dict(
            scheme=SCHEME,
            seed=runner.seed,
            worker_seeding=type(self._worker_seeder).__name__
            if self._worker_seeder is not None else None)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False):
            return  # load_from (fine-tuning), not a resume
        saved = (checkpoint.get('meta') or {}).get(META_KEY)
        if saved is None:
            runner.logger.log(
                logging.WARNING,
                'RandomStateHook: the resumed checkpoint was written without '
                'RandomStateHook: the run continues with random numbers drawn '
                'from (seed, epoch / iteration), deterministic but not those the '
                'interrupted run would have drawn, so the remaining epochs will '
                'not match an uninterrupted run exactly.')
        elif saved.get('scheme') != SCHEME:
            runner.logger.log(
                logging.WARNING,
                f'RandomStateHook: the resumed checkpoint used the random-state '
                f'scheme {saved.get("scheme")!r}, this run uses {SCHEME!r}: the '
                'remaining epochs will not match an uninterrupted run exactly.')
