"""Mini replication of DropMAE's central finding: TwinMAE vs DropMAE.

The paper (Wu et al., "DropMAE", CVPR 2023; reference code
``jimmy-dq/DropMAE``) reports that a twin-frame MAE without ASAD
reconstructs mostly from within-frame cues (its Fig. 4: decoder attention
between the frames stays low), and that ASAD raises the between-frame
attention and gives encoders that match better over time. This script
answers, from nothing but the project's synthetic data generators, whether
our implementation shows that effect at a scale this machine can run:

1. writes the data (``<out>/data``): synthetic mp4 videos in the Kinetics
   layout for pre-training, other (held-out) videos for the probes and a
   held-out synthetic DAVIS-format set for label propagation;
2. pre-trains TwinMAE and DropMAE (``configs/dropmae/mini_replication_
   {twinmae,dropmae}.py``: identical data, schedule and seeds, the arms
   differ only in the ASAD drop ratio) for every seed through MMEngine's
   ``Runner`` (in this process), checkpointing at 1/4, 1/2, 3/4 and all of
   the schedule;
3. measures every checkpoint (and, as the control, the untrained model of
   each seed) on held-out data: (a) the mean within- and between-frame
   decoder attention per layer (eval mode: no ASAD, no dropout;
   :func:`mmdropmae.apis.probe_temporal_matching` via
   ``tools/analysis_tools/temporal_matching.py``), (b) the statistics of the
   temporal matching score f_tem of the last decoder layer, (c) the DAVIS
   J&F of label propagation with the frozen encoder
   (``configs/correspondence/labelprop_vit-tiny_synthetic.py``'s protocol)
   and (d) the masked reconstruction loss;
4. writes ``<out>/report.md`` (the table, mean +- spread over seeds, the
   paired gap against the seed spread and a plain verdict),
   ``attention_per_layer.png``, ``training_curve.png``,
   ``reconstruction.png`` and ``results.json``.

It is resumable: a run (arm, seed) whose ``runs/<arm>_seed<k>/results.json``
exists for the same scale is not re-run; an interrupted training resumes
from its last checkpoint; the data are re-used when their manifest matches.

The verdict rule is fixed in advance (:func:`verdict`), not tuned to the
result: the gap of a metric is the per-seed paired difference DropMAE minus
TwinMAE; it *appears* when every seed has the same sign and the mean gap is
at least twice the seed spread (the larger of the two arms' standard
deviations over seeds); it is *weak* when the sign is consistent but the
mean is below that; otherwise *absent*.

Examples::

    # the default scale (about 45 min on 2 quiet CPU cores, 67 min measured
    # on a shared machine, see docs/mini_replication.md)
    python tools/experiments/mini_replication.py
    # the pipeline check of the test suite (about a minute)
    python tools/experiments/mini_replication.py --fast --out-dir /tmp/mr
    # a GPU machine: a larger model, longer schedule, more data
    python tools/experiments/mini_replication.py --device cuda \\
        --embed-dims 384 --depth 12 --img-size 224 --iters 20000 \\
        --num-videos 800 --seeds 0 1 2 --out-dir work_dirs/mini_replication_gpu
"""
import argparse
import contextlib
import copy
import gc
import importlib.util
import json
import logging
import math
import os
import os.path as osp
import shutil
import sys
import time
from collections import OrderedDict

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import numpy as np  # noqa: E402

ARMS = ('TwinMAE', 'DropMAE')  # the compared pre-trainings
CONTROL = 'untrained'  # the same models before any training
CONFIGS = {
    'TwinMAE': 'configs/dropmae/mini_replication_twinmae.py',
    'DropMAE': 'configs/dropmae/mini_replication_dropmae.py',
}
LABELPROP_CONFIG = 'configs/correspondence/labelprop_vit-tiny_synthetic.py'
#: the scale of the default run and of ``--fast`` (the test suite's check)
DEFAULTS = dict(embed_dims=128, depth=6, decoder_dims=128, decoder_depth=4,
                img_size=96, iters=1000, batch_size=32, seeds=[0, 1, 2],
                num_videos=64, num_heldout=16, num_pairs=64, davis_sequences=6,
                davis_frames=16, workers=1, frame_gap=50, drop_prob=0.1)
FAST = dict(embed_dims=32, depth=2, decoder_dims=32, decoder_depth=2,
            img_size=64, iters=12, batch_size=4, seeds=[0, 1], num_videos=4,
            num_heldout=2, num_pairs=8, davis_sequences=2, davis_frames=6,
            workers=0, frame_gap=50, drop_prob=0.1)
#: iterations per loader epoch (the training videos repeated)
ITERS_PER_EPOCH = 100
#: metrics of the table: key, label, format
METRICS = (
    ('between_mean', 'between-frame attention (mean over layers)', '.4f'),
    ('between_last', 'between-frame attention (last layer)', '.4f'),
    ('within_mean', 'within-frame attention (mean over layers)', '.4f'),
    ('f_tem_mean', 'f_tem mean (last layer)', '.4f'),
    ('f_tem_rel_uniform', 'f_tem mean x 2N (1 = uniform attention)', '.3f'),
    ('f_tem_median', 'f_tem median', '.4f'),
    ('jf', 'label propagation J&F', '.4f'),
    ('j', 'label propagation J', '.4f'),
    ('f', 'label propagation F', '.4f'),
    ('loss', 'reconstruction loss (held-out, masked patches)', '.4f'),
)
#: metrics where the paper's claim is a lower DropMAE value (ASAD moves
#: attention off the own frame; the loss is lower-is-better)
LOWER_IS_BETTER = ('within_mean', 'loss')
#: the metrics the verdict is stated for (the paper's two claims + the loss)
VERDICT_METRICS = ('between_mean', 'f_tem_mean', 'jf', 'loss')


def load_script(relpath):
    """Import a script of the repository (``tools/...``) from its path."""
    name = '_mr_' + osp.splitext(relpath)[0].replace('/', '_')
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, relpath))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------
# arguments
# --------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out-dir', default='work_dirs/mini_replication',
                        help='data, runs and the report go here')
    parser.add_argument('--fast', action='store_true',
                        help='a tiny scale that checks the pipeline in about '
                        'a minute (what the test suite runs); explicit '
                        'arguments still override it')
    parser.add_argument('--device', default='auto',
                        choices=['auto', 'cpu', 'cuda'],
                        help='auto: CUDA when available, else CPU')
    parser.add_argument('--seeds', type=int, nargs='+', default=None,
                        help='seeds (default 0 1 2; --fast: 0 1)')
    parser.add_argument('--embed-dims', type=int, default=None,
                        help='encoder width (default 128; heads = dims / 32)')
    parser.add_argument('--depth', type=int, default=None,
                        help='encoder blocks (default 6)')
    parser.add_argument('--decoder-dims', type=int, default=None,
                        help='decoder width (default 128)')
    parser.add_argument('--decoder-depth', type=int, default=None,
                        help='decoder blocks (default 4)')
    parser.add_argument('--img-size', type=int, default=None,
                        help='training crop size, a multiple of 16 '
                        '(default 96)')
    parser.add_argument('--iters', type=int, default=None,
                        help='training iterations per run (default 1000)')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='frame pairs per iteration (default 32)')
    parser.add_argument('--num-videos', type=int, default=None,
                        help='synthetic training videos (default 64)')
    parser.add_argument('--num-pairs', type=int, default=None,
                        help='held-out frame pairs of the attention probe '
                        '(default 64)')
    parser.add_argument('--frame-gap', type=int, default=None,
                        help='largest frame distance + 1 of a pair (default '
                        '50, the recipe)')
    parser.add_argument('--drop-prob', type=float, default=None,
                        help='ASAD P of the DropMAE arm (default 0.1)')
    parser.add_argument('--workers', type=int, default=None,
                        help='data loader workers (default 1)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default on CPU: the cores '
                        'left to the training process by the loader workers, '
                        'at least 1, so that no two busy threads share a core; '
                        '--fast: 1)')
    args = parser.parse_args(argv)
    scale = dict(FAST if args.fast else DEFAULTS)
    for key in scale:
        value = getattr(args, key, None)
        if value is not None:
            scale[key] = list(value) if key == 'seeds' else value
    if scale['img_size'] % 16 or scale['img_size'] < 32:
        parser.error(f'--img-size must be a multiple of 16 and >= 32, got '
                     f'{scale["img_size"]}')
    for key in ('embed_dims', 'decoder_dims'):
        if scale[key] % 32 and scale[key] >= 32:
            parser.error(f'--{key.replace("_", "-")} must be a multiple of 32 '
                         f'(32-d heads), got {scale[key]}')
        if scale[key] < 32:
            parser.error(f'--{key.replace("_", "-")} must be >= 32')
    for key in ('depth', 'decoder_depth', 'iters', 'batch_size', 'num_videos',
                'num_pairs'):
        if scale[key] < 1:
            parser.error(f'--{key.replace("_", "-")} must be positive')
    if scale['iters'] < 4:
        parser.error('--iters must be >= 4 (checkpoints at quarters)')
    if scale['frame_gap'] < 2:
        parser.error('--frame-gap must be >= 2')
    if not 0 < scale['drop_prob'] < 1:
        parser.error('--drop-prob must be in (0, 1)')
    if len(set(scale['seeds'])) != len(scale['seeds']):
        parser.error(f'--seeds must be distinct, got {scale["seeds"]}')
    if len(scale['seeds']) < 2:
        parser.error('--seeds needs at least two seeds (a spread)')
    args.scale = scale
    return args


def select_device(name):
    """``'auto'`` -> ``'cuda'`` when available, else ``'cpu'``; ``'cuda'``
    without a GPU is an error; ``'cpu'`` hides the GPUs from MMEngine's
    runner (which picks CUDA whenever it sees one)."""
    if name == 'cpu':
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
        return 'cpu'
    import torch
    available = torch.cuda.is_available()
    if name == 'cuda' and not available:
        raise SystemExit('error: --device cuda, but torch sees no CUDA device '
                         f'(torch {torch.__version__}, CUDA build '
                         f'{torch.version.cuda})')
    if name not in ('auto', 'cuda'):
        raise SystemExit(f'error: unknown device {name!r}')
    return 'cuda' if available else 'cpu'


def log(msg):
    print(f'[mini_replication {time.strftime("%H:%M:%S")}] {msg}', flush=True)


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def data_spec(scale):
    """Sizes and seeds of the synthetic data of a scale."""
    s = scale['img_size']
    even = lambda v: int(2 * round(v / 2))  # noqa: E731
    davis_w = int(16 * round(s * 4 / 3 / 16))
    return dict(
        video_size=(even(s * 5 / 3), even(s * 5 / 4)),
        num_videos=scale['num_videos'], num_heldout=scale['num_heldout'],
        video_frames=(40, 80), davis_size=(davis_w, s),
        # a keyframe every 10 frames: random access decodes <= 10 frames
        # (half the loading cost of x264's default); the content is the same
        gop=10,
        davis_sequences=scale['davis_sequences'],
        davis_frames=scale['davis_frames'],
        # different seeds: held-out data share no video with the training set
        seeds=dict(train=0, heldout=1000, davis=2000), version=1)


def prepare_data(out_dir, scale, workers=1):
    """Write (or re-use) the data of ``scale`` under ``out_dir/data``."""
    from mmdropmae.datasets.synthetic import make_synthetic_kinetics
    from mmdropmae.datasets.synthetic.vos import make_synthetic_davis
    from mmdropmae.utils.fileio import atomic_write_text
    spec = data_spec(scale)
    root = osp.join(out_dir, 'data')
    manifest = osp.join(root, 'manifest.json')
    if osp.exists(manifest):
        with open(manifest) as f:
            if json.load(f) == json.loads(json.dumps(spec)):
                log(f're-using the data in {root}')
                return root
        log(f'{manifest} is for another scale: rewriting the data')
    tmp = root + '.tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    t0 = time.time()
    classes = min(8, spec['num_videos'])
    per_class = math.ceil(spec['num_videos'] / classes)
    log(f'writing {classes * per_class} training videos {spec["video_size"]}')
    make_synthetic_kinetics(osp.join(tmp, 'videos'), num_classes=classes,
                            videos_per_class=per_class,
                            num_frames=spec['video_frames'],
                            size=spec['video_size'], gop=spec['gop'],
                            seed=spec['seeds']['train'], workers=workers)
    classes = min(4, spec['num_heldout'])
    per_class = math.ceil(spec['num_heldout'] / classes)
    log(f'writing {classes * per_class} held-out videos')
    make_synthetic_kinetics(osp.join(tmp, 'heldout_videos'), num_classes=classes,
                            videos_per_class=per_class,
                            num_frames=spec['video_frames'],
                            size=spec['video_size'], gop=spec['gop'],
                            seed=spec['seeds']['heldout'], workers=workers)
    log(f'writing {spec["davis_sequences"]} held-out DAVIS sequences '
        f'{spec["davis_size"]}')
    make_synthetic_davis(osp.join(tmp, 'davis'),
                         num_sequences=dict(val=spec['davis_sequences']),
                         num_frames=spec['davis_frames'],
                         size=spec['davis_size'], seed=spec['seeds']['davis'])
    atomic_write_text(osp.join(tmp, 'manifest.json'), json.dumps(spec, indent=2))
    shutil.rmtree(root, ignore_errors=True)
    os.replace(tmp, root)
    log(f'data written in {time.time() - t0:.0f} s')
    return root


# --------------------------------------------------------------------------
# configs
# --------------------------------------------------------------------------
def checkpoint_iters(iters):
    """The iterations probed for the training-length curve: quarters."""
    step = iters // 4
    return [step * k for k in (1, 2, 3)] + [iters]


def build_run_cfg(arm, seed, scale, data_root, run_dir):
    """The config of one pre-training run, scaled by ``scale``."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, CONFIGS[arm]))
    s, e, d = scale['img_size'], scale['embed_dims'], scale['decoder_dims']
    bb = cfg.model.backbone
    bb.arch = dict(embed_dims=e, num_layers=scale['depth'], num_heads=e // 32,
                   mlp_ratio=4.)
    bb.img_size = s
    neck = cfg.model.neck
    neck.update(num_patches=(s // 16)**2, embed_dims=e, decoder_embed_dims=d,
                decoder_depth=scale['decoder_depth'],
                decoder_num_heads=d // 32)
    if neck.attn_cfg.drop_prob > 0:  # the DropMAE arm
        neck.attn_cfg.drop_prob = scale['drop_prob']
    loader = cfg.train_dataloader
    loader.batch_size = scale['batch_size']
    loader.num_workers = scale['workers']
    loader.persistent_workers = scale['workers'] > 0
    loader.dataset.data_root = osp.join(data_root, 'videos')
    for step in loader.dataset.pipeline:
        if step['type'] == 'RandomResizedCrop':
            step['size'] = s
        elif step['type'] == 'LoadFramePairFromVideo':
            step['frame_gap'] = scale['frame_gap']
    iters = scale['iters']
    # MMEngine's IterBasedTrainLoop sleeps 2 s whenever the loader runs out
    # (``_InfiniteDataloaderIterator``); with 64 videos at batch 32 that is
    # every 2 iterations, more than the iteration itself: repeat the videos
    # so that a loader epoch lasts about ITERS_PER_EPOCH iterations
    loader.dataset = dict(
        type='RepeatDataset', dataset=loader.dataset,
        times=max(1, math.ceil(ITERS_PER_EPOCH * scale['batch_size'] / scale['num_videos'])))
    warmup = max(2, iters // 10)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    cfg.param_scheduler[0].end = warmup
    cfg.param_scheduler[1].update(T_max=iters - warmup, begin=warmup, end=iters)
    cfg.default_hooks.checkpoint.interval = iters // 4
    cfg.default_hooks.logger.interval = max(1, min(50, iters // 10))
    cfg.randomness = dict(seed=seed, diff_rank_seed=False)
    cfg.work_dir = run_dir
    name = f'{arm}_seed{seed}'
    cfg.experiment_name = f'{name}_{time.strftime("%Y%m%d_%H%M%S")}'
    cfg.visualizer.name = f'visualizer_{cfg.experiment_name}'
    cfg.launcher = 'none'
    return cfg


def config_difference(a, b, prefix=''):
    """Keys whose values differ between two config dicts: ``{key: (a, b)}``."""
    out = {}
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        name = f'{prefix}{key}'
        if isinstance(va, dict) and isinstance(vb, dict):
            out.update(config_difference(va, vb, name + '.'))
        elif va != vb:
            out[name] = (va, vb)
    return out


#: per-run bookkeeping keys, not part of the experiment
RUN_KEYS = ('work_dir', 'experiment_name', 'visualizer.name')


def experiment_cfg_dict(cfg):
    """The config as a plain dict, without the per-run bookkeeping keys."""
    d = copy.deepcopy(cfg.to_dict())
    d.pop('work_dir', None)
    d.pop('experiment_name', None)
    d.get('visualizer', {}).pop('name', None)
    d.pop('resume', None)
    d.pop('load_from', None)
    return json.loads(json.dumps(d, default=str))


# --------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------
def train(cfg):
    """Pre-train with MMEngine's ``Runner`` (resuming an interrupted run)."""
    from mmengine.runner import Runner
    train_tool = load_script('tools/train.py')
    notes = []
    train_tool.allow_full_checkpoint_load(notes)  # exact resume needs it
    last = osp.join(cfg.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')
    if osp.exists(last):
        return last
    if osp.exists(osp.join(cfg.work_dir, 'last_checkpoint')):
        log(f'resuming the interrupted run in {cfg.work_dir}')
        cfg.resume = True
        cfg.load_from = None
    runner = Runner.from_cfg(cfg)
    runner.train()
    del runner
    gc.collect()
    return last


def untrained_checkpoint(cfg, seed, path):
    """Save the model of ``cfg`` as initialised with ``seed`` (the control)."""
    import torch
    from mmengine.runner import set_random_seed
    from mmdropmae.registry import MODELS
    if osp.exists(path):
        return path
    set_random_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(iter=0, seed=seed)),
               tmp)
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------
@contextlib.contextmanager
def quiet_mmengine_logger():
    """Keep the metric tables of the probes out of the run's log."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    logger._cache.clear()  # MMLogger is not in logging's manager: no reset
    try:
        yield
    finally:
        logger.setLevel(level)
        logger._cache.clear()


class Probe:
    """The held-out data every checkpoint is measured on: the same frame
    pairs and masks for all models, and the DAVIS-format sequences."""

    def __init__(self, cfg, data_root, scale, device):
        self.tm = load_script('tools/analysis_tools/temporal_matching.py')
        self.device = device
        self.scale = scale
        dataset = self.tm.build_dataset(cfg, osp.join(data_root, 'heldout_videos'))
        self.inputs, self.metas = self.tm.draw_pairs(dataset, scale['num_pairs'],
                                                     seed=0)
        self.davis_root = osp.join(data_root, 'davis')
        self.davis_size = tuple(data_spec(scale)['davis_size'])
        self._davis_items = None
        self.copy_first = None

    # (a), (b), (d)
    def attention(self, cfg, ckpt):
        model = self.tm.load_model(cfg, ckpt, self.device)
        res = self.tm.analyse(model, self.inputs, batch_size=16,
                              num_vis=len(self.inputs), seed=0)
        f_tem = res['f_tem'].numpy()  # (P, 2, h, w)
        num_tokens = 2 * f_tem.shape[-1] * f_tem.shape[-2]
        pre = model.data_preprocessor
        from mmdropmae.apis import reconstruction_grid
        recon = reconstruction_grid(
            res['frames'][:4], dict(pred=res['pred'][:4], mask=res['mask'][:4]),
            pre.mean.flatten().cpu(), pre.std.flatten().cpu(), 4)
        out = dict(
            within=[float(v) for v in res['within']],
            between=[float(v) for v in res['between']],
            within_mean=float(np.mean(res['within'])),
            between_mean=float(np.mean(res['between'])),
            between_last=float(res['between'][-1]),
            f_tem_mean=float(f_tem.mean()), f_tem_median=float(np.median(f_tem)),
            f_tem_std=float(f_tem.std()),
            f_tem_rel_uniform=float(f_tem.mean() * num_tokens),
            loss=float(res['loss']), num_pairs=len(self.inputs))
        del model
        return out, recon

    # (c)
    def _davis(self):
        if self._davis_items is None:
            from mmengine.config import Config
            from mmdropmae.registry import DATASETS
            cfg = Config.fromfile(osp.join(REPO, LABELPROP_CONFIG))
            ds = cfg.test_dataloader.dataset
            ds.data_root = self.davis_root
            ds.pipeline[0].img_scale = self.davis_size
            dataset = DATASETS.build(ds)
            self._davis_items = [dataset[i] for i in range(len(dataset))]
            self._labelprop_cfg = cfg
        return self._davis_items

    @staticmethod
    def _jf(samples):
        from mmdropmae.evaluation.metrics import VOSMetric
        metric = VOSMetric()
        metric.process(None, samples)
        m = metric.compute_metrics(metric.results)
        return dict(jf=float(m['J&F-Mean']), j=float(m['J-Mean']),
                    f=float(m['F-Mean']))

    def label_propagation(self, ckpt):
        """J&F of label propagation with the frozen encoder of ``ckpt``."""
        from mmengine.dataset import pseudo_collate
        from mmengine.runner import load_checkpoint
        from mmdropmae.registry import MODELS
        items = self._davis()
        cfg = self._labelprop_cfg
        s = self.scale
        model_cfg = copy.deepcopy(cfg.model)
        model_cfg.backbone = dict(
            type='VisionTransformer',
            arch=dict(embed_dims=s['embed_dims'], num_layers=s['depth'],
                      num_heads=s['embed_dims'] // 32, mlp_ratio=4.),
            img_size=s['img_size'], patch_size=16, pos_embed_type='sincos',
            norm_eps=1e-6, qkv_bias=True)
        model = MODELS.build(model_cfg)
        load_checkpoint(model, ckpt, map_location='cpu', strict=True,
                        logger='silent')
        model = model.to(self.device).eval()
        samples = []
        for item in items:
            samples.extend(model.test_step(pseudo_collate([item])))
        if self.copy_first is None:  # the trivial baseline: copy frame 0
            first = {}
            for smp in samples:
                if smp.frame_id == 0:
                    first[smp.video_name] = smp.pred_mask
            self.copy_first = self._jf(
                [dict(smp.to_dict(), pred_mask=first[smp.video_name])
                 for smp in samples])
        del model
        return self._jf(samples)

    def measure(self, cfg, ckpt):
        with quiet_mmengine_logger():
            out, recon = self.attention(cfg, ckpt)
            out.update(self.label_propagation(ckpt))
        return out, recon


def run_done(path, scale):
    """The kept results of a finished run, or None."""
    if not osp.exists(path):
        return None
    with open(path) as f:
        res = json.load(f)
    if res.get('scale') != json.loads(json.dumps(scale_key(scale))):
        log(f'{path} is for another scale: re-running')
        return None
    return res


def scale_key(scale):
    """What makes two runs comparable (the seeds list is not part of it)."""
    return {k: v for k, v in scale.items() if k not in ('seeds', 'workers')}


def save_json(path, obj):
    from mmdropmae.utils.fileio import atomic_write_text
    atomic_write_text(path, json.dumps(obj, indent=2))


def run_one(arm, seed, scale, data_root, out_dir, probe_state, device):
    """Train (unless done) and measure one (arm, seed); returns its results."""
    run_dir = osp.join(out_dir, 'runs', f'{arm}_seed{seed}')
    res_path = osp.join(run_dir, 'results.json')
    res = run_done(res_path, scale)
    if res is not None:
        log(f'{arm} seed {seed}: done before, results kept ({res_path})')
        return res
    cfg = build_run_cfg(arm if arm != CONTROL else 'TwinMAE', seed, scale,
                        data_root, run_dir)
    os.makedirs(run_dir, exist_ok=True)
    t0 = time.time()
    if arm == CONTROL:
        ckpts = {0: untrained_checkpoint(
            cfg, seed, osp.join(run_dir, 'iter_0.pth'))}
    else:
        cfg.dump(osp.join(run_dir, 'config.py'))
        log(f'{arm} seed {seed}: pre-training {scale["iters"]} iterations '
            f'(batch {scale["batch_size"]}) in {run_dir}')
        train(cfg)
        ckpts = {it: osp.join(run_dir, f'iter_{it}.pth')
                 for it in checkpoint_iters(scale['iters'])}
    train_s = time.time() - t0
    if 'probe' not in probe_state:
        probe_state['probe'] = Probe(cfg, data_root, scale, device)
    probe = probe_state['probe']
    t1 = time.time()
    curve, final, recon = [], None, None
    for it, ckpt in sorted(ckpts.items()):
        m, recon = probe.measure(cfg, ckpt)
        curve.append(dict(iter=it, **{k: m[k] for k in (
            'between_mean', 'f_tem_mean', 'jf', 'loss')}))
        final = m
        log(f'{arm} seed {seed} iter {it}: between {m["between_mean"]:.4f}, '
            f'f_tem {m["f_tem_mean"]:.4f}, J&F {m["jf"]:.4f}, loss '
            f'{m["loss"]:.4f}')
    np.save(osp.join(run_dir, 'reconstruction_grid.npy'), recon)
    res = dict(arm=arm, seed=seed, scale=scale_key(scale), final=final,
               curve=curve, train_seconds=train_s,
               measure_seconds=time.time() - t1,
               config=experiment_cfg_dict(cfg),
               copy_first_mask=probe.copy_first)
    save_json(res_path, res)
    # the curve is in results.json: keep only the final checkpoint
    for it, ckpt in ckpts.items():
        if it != max(ckpts) and osp.exists(ckpt):
            os.remove(ckpt)
    gc.collect()
    return res


# --------------------------------------------------------------------------
# aggregation and report
# --------------------------------------------------------------------------
def summarise(values):
    v = np.asarray(values, dtype=np.float64)
    return dict(mean=float(v.mean()), std=float(v.std(ddof=1)) if len(v) > 1
                else 0.0, min=float(v.min()), max=float(v.max()),
                values=[float(x) for x in v])


def verdict(gaps, spread, higher_is_better=True):
    """The pre-declared rule of the module docstring.

    Args:
        gaps (list[float]): Per-seed DropMAE minus TwinMAE.
        spread (float): The seed spread (largest arm standard deviation).
        higher_is_better (bool): Direction of the paper's claim.

    Returns:
        str: ``'appears'``, ``'weak'``, ``'absent'`` or ``'reversed'``.
    """
    g = np.asarray(gaps, dtype=np.float64)
    sign = 1.0 if higher_is_better else -1.0
    g = g * sign
    g = np.where(np.abs(g) < 1e-9, 0.0, g)  # float noise counts as no gap
    mean = float(g.mean())
    same_sign = bool(np.all(g > 0) or np.all(g < 0))
    if same_sign and abs(mean) >= 2 * max(spread, 1e-12):
        return 'appears' if mean > 0 else 'reversed'
    if same_sign:
        return 'weak' if mean > 0 else 'weakly reversed'
    return 'absent'


def aggregate(results, seeds):
    """Per arm mean +- spread of every metric, per-layer means, the paired
    gaps, the verdicts and the training-length curves."""
    arms = [CONTROL] + list(ARMS)
    table = OrderedDict()
    for arm in arms:
        runs = [results[(arm, s)] for s in seeds]
        row = {key: summarise([r['final'][key] for r in runs])
               for key, _, _ in METRICS}
        row['within_per_layer'] = np.mean(
            [r['final']['within'] for r in runs], 0).tolist()
        row['between_per_layer'] = np.mean(
            [r['final']['between'] for r in runs], 0).tolist()
        row['between_per_layer_std'] = np.std(
            [r['final']['between'] for r in runs], 0, ddof=1).tolist()
        table[arm] = row
    gaps = OrderedDict()
    for key, _, _ in METRICS:
        per_seed = [results[('DropMAE', s)]['final'][key] -
                    results[('TwinMAE', s)]['final'][key] for s in seeds]
        spread = max(table['DropMAE'][key]['std'], table['TwinMAE'][key]['std'])
        mean = float(np.mean(per_seed))
        gaps[key] = dict(
            per_seed=per_seed, mean=mean,
            std=float(np.std(per_seed, ddof=1)), seed_spread=spread,
            gap_over_spread=mean / spread if spread > 0 else float('inf'),
            verdict=verdict(per_seed, spread,
                            higher_is_better=key not in LOWER_IS_BETTER))
    curves = OrderedDict()
    for arm in ARMS:
        its = [c['iter'] for c in results[(arm, seeds[0])]['curve']]
        curves[arm] = dict(iters=[0] + its)
        for key in ('between_mean', 'f_tem_mean', 'jf', 'loss'):
            rows = [[results[(CONTROL, s)]['final'][key]] +
                    [c[key] for c in results[(arm, s)]['curve']] for s in seeds]
            curves[arm][key] = np.mean(rows, 0).tolist()
            curves[arm][key + '_std'] = np.std(rows, 0, ddof=1).tolist()
    return table, gaps, curves


def plot_curves(curves, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    keys = (('between_mean', 'between-frame attention'),
            ('f_tem_mean', 'f_tem mean'), ('jf', 'label propagation J&F'),
            ('loss', 'reconstruction loss'))
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.4))
    for ax, (key, title) in zip(axes, keys):
        for arm, c in curves.items():
            m, s = np.asarray(c[key]), np.asarray(c[key + '_std'])
            ax.plot(c['iters'], m, marker='o', label=arm)
            ax.fill_between(c['iters'], m - s, m + s, alpha=.2)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel('iteration')
        ax.grid(alpha=.3)
    axes[0].legend(fontsize='small')
    fig.suptitle('mean +- std over seeds (held-out data, eval mode)',
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def fmt_pm(s, spec):
    return f'{format(s["mean"], spec)} ± {format(s["std"], spec)}'


VERDICT_TEXT = {
    'appears': 'the gap appears (same sign on every seed, at least twice the '
               'seed spread)',
    'weak': 'the gap has the paper\'s sign on every seed but is smaller than '
            'twice the seed spread (weak)',
    'absent': 'no gap (the seeds disagree on its sign)',
    'reversed': 'the gap is reversed (against the paper, on every seed, at '
                'least twice the seed spread)',
    'weakly reversed': 'the gap is against the paper on every seed but '
                       'smaller than twice the seed spread',
}


def write_report(out_dir, scale, seeds, table, gaps, curves, timing, device,
                 copy_first):
    s = scale
    n_tok = 2 * (s['img_size'] // 16)**2
    lines = [
        '# Mini replication: TwinMAE vs DropMAE',
        '',
        f'Written by `tools/experiments/mini_replication.py` on {device} '
        f'({time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}).',
        '',
        '## Setup',
        '',
        f'- encoder ViT {s["embed_dims"]}-d x {s["depth"]} blocks '
        f'({s["embed_dims"] // 32} heads), decoder {s["decoder_dims"]}-d x '
        f'{s["decoder_depth"]} blocks, patch 16, crops {s["img_size"]} px '
        f'({n_tok} tokens per pair), mask ratio 0.75 joint over both frames',
        f'- {s["iters"]} iterations of batch {s["batch_size"]} '
        f'(AdamW lr 1e-3, 10% warm-up + cosine), frame gap {s["frame_gap"]}, '
        f'DropMAE P = {s["drop_prob"]}; TwinMAE = the same with P = 0',
        f'- seeds {seeds}; both arms of a seed see the same frame pairs, '
        'augmentations and masks (the random streams are re-seeded from '
        '(seed, iteration))',
        f'- data: {data_spec(s)["num_videos"]} synthetic training videos; '
        f'probes on {s["num_pairs"]} frame pairs of '
        f'{data_spec(s)["num_heldout"]} held-out videos (eval mode: no ASAD, '
        f'no dropout; the same pairs and masks for every model) and label '
        f'propagation on {s["davis_sequences"]} held-out synthetic DAVIS '
        f'sequences ({s["davis_frames"]} frames, '
        f'{data_spec(s)["davis_size"][0]}x{data_spec(s)["davis_size"][1]})',
        f'- `{CONTROL}`: the models of the same seeds before training (the '
        'control: what the probes give without learning). Copying the first '
        f'mask to every frame scores J&F {copy_first["jf"]:.4f}.',
        f'- time: {timing["total_s"] / 60:.1f} min in total '
        f'({timing["train_s"] / 60:.1f} min training, '
        f'{timing["measure_s"] / 60:.1f} min measuring, the rest data); '
        'runs kept from an earlier invocation count with their recorded time',
        '',
        '## Results (mean ± standard deviation over seeds)',
        '',
        '| metric | ' + ' | '.join(table) + ' | gap DropMAE − TwinMAE '
        '(per seed) | gap / seed spread | verdict |',
        '|---|' + '---|' * (len(table) + 3),
    ]
    for key, label, spec in METRICS:
        g = gaps[key]
        per_seed = ', '.join(format(v, '+' + spec) for v in g['per_seed'])
        lines.append(
            f'| {label} | ' + ' | '.join(fmt_pm(table[a][key], spec)
                                         for a in table) +
            f' | {format(g["mean"], "+" + spec)} ({per_seed}) | '
            f'{g["gap_over_spread"]:+.2f} | {g["verdict"]} |')
    lines += [
        '',
        'Uniform attention over the 2N keys gives within = between = 0.5 and '
        f'f_tem = 1/2N = {1 / n_tok:.4f}. For the within-frame attention and '
        'the loss the paper\'s direction is a lower DropMAE value (their '
        'verdict reads "appears" when DropMAE is lower).',
        '',
        '### Decoder attention per layer (between-frame, mean over seeds)',
        '',
        '| layer | ' + ' | '.join(table) + ' |',
        '|---|' + '---|' * len(table),
    ]
    for i in range(s['decoder_depth']):
        lines.append(f'| {i} | ' + ' | '.join(
            f'{table[a]["between_per_layer"][i]:.4f} ± '
            f'{table[a]["between_per_layer_std"][i]:.4f}' for a in table) + ' |')
    lines += [
        '',
        '![attention per layer](attention_per_layer.png)',
        '',
        '### Training length (mean over seeds; iteration 0 = untrained)',
        '',
        '| iteration | ' + ' | '.join(
            f'{a} between | {a} J&F | {a} loss' for a in curves) + ' |',
        '|---|' + '---|' * (3 * len(curves)),
    ]
    first = next(iter(curves.values()))
    for i, it in enumerate(first['iters']):
        lines.append(f'| {it} | ' + ' | '.join(
            f'{c["between_mean"][i]:.4f} | {c["jf"][i]:.4f} | '
            f'{c["loss"][i]:.4f}' for c in curves.values()) + ' |')
    lines += [
        '',
        '![training curve](training_curve.png)',
        '',
        '![reconstructions](reconstruction.png)',
        '',
        '## Verdict',
        '',
    ]
    b, j = gaps['between_mean'], gaps['jf']
    lines.append(
        f'- **Between-frame decoder attention** (the paper\'s Fig. 4): '
        f'{VERDICT_TEXT[b["verdict"]]}; DropMAE − TwinMAE = '
        f'{b["mean"]:+.4f}, {b["gap_over_spread"]:+.2f} x the seed spread '
        f'({b["seed_spread"]:.4f}).')
    f = gaps['f_tem_mean']
    lines.append(
        f'- **f_tem** (temporal matching score): {VERDICT_TEXT[f["verdict"]]};'
        f' gap {f["mean"]:+.4f}, {f["gap_over_spread"]:+.2f} x the spread.')
    lines.append(
        f'- **Label propagation J&F** (better matching over time): '
        f'{VERDICT_TEXT[j["verdict"]]}; gap {j["mean"]:+.4f}, '
        f'{j["gap_over_spread"]:+.2f} x the spread.')
    lo = gaps['loss']
    lines.append(
        f'- **Reconstruction loss**: gap {lo["mean"]:+.4f} '
        f'({lo["gap_over_spread"]:+.2f} x the spread).')
    learned = table['TwinMAE']['loss']['mean'] < table[CONTROL]['loss']['mean']
    near_uniform = all(abs(table[a]['between_mean']['mean'] - 0.5) < 0.02
                       for a in ARMS)
    lines.append(
        '- Did the models learn at all? reconstruction loss ' +
        (f'fell from {table[CONTROL]["loss"]["mean"]:.4f} (untrained) to '
         f'{table["TwinMAE"]["loss"]["mean"]:.4f} (TwinMAE) / '
         f'{table["DropMAE"]["loss"]["mean"]:.4f} (DropMAE)'
         if learned else 'did not fall below the untrained models\'') + '; '
        'decoder attention ' +
        ('stays within 0.02 of the uniform 0.5 for both arms: too little '
         'training to form a preference between frames' if near_uniform
         else 'has moved away from the uniform 0.5'))
    lines += [
        '',
        '## What would change it',
        '',
        '- **Scale and training length**: the paper trains ViT-B (768-d x 12, '
        'decoder 512-d x 8) for 800-1600 epochs of Kinetics (about 10^5 '
        'updates of 4096 pairs); this run is many orders of magnitude '
        'smaller. The training-length table shows how the gap moves over the '
        'schedule; on a GPU raise `--iters`, `--embed-dims`, `--depth`, '
        '`--img-size`, `--num-videos`.',
        '- **P** (`--drop-prob`): the fraction of within-frame links ASAD '
        'drops; larger P forces more between-frame attention during '
        'training (the paper picks 0.1 by downstream results).',
        '- **Frame gap** (`--frame-gap`): close frames make the other frame '
        'an easy copy source for both arms (smaller gap between arms); far '
        'frames of synthetic videos with independent crops may share little '
        'content.',
        '- **Data**: synthetic textured shapes with camera motion, not '
        'Kinetics; the held-out probes use the same generator with other '
        'seeds.',
        '',
        'Numbers of every run: `results.json` (`runs/<arm>_seed<k>/'
        'results.json` per run).',
    ]
    from mmdropmae.utils.fileio import atomic_write_text
    atomic_write_text(osp.join(out_dir, 'report.md'), '\n'.join(lines) + '\n')


def main(argv=None):
    args = parse_args(argv)
    t_start = time.time()
    device = select_device(args.device)
    import torch
    threads = args.threads
    if threads is None and device == 'cpu':
        # the tiny --fast model gains nothing from a second thread; otherwise
        # one core per loader worker and the rest for the training threads
        threads = 1 if args.fast else max(1, (os.cpu_count() or 1) - args.scale['workers'])
    if threads:
        torch.set_num_threads(threads)
    from mmdropmae.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    scale, seeds = args.scale, args.scale['seeds']
    out_dir = osp.abspath(args.out_dir)
    os.makedirs(out_dir, exist_ok=True)
    log(f'scale {scale_key(scale)}, seeds {seeds}, device {device}, '
        f'{torch.get_num_threads()} threads, out {out_dir}')
    data_root = prepare_data(out_dir, scale, workers=max(1, scale['workers']))
    t_data = time.time() - t_start

    results, probe_state = {}, {}
    order = [(CONTROL, s) for s in seeds] + [(a, s) for s in seeds for a in ARMS]
    done_s = 0.
    for k, (arm, seed) in enumerate(order):
        t0 = time.time()
        log(f'[{k + 1}/{len(order)}] {arm} seed {seed}')
        results[(arm, seed)] = run_one(arm, seed, scale, data_root, out_dir,
                                       probe_state, device)
        done_s += time.time() - t0
        trained = [r for (a, _), r in results.items() if a != CONTROL]
        left = sum(1 for a, _ in order[k + 1:] if a != CONTROL)
        if trained and left:
            per_run = np.mean([r['train_seconds'] + r['measure_seconds']
                               for r in trained])
            log(f'about {left * per_run / 60:.1f} min left ({left} runs)')

    # the arms of a seed differ only in the attention (drop ratio)
    diffs = {}
    for s in seeds:
        d = config_difference(results[('TwinMAE', s)]['config'],
                              results[('DropMAE', s)]['config'])
        diffs[s] = {k: list(v) for k, v in d.items()}
        if set(d) != {'model.neck.attn_cfg.drop_prob'}:
            raise RuntimeError(f'seed {s}: the TwinMAE and DropMAE configs '
                               f'differ in more than the ASAD drop ratio: {d}')

    table, gaps, curves = aggregate(results, seeds)
    tm = load_script('tools/analysis_tools/temporal_matching.py')
    tm.plot_attention(
        OrderedDict((a, dict(within=table[a]['within_per_layer'],
                             between=table[a]['between_per_layer']))
                    for a in table),
        osp.join(out_dir, 'attention_per_layer.png'))
    plot_curves(curves, osp.join(out_dir, 'training_curve.png'))
    grids = [np.load(osp.join(out_dir, 'runs', f'{a}_seed{seeds[0]}',
                              'reconstruction_grid.npy')) for a in table]
    tm.plot_reconstructions(grids, [f'{a} (seed {seeds[0]})' for a in table],
                            osp.join(out_dir, 'reconstruction.png'))
    timing = dict(
        total_s=t_data + sum(r['train_seconds'] + r['measure_seconds']
                             for r in results.values()),
        data_s=t_data,
        train_s=sum(r['train_seconds'] for r in results.values()),
        measure_s=sum(r['measure_seconds'] for r in results.values()),
        this_invocation_s=time.time() - t_start)
    copy_first = results[(CONTROL, seeds[0])]['copy_first_mask']
    write_report(out_dir, scale, seeds, table, gaps, curves, timing, device,
                 copy_first)
    summary = dict(
        scale=scale_key(scale), seeds=seeds, device=device,
        table=table, gaps=gaps, curves=curves, timing=timing,
        copy_first_mask=copy_first, config_differences=diffs,
        runs=[dict(arm=a, seed=s, final=results[(a, s)]['final'],
                   curve=results[(a, s)]['curve'],
                   train_seconds=results[(a, s)]['train_seconds'],
                   measure_seconds=results[(a, s)]['measure_seconds'])
              for a, s in order])
    save_json(osp.join(out_dir, 'results.json'), summary)
    log(f'report: {osp.join(out_dir, "report.md")} '
        f'({timing["this_invocation_s"] / 60:.1f} min this invocation)')
    for key in VERDICT_METRICS:
        g = gaps[key]
        log(f'{key}: gap {g["mean"]:+.4f} ({g["gap_over_spread"]:+.2f} x '
            f'spread) -> {g["verdict"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
