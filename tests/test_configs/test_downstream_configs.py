"""The downstream configs (DropTrack, DropSeg, label propagation): they load,
build their models, name only registered components, combine the shared
``configs/_base_/`` files and carry the published recipes they cite.

Run as a script, this module compares the resolved configs of two config
trees (e.g. before and after a refactoring of the ``_base_`` files)::

    python tests/test_configs/test_downstream_configs.py OLD/configs [configs]

and, with ``MMDROPMAE_REFERENCE_CONFIGS=OLD/configs``, so does
``test_resolved_configs_match_reference``; the only differences allowed are
those of :data:`MIGRATIONS`.
"""
import ast
import os
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / 'configs'
#: Bookkeeping entries of a loaded config that are not part of the recipe.
IGNORED_KEYS = ('filename', '_base_')
#: Intended changes of resolved configs against a tree from before them:
#: ``{config: {changed key path, ...}}``. LabelPropagation's frame size
#: (``short_side``, ``size_divisor``, ``img_scale``) moved from the model to
#: the ``LoadSequenceFrames`` step of the test pipeline.
_LABELPROP_SIZE = {'model.short_side', 'model.size_divisor',
                   'test_dataloader.dataset.pipeline', 'test_pipeline'}
MIGRATIONS = {
    'correspondence/labelprop_vit-b16_davis17.py': _LABELPROP_SIZE,
    'correspondence/labelprop_vit-b16_jhmdb.py': _LABELPROP_SIZE,
    'correspondence/labelprop_vit-b16_vip.py': _LABELPROP_SIZE,
    'correspondence/labelprop_vit-tiny_synthetic.py': _LABELPROP_SIZE | {'model.img_scale'},
}


def config_names(root: Path = CONFIGS) -> List[str]:
    """Paths (relative to ``root``) of the experiment configs: every ``.py``
    outside ``_base_``."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob('*.py')
                  if '_base_' not in p.relative_to(root).parts)


def resolved(path: Path) -> Dict[str, Any]:
    """The resolved content of a config (inheritance applied) as plain
    dicts and lists."""
    cfg = Config.fromfile(str(path)).to_dict()
    return {k: v for k, v in cfg.items() if k not in IGNORED_KEYS}


def config_diff(old: Any, new: Any, prefix: str = '') -> List[str]:
    """Differences between two resolved values, one line per leaf (types
    count: ``1`` differs from ``1.0``, a tuple from a list)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            if key not in new:
                out.append(f'{prefix}{key}: removed')
            elif key not in old:
                out.append(f'{prefix}{key}: added')
            else:
                out += config_diff(old[key], new[key], f'{prefix}{key}.')
        return out
    if (isinstance(old, (list, tuple)) and type(old) is type(new)
            and len(old) == len(new)):
        out = []
        for i, (a, b) in enumerate(zip(old, new)):
            out += config_diff(a, b, f'{prefix}{i}.')
        return out
    if type(old) is not type(new) or old != new:
        return [f'{prefix.rstrip(".")}: {old!r} -> {new!r}']
    return []


def changed_paths(diff_lines: List[str]) -> set:
    """The key paths of :func:`config_diff` lines."""
    return {line.split(':', 1)[0] for line in diff_lines}


def compare_trees(old_root: Path, new_root: Path) -> Dict[str, List[str]]:
    """``{config: differences}`` for every experiment config of both trees
    (a config in only one tree is a difference)."""
    old_names, new_names = set(config_names(old_root)), set(config_names(new_root))
    out = {n: ['only in the new tree'] for n in new_names - old_names}
    out.update({n: ['only in the old tree'] for n in old_names - new_names})
    for name in sorted(old_names & new_names):
        out[name] = config_diff(resolved(old_root / name), resolved(new_root / name))
    return out


def _base_files(name: str) -> List[str]:
    """The ``_base_`` list written in a config file (not resolved)."""
    tree = ast.parse((CONFIGS / name).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_' for t in node.targets):
            value = ast.literal_eval(node.value)
            return [value] if isinstance(value, str) else list(value)
    return []


def load(name: str) -> Config:
    return Config.fromfile(str(CONFIGS / name))


# ---------------------------------------------------------------------------
# every config
# ---------------------------------------------------------------------------
@pytest.mark.skipif(not os.environ.get('MMDROPMAE_REFERENCE_CONFIGS'),
                    reason='set MMDROPMAE_REFERENCE_CONFIGS to a configs/ folder to compare')
def test_resolved_configs_match_reference():
    diffs = compare_trees(Path(os.environ['MMDROPMAE_REFERENCE_CONFIGS']), CONFIGS)
    bad = {k: v for k, v in diffs.items() if changed_paths(v) - MIGRATIONS.get(k, set())}
    assert not bad, '\n'.join(f'{k}:\n    ' + '\n    '.join(v) for k, v in bad.items())


def test_config_diff_reports_changes():
    assert config_diff({'a': [1, dict(b=2)]}, {'a': [1, dict(b=2)]}) == []
    assert config_diff({'a': [1, dict(b=2)]}, {'a': [1, dict(b=3)]}) == ['a.1.b: 2 -> 3']
    assert config_diff({'a': 1}, {'a': 1.0}) == ['a: 1 -> 1.0']
    assert config_diff({'a': (1, 2)}, {'a': [1, 2]}) == ['a: (1, 2) -> [1, 2]']
    assert config_diff({'a': 1}, {'a': 1, 'c': 0}) == ['c: added']
    assert config_diff({'a': 1, 'c': 0}, {'a': 1}) == ['c: removed']
    assert changed_paths(['a.1.b: 2 -> 3', 'c: added']) == {'a.1.b', 'c'}


def _check_types(registry, cfg: Any, where: str) -> None:
    assert isinstance(cfg, dict) and 'type' in cfg, where
    if isinstance(cfg['type'], str):
        assert registry.get(cfg['type']) is not None, \
            f'{where}: {cfg["type"]!r} is not in the {registry.name} registry'


def _check_dataset(cfg: dict, where: str) -> None:
    from mmdropmae.registry import DATASETS, TRANSFORMS
    _check_types(DATASETS, cfg, where)
    for i, step in enumerate(cfg.get('pipeline', [])):
        _check_types(TRANSFORMS, step, f'{where}.pipeline.{i}')
    for i, sub in enumerate(cfg.get('datasets', [])):
        _check_dataset(sub, f'{where}.datasets.{i}')


@pytest.mark.parametrize('name', config_names())
def test_config_builds(name):
    """Every config builds its model (with the pre-trained checkpoint of
    ``init_cfg`` set to None, as tests/test_models/test_droptrack.py does)
    and names only registered components."""
    from mmdropmae.registry import (DATA_SAMPLERS, HOOKS, LOOPS, METRICS,
                                    MODELS, OPTIM_WRAPPERS, OPTIMIZERS,
                                    PARAM_SCHEDULERS, VISUALIZERS)
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    import mmengine.runner  # noqa: F401 (registers MMEngine's loops, hooks, optimizers)
    cfg = load(name)
    assert cfg.default_scope == 'mmdropmae'
    if cfg.model.backbone.get('init_cfg') is not None:
        assert cfg.model.backbone.init_cfg['type'] == 'Pretrained'
        cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0

    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is None:
            continue
        _check_dataset(loader.dataset, f'{split}_dataloader.dataset')
        _check_types(DATA_SAMPLERS, loader.sampler, f'{split}_dataloader.sampler')
        evaluator = cfg.get(f'{split}_evaluator')
        if evaluator is not None:
            for i, metric in enumerate(
                    evaluator if isinstance(evaluator, list) else [evaluator]):
                _check_types(METRICS, metric, f'{split}_evaluator.{i}')
        loop = cfg.get(f'{split}_cfg')
        if loop is not None and 'type' in loop:
            _check_types(LOOPS, loop, f'{split}_cfg')
    if 'optim_wrapper' in cfg:
        _check_types(OPTIM_WRAPPERS, cfg.optim_wrapper, 'optim_wrapper')
        _check_types(OPTIMIZERS, cfg.optim_wrapper.optimizer, 'optim_wrapper.optimizer')
        for i, sched in enumerate(cfg.param_scheduler):
            _check_types(PARAM_SCHEDULERS, sched, f'param_scheduler.{i}')
    for key, hook in cfg.default_hooks.items():
        _check_types(HOOKS, hook, f'default_hooks.{key}')
    for i, hook in enumerate(cfg.get('custom_hooks', [])):
        _check_types(HOOKS, hook, f'custom_hooks.{i}')
    _check_types(VISUALIZERS, cfg.visualizer, 'visualizer')


# ---------------------------------------------------------------------------
# structure: task configs read like a table of shared _base_ files
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('name,bases', [
    ('droptrack/droptrack_vit-b16_128-256_got10k.py',
     ['models/droptrack_vit-base-p16.py', 'datasets/sot_pairs_got10k.py',
      'datasets/got10k.py', 'schedules/droptrack_100e.py', 'default_runtime.py']),
    ('droptrack/droptrack_vit-b16_128-256_full.py',
     ['models/droptrack_vit-base-p16.py', 'datasets/sot_pairs_full.py',
      'datasets/lasot.py', 'schedules/droptrack_300e.py', 'default_runtime.py']),
    ('dropseg/dropseg_vit-b16_davis17-ytvos.py',
     ['models/dropseg_vit-base-p16.py', 'datasets/davis2017_ytvos_train.py',
      'datasets/davis2017_val.py', 'schedules/dropseg_150k.py', 'default_runtime.py']),
    ('correspondence/labelprop_vit-b16_davis17.py',
     ['models/labelprop_vit-base-p16.py', 'datasets/davis2017_val.py',
      'schedules/test_only.py', 'default_runtime.py']),
    ('correspondence/labelprop_vit-b16_jhmdb.py',
     ['models/labelprop_vit-base-p16.py', 'datasets/jhmdb.py',
      'schedules/test_only.py', 'default_runtime.py']),
    ('correspondence/labelprop_vit-b16_vip.py',
     ['models/labelprop_vit-base-p16.py', 'datasets/vip.py',
      'schedules/test_only.py', 'default_runtime.py']),
])
def test_task_configs_use_shared_bases(name, bases):
    assert _base_files(name) == [f'../_base_/{b}' for b in bases]
    for base in bases:
        assert (CONFIGS / '_base_' / base).is_file()


def test_davis2017_val_is_shared():
    """DropSeg and label propagation evaluate on the same DAVIS-2017 val
    set; they differ only in the pipeline (and DropSeg's result files)."""
    seg = load('dropseg/dropseg_vit-b16_davis17-ytvos.py').test_dataloader
    lp = load('correspondence/labelprop_vit-b16_davis17.py').test_dataloader
    for loader in (seg, lp):
        d = loader.dataset
        assert (d.type, d.data_root, d.year, d.split, d.mode, d.test_mode) == (
            'DAVISDataset', 'data/DAVIS', '2017', 'val', 'sequence', True)
        assert loader.batch_size == 1 and loader.sampler.shuffle is False
    assert [t.type for t in seg.dataset.pipeline] == ['LoadVOSSequence', 'PackVOSSequence']
    assert [t.type for t in lp.dataset.pipeline] == ['LoadSequenceFrames', 'PackSequence']


# ---------------------------------------------------------------------------
# published recipes
# ---------------------------------------------------------------------------
def _crop(cfg: Config):
    return [t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'SOTPairCrop'][0]


def test_droptrack_got10k_recipe():
    """OSTrack experiments/ostrack/vitb_256_mae_ce_32x4_got10k_ep100.yaml."""
    cfg = load('droptrack/droptrack_vit-b16_128-256_got10k.py')
    m = cfg.model
    assert (m.template_size, m.search_size, m.template_factor, m.search_factor) == (
        128, 256, 2.0, 4.0)
    assert tuple(m.ce_loc) == (3, 6, 9) and m.ce_keep_ratio == 0.7
    assert m.ce_template_range == 'CTR_POINT'
    assert (m.ce_start_epoch, m.ce_warm_epochs) == (20, 50)
    assert m.backbone.drop_path_rate == 0.1 and m.head.feat_size == 16
    assert (m.head.loss_cls.loss_weight, m.head.loss_giou.loss_weight,
            m.head.loss_l1.loss_weight) == (1.0, 2.0, 5.0)
    crop = _crop(cfg)
    assert (crop.template_size, crop.search_size, crop.template_factor,
            crop.search_factor) == (128, 256, 2.0, 4.0)
    assert (crop.search_scale_jitter, crop.search_center_jitter) == (0.25, 3.)
    assert (crop.template_scale_jitter, crop.template_center_jitter) == (0., 0.)
    train = cfg.train_dataloader
    assert train.batch_size == 32  # x 4 GPUs = 128
    assert (train.dataset.samples_per_epoch, train.dataset.max_gap) == (60000, 200)
    assert [(d.type, d.split, d.get('ann_file')) for d in train.dataset.datasets] == [
        ('GOT10kDataset', 'train', None)]
    assert cfg.train_cfg.max_epochs == 100
    opt = cfg.optim_wrapper
    assert (opt.optimizer.type, opt.optimizer.lr, opt.optimizer.weight_decay) == (
        'AdamW', 4e-4, 1e-4)
    assert opt.paramwise_cfg.custom_keys.backbone.lr_mult == 0.1
    assert opt.clip_grad.max_norm == 0.1
    sched, = cfg.param_scheduler
    assert (sched.type, sched.milestones, sched.gamma) == ('MultiStepLR', [80], 0.1)
    assert cfg.auto_scale_lr.base_batch_size == 128
    assert cfg.default_hooks.checkpoint.interval == 10
    test = cfg.test_dataloader.dataset
    assert (test.type, test.split) == ('GOT10kDataset', 'test')
    assert cfg.test_evaluator.type == 'GOT10kMetric' and cfg.test_evaluator.format_only
    assert cfg.val_cfg is None and cfg.find_unused_parameters is True


def test_droptrack_full_recipe():
    """OSTrack experiments/ostrack/vitb_256_mae_ce_32x4_ep300.yaml."""
    cfg = load('droptrack/droptrack_vit-b16_128-256_full.py')
    ds = cfg.train_dataloader.dataset
    assert [d.type for d in ds.datasets] == [
        'LaSOTDataset', 'GOT10kDataset', 'COCOSOTDataset', 'TrackingNetDataset']
    assert ds.datasets[1].ann_file == 'got10k_vot_train_split.txt'
    assert ds.dataset_weights == [1, 1, 1, 1] and ds.samples_per_epoch == 60000
    assert cfg.train_cfg.max_epochs == 300
    assert cfg.param_scheduler[0].milestones == [240]  # 80%
    assert cfg.optim_wrapper.optimizer.lr == 4e-4
    assert cfg.model.ce_warm_epochs == 80 and cfg.model.ce_start_epoch == 20
    test = cfg.test_dataloader.dataset
    assert (test.type, test.ann_file) == ('LaSOTDataset', 'testing_set.txt')
    assert (cfg.test_evaluator.type, cfg.test_evaluator.dataset) == ('OPEMetric', 'lasot')


def test_droptrack_384_recipe():
    """DropTrack experiments/ostrack/vitb_384_mae_ce_32x4_ep300.yaml."""
    cfg = load('droptrack/droptrack_vit-b16_192-384_full.py')
    m = cfg.model
    assert (m.template_size, m.search_size, m.template_factor, m.search_factor) == (
        192, 384, 2.0, 5.0)
    assert m.head.feat_size == 384 // 16
    crop = _crop(cfg)
    assert (crop.template_size, crop.search_size, crop.search_factor) == (192, 384, 5.0)
    assert (crop.search_scale_jitter, crop.search_center_jitter) == (0.5, 4.5)
    assert cfg.optim_wrapper.optimizer.lr == 2.5e-4
    assert cfg.train_cfg.max_epochs == 300 and cfg.param_scheduler[0].milestones == [240]
    assert (m.ce_start_epoch, m.ce_warm_epochs) == (20, 80)


def test_droptrack_384_got10k_recipe():
    """DropTrack experiments/ostrack/vitb_384_mae_ce_32x4_got10k_ep100.yaml:
    the 384 sizes and jitter on the GOT-10k-only 100-epoch schedule."""
    cfg = load('droptrack/droptrack_vit-b16_192-384_got10k.py')
    m = cfg.model
    assert (m.template_size, m.search_size, m.search_factor, m.head.feat_size) == (
        192, 384, 5.0, 24)
    crop = _crop(cfg)
    assert (crop.template_size, crop.search_size, crop.search_factor) == (192, 384, 5.0)
    assert (crop.search_scale_jitter, crop.search_center_jitter) == (0.5, 4.5)
    assert cfg.optim_wrapper.optimizer.lr == 2.5e-4
    assert cfg.train_cfg.max_epochs == 100 and cfg.param_scheduler[0].milestones == [80]
    assert (m.ce_start_epoch, m.ce_warm_epochs) == (20, 50)
    assert cfg.test_evaluator.type == 'GOT10kMetric'


def test_dropseg_recipe():
    """STCN's main training (hkchengrex/STCN util/hyper_para.py stage 3,
    model/model.py, model/losses.py, train.py, eval_davis.py)."""
    cfg = load('dropseg/dropseg_vit-b16_davis17-ytvos.py')
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('Adam', 1e-5, 1e-7)
    train = cfg.train_dataloader
    gpus = 2
    assert train.batch_size * gpus == 8 == cfg.auto_scale_lr.base_batch_size
    iters = cfg.train_cfg.max_epochs * train.dataset.samples_per_epoch // (
        train.batch_size * gpus)
    assert iters == 150000
    sched, = cfg.param_scheduler
    assert (sched.by_epoch, sched.milestones, sched.gamma) == (False, [125000], 0.1)
    ds = train.dataset
    assert [d.type for d in ds.datasets] == ['DAVISDataset', 'YouTubeVOSDataset']
    assert ds.dataset_weights == [5, 1] and list(ds.max_skip) == [25, 5]
    assert (ds.num_frames, ds.max_objects) == (3, 2)
    crop = [t for t in ds.pipeline if t.type == 'VOSClipRandomResizedCrop'][0]
    assert tuple(crop.size) == (384, 384) and tuple(crop.scale) == (0.36, 1.0)
    m = cfg.model
    assert (m.loss.start_warm, m.loss.end_warm, m.loss.top_p) == (20000, 70000, 0.15)
    assert (m.key_dims, m.mem_topk, m.test_cfg.mem_every) == (64, 20, 5)
    assert cfg.test_evaluator.type == 'VOSMetric'
    assert cfg.default_hooks.checkpoint.interval == 10


@pytest.mark.parametrize('name', [
    'correspondence/labelprop_vit-b16_davis17.py',
    'correspondence/labelprop_vit-b16_jhmdb.py',
    'correspondence/labelprop_vit-b16_vip.py',
])
def test_labelprop_protocol(name):
    """DINO's eval_video_segmentation.py: --n_last_frames 7,
    --size_mask_neighborhood 12, --topk 5, temperature 0.1."""
    cfg = load(name)
    m = cfg.model
    assert (m.n_context, m.radius, m.topk, m.temperature, m.last_k_blocks) == (
        7, 12, 5, 0.1, 1)
    assert m.backbone.arch == 'base' and m.backbone.patch_size == 16
    assert cfg.test_cfg.type == 'TestLoop' and cfg.default_hooks.logger.interval == 1
    assert 'train_cfg' not in cfg and 'optim_wrapper' not in cfg
    load_step, pack = cfg.test_dataloader.dataset.pipeline
    assert (load_step.type, pack.type) == ('LoadSequenceFrames', 'PackSequence')
    size = (load_step.short_side, load_step.size_divisor)
    if name.endswith('davis17.py'):
        # DINO: short side 480, floored to a multiple of 64
        assert (m.task, m.norm_mask, size) == ('mask', True, (480, 64))
        assert cfg.test_evaluator.type == 'VOSMetric'
    elif name.endswith('jhmdb.py'):
        assert (m.task, m.norm_mask, size) == ('keypoint', False, (320, 16))
        assert cfg.test_dataloader.dataset.ann_file == 'testdata.txt'
        assert (cfg.test_evaluator.type, tuple(cfg.test_evaluator.alphas)) == (
            'PCKMetric', (0.1, 0.2))
    else:
        assert (m.task, m.num_classes, size) == ('mask', 20, (480, 64))
        assert (cfg.test_evaluator.type, cfg.test_evaluator.num_classes) == ('mIoUMetric', 20)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not 1 <= len(argv) <= 2:
        print(__doc__)
        return 2
    old = Path(argv[0])
    new = Path(argv[1]) if len(argv) > 1 else CONFIGS
    diffs = compare_trees(old, new)
    bad = expected = 0
    for name, lines in sorted(diffs.items()):
        unexpected = changed_paths(lines) - MIGRATIONS.get(name, set())
        status = 'identical' if not lines else 'DIFFERENT' if unexpected else 'migrated'
        print(f'{status:10} {name}')
        for line in lines:
            print('    ' + line)
        bad += bool(unexpected)
        expected += bool(lines) and not unexpected
    print(f'{len(diffs)} configs compared: {len(diffs) - bad - expected} identical, '
          f'{expected} with only the MIGRATIONS changes, {bad} different')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
