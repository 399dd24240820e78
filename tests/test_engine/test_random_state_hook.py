"""RandomStateHook: seeding from (seed, position), worker seeding from
(seed, rank, worker, epoch), and exact resume in MMEngine runners (epoch and
iteration loops, workers persistent or not, no workers) with a toy model that
draws from torch's generator and a dataset that draws from NumPy's and
Python's, as DropMAE's masking and its transforms do."""
import itertools
import logging
import pickle
import random
from functools import partial

import numpy as np
import pytest
import torch
from mmengine.dataset import DefaultSampler
from mmengine.dataset import worker_init_fn as mmengine_worker_init_fn
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import DataLoader, Dataset

from mmdropmae.engine.hooks import EpochWorkerSeeder, RandomStateHook, seed_all
from mmdropmae.engine.hooks.random_state_hook import META_KEY

_names = itertools.count()


def _draws():
    return (random.random(), float(np.random.rand()), float(torch.rand(())))


def test_seed_all_is_a_function_of_the_entropy():
    seed_all((0, 0, 3))
    a = _draws()
    _draws()
    seed_all((0, 0, 3))
    assert _draws() == a
    for other in ((0, 0, 4), (0, 1, 3), (1, 0, 3)):
        seed_all(other)
        b = _draws()
        assert all(x != y for x, y in zip(a, b)), other


class _Sampler:
    epoch = 5


def test_worker_seeder_reads_the_epoch_and_pickles_without_the_sampler():
    sampler = _Sampler()
    seeder = EpochWorkerSeeder(seed=7, rank=1, sampler=sampler)
    seeder(0)
    a = _draws()
    clone = pickle.loads(pickle.dumps(seeder))  # what spawn workers get
    assert clone.sampler is None and clone.current_epoch() == 5
    clone(0)
    assert _draws() == a
    for worker, epoch, rank in ((1, 5, 1), (0, 6, 1), (0, 5, 0)):
        sampler.epoch = epoch
        EpochWorkerSeeder(seed=7, rank=rank, sampler=sampler)(worker)
        assert _draws() != a


# ---------------------------------------------------------------------------
# data loader workers, driven like the runner drives them
# ---------------------------------------------------------------------------
class _RandomItems(Dataset):
    """Each item is three draws of the worker's global generators."""

    def __init__(self, length=8):
        self.length = length

    def __len__(self):
        return self.length

    def __getitem__(self, idx):
        return dict(inputs=torch.tensor(_draws(), dtype=torch.float64))


class _FakeRunner:

    def __init__(self, loader, seed=0):
        self.train_dataloader = loader
        self.seed = seed
        self.epoch = 0
        self.iter = 0
        self.logger = logging.getLogger('test_random_state_hook')
        self._resume = False


def _epochs(epochs, persistent, hook=True, restart=True):
    """The items of ``epochs`` of a 2-worker loader (epochs not listed are
    not run: a resumed run starts at its first)."""
    dataset = _RandomItems()
    sampler = DefaultSampler(dataset, shuffle=True, seed=0)
    loader = DataLoader(dataset, batch_size=2, sampler=sampler, num_workers=2,
                        persistent_workers=persistent,
                        worker_init_fn=partial(mmengine_worker_init_fn, num_workers=2, rank=0,
                                               seed=0))
    runner = _FakeRunner(loader)
    state_hook = RandomStateHook(restart_persistent_workers=restart)
    if hook:
        state_hook.before_train(runner)
    out = {}
    for epoch in epochs:
        runner.epoch = epoch
        sampler.set_epoch(epoch)
        if hook:
            state_hook.before_train_epoch(runner)
        out[epoch] = torch.cat([batch['inputs'] for batch in loader])
    del loader
    return out


@pytest.mark.parametrize('persistent', [False, True])
def test_workers_draw_the_same_after_a_resume_and_new_numbers_each_epoch(persistent):
    full = _epochs(range(4), persistent)
    resumed = _epochs(range(2, 4), persistent)
    for epoch in (2, 3):
        assert torch.equal(full[epoch], resumed[epoch])
    # MMEngine's seeding replays one stream per worker every epoch; here each
    # epoch draws new numbers
    firsts = {tuple(full[e][0].tolist()) for e in range(4)}
    assert len(firsts) == 4


def test_persistent_workers_without_the_hook_are_not_resumable_exactly():
    for kwargs in (dict(hook=False), dict(restart=False)):
        full = _epochs(range(3), True, **kwargs)
        resumed = _epochs([2], True, **kwargs)
        assert not torch.equal(full[2], resumed[2]), kwargs


def test_a_custom_worker_init_fn_is_kept():
    loader = DataLoader(_RandomItems(), num_workers=1, worker_init_fn=print)
    RandomStateHook().before_train(_FakeRunner(loader))
    assert loader.worker_init_fn is print


# ---------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------
def test_checkpoint_records_the_scheme_and_old_checkpoints_warn(caplog):
    hook = RandomStateHook()
    runner = _FakeRunner(None, seed=3)
    ckpt = dict(meta=dict(epoch=1))
    hook.before_save_checkpoint(runner, ckpt)
    assert ckpt['meta'][META_KEY]['seed'] == 3
    runner._resume = True
    with caplog.at_level(logging.WARNING, logger=runner.logger.name):
        hook.after_load_checkpoint(runner, ckpt)
        assert not caplog.records
        hook.after_load_checkpoint(runner, dict(meta=dict(epoch=1)))
        assert 'written without RandomStateHook' in caplog.text
        caplog.clear()
        runner._resume = False  # load_from: nothing to say
        hook.after_load_checkpoint(runner, dict(meta=dict(epoch=1)))
        assert not caplog.records


# ---------------------------------------------------------------------------
# MMEngine runners: interrupted + resumed == uninterrupted
# ---------------------------------------------------------------------------
class _NoisyRegressor(BaseModel):
    """A linear model whose input gets torch noise (as DropMAE's masking)."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(3, 1)

    def forward(self, inputs, mode='tensor'):
        x = inputs.float()
        pred = self.linear(x + 0.1 * torch.rand_like(x)).squeeze(-1)
        return dict(loss=((pred - x.sum(-1)) ** 2).mean())


#: 16 items / batch 3 = 6 iterations per epoch; epoch loop: 4 epochs,
#: checkpoint at epoch 2; iteration loop: 8 iterations, checkpoint at
#: iteration 5 (mid-epoch: MMEngine replays 5 batches on resume), one epoch
#: change after it (MMEngine's infinite iterator sleeps 2 s at each)
ITEMS, BATCH = 16, 3
EPOCH_LOOP = dict(length=4, stop=2, iters=24)
ITER_LOOP = dict(length=8, stop=5, iters=8)


def _runner(work_dir, by_epoch, length, num_workers, persistent, hook, resume_from=None):
    if by_epoch:
        train_cfg = dict(by_epoch=True, max_epochs=length)
        ckpt = dict(type='CheckpointHook', interval=EPOCH_LOOP['stop'], by_epoch=True)
        total = EPOCH_LOOP['iters']
    else:
        train_cfg = dict(by_epoch=False, max_iters=length)
        ckpt = dict(type='CheckpointHook', interval=ITER_LOOP['stop'], by_epoch=False)
        total = ITER_LOOP['iters']
    default_hooks = dict(checkpoint=ckpt, logger=dict(type='LoggerHook', interval=100))
    if hook:
        default_hooks['random_state'] = RandomStateHook()
    torch.manual_seed(0)  # the same initial weights in every runner of the process
    return Runner(
        model=_NoisyRegressor(),
        work_dir=str(work_dir),
        experiment_name=f'random_state_{next(_names)}',
        train_dataloader=dict(
            dataset=_RandomItems(ITEMS), batch_size=BATCH, num_workers=num_workers,
            persistent_workers=persistent and num_workers > 0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate')),
        train_cfg=train_cfg,
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.05)),
        # an explicit end: the shorter "interrupted" run must see the same schedule
        param_scheduler=dict(type='CosineAnnealingLR', T_max=total, end=total, by_epoch=False),
        default_hooks=default_hooks,
        log_processor=dict(by_epoch=by_epoch),
        randomness=dict(seed=0, diff_rank_seed=True),
        resume=resume_from is not None,
        load_from=resume_from,
        default_scope='mmdropmae')


def _finish(runner):
    """The state to compare; shuts the data workers down (a live iterator of
    MMEngine's infinite loader takes 10 s to collect otherwise)."""
    for it in (getattr(runner.train_dataloader, '_iterator', None),
               getattr(getattr(runner.train_loop, 'dataloader_iterator', None), '_iterator', None)):
        if hasattr(it, '_shutdown_workers'):
            it._shutdown_workers()
    return ([p.detach().clone() for p in runner.model.parameters()],
            runner.optim_wrapper.state_dict(), runner.param_schedulers[0].state_dict())


def _same(a, b):
    (wa, oa, sa), (wb, ob, sb) = a, b
    moments = all(torch.equal(oa['state'][i][k], ob['state'][i][k])
                  for i in oa['state'] for k in ('exp_avg', 'exp_avg_sq', 'step'))
    return all(torch.equal(x, y) for x, y in zip(wa, wb)) and moments and sa == sb


@pytest.mark.slow
@pytest.mark.parametrize('by_epoch,num_workers,persistent', [
    (True, 2, False), (True, 2, True), (True, 0, False), (False, 2, True)])
def test_runner_resume_is_exact(tmp_path, monkeypatch, by_epoch, num_workers, persistent):
    # what tools/train.py sets: MMEngine's resume checkpoints need full unpickling
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    loop = EPOCH_LOOP if by_epoch else ITER_LOOP
    length, stop = loop['length'], loop['stop']
    ckpt = f'epoch_{stop}.pth' if by_epoch else f'iter_{stop}.pth'
    results = {}
    for hook in (True, False):
        args = (by_epoch, num_workers, persistent, hook)
        full = _runner(tmp_path / f'full{hook}', by_epoch, length, *args[1:])
        full.train()
        full = _finish(full)
        part = _runner(tmp_path / f'part{hook}', by_epoch, stop, *args[1:])
        part.train()  # the "interrupted" run: its work stops at the checkpoint
        _finish(part)
        resumed = _runner(tmp_path / f'resumed{hook}', by_epoch, length, *args[1:],
                          resume_from=str(tmp_path / f'part{hook}' / ckpt))
        resumed.train()
        results[hook] = _same(full, _finish(resumed))
    assert results[True], 'resume with RandomStateHook is not exact'
    assert not results[False], 'the toy run does not depend on the random state'
