"""Frame pairs per second per data loader worker: every loader side by side
against a plain decord loader, in one run.

All loaders run in this one process, pinned to one CPU core, with every
library at one thread (a data loader worker's budget), on the same video
files, in the same order, from the same ``np.random`` seed:

- **reference**: ``decord.VideoReader(path, num_threads=1)``, the pair
  sampled with :func:`sample_frame_pair`, ``get_batch([start, end])`` at full
  resolution, then our ``RandomResizedCrop(224, scale=(0.2, 1), bicubic)``,
  ``RandomFlip(0.5)`` and ``PackPairInputs``;
- **ours (BACKEND)**: ``VideoPairDataset[i]`` with the pipeline
  ``LoadFramePairFromVideo`` -> ``RandomResizedCrop`` -> ``RandomFlip`` ->
  ``PackPairInputs`` (the same transform objects' settings); by default the
  exact PyAV path (``pyav``) and the approximate fast-decode one
  (``pyav:skip_loop_filter``);
- **prepared (FORM)**: the same videos converted in this run, into a
  temporary folder, by ``tools/dataset_converters/prepare_kinetics.py``'s
  ``prepare_kinetics`` (one process on the pinned core, so its time is the
  preparation cost per core), then ``RawframePairDataset[i]`` with
  ``LoadFramePairFromFrames`` and the same three transforms (``jpg``, the
  default form), or ``VideoPairDataset`` + the exact PyAV reader on the
  re-encoded files (``h264:gopN[:crfM]``, e.g. ``h264:gop1`` all-intra).

The loaders draw the random numbers in the same order, so with the same
seed and the same frame counts they sample exactly the same frame indices,
crops and flips; the script checks that ("same samples") and reports whether
the packed tensors are identical to the reference's (or their PSNR). For each
prepared form it also prints the preparation CPU time and the disk size per
hour of video and the PSNR of the prepared frames against the exact frames.

By default it generates 640x480 H.264 clips (10 s at 30 fps, x264's default
GOP: keyint 250, B-frames with pyramid) with the synthetic generator and
caches them; ``--video-dir`` takes any folder of videos instead (Kinetics
layout or flat). ``--check`` exits with status 1 when the first prepared form
is below ``--prepared-target`` (5x) times the reference, when ``--target`` is
given and the first ``--backends`` loader is below it, or when a checked
loader samples differently.

Example::

    python tools/benchmarks/video_loading.py --pairs 150 --check
    python tools/benchmarks/video_loading.py --video-dir ~/my_videos
    python tools/benchmarks/video_loading.py \\
        --prepared jpg,jpg:s420,jpg:q90:s420,h264:gop1,h264:gop8
"""
import os

for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'NUMEXPR_NUM_THREADS'):
    os.environ[_var] = '1'

import argparse  # noqa: E402
import os.path as osp  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from typing import Callable, Dict, List, Sequence, Tuple  # noqa: E402

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', 'dataset_converters')))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402

from mmdropmae.datasets import (RawframePairDataset, VideoPairDataset,  # noqa: E402
                                available_backends, build_video_reader)
from mmdropmae.datasets.synthetic import make_synthetic_kinetics  # noqa: E402
from mmdropmae.datasets.transforms import (PackPairInputs, RandomFlip,  # noqa: E402
                                           RandomResizedCrop, sample_frame_pair)
from prepare_kinetics import prepare_kinetics  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--video-dir', default=None,
                        help='folder of videos to use instead of generated clips')
    parser.add_argument('--cache-dir', default=osp.join(tempfile.gettempdir(),
                                                        'mmdropmae_bench_videos'),
                        help='where generated clips are kept between runs')
    parser.add_argument('--num-videos', type=int, default=8, help='generated clips')
    parser.add_argument('--num-frames', type=int, default=300, help='frames per clip')
    parser.add_argument('--size', default='640x480', help='WIDTHxHEIGHT of generated clips')
    parser.add_argument('--fps', type=int, default=30)
    parser.add_argument('--gop', default='x264',
                        help='keyframe interval of generated clips, "x264" = x264 default '
                        '(keyint 250 + scene cuts)')
    parser.add_argument('--bframes', type=int, default=None,
                        help='B-frames of generated clips (default: x264\'s, 3 with pyramid)')
    parser.add_argument('--pairs', type=int, default=120, help='pairs per loader and round')
    parser.add_argument('--rounds', type=int, default=3,
                        help='alternating rounds; the best round of each loader counts')
    parser.add_argument('--frame-gap', type=int, default=50)
    parser.add_argument('--crop-size', type=int, default=224)
    parser.add_argument('--backends', default='pyav,pyav:skip_loop_filter',
                        help='comma-separated backends of our video pipeline to measure, '
                        '"auto" = the default one, "all" = every installed one, "none"; '
                        '"NAME:flag" passes flag=True to the reader, e.g. '
                        '"pyav:skip_loop_filter" (approximate fast decode). Default: the exact '
                        'and the fast-decode PyAV paths')
    parser.add_argument('--prepared', default='jpg',
                        help='comma-separated prepared forms made in this run and measured: '
                        '"jpg[:qQUALITY][:s420|:s444]" (frame folders, the default form: '
                        'quality 95, 4:4:4), '
                        '"h264:gopN[:crfM]" (re-encode, gop1 = all-intra, crf 18), "none"')
    parser.add_argument('--prepared-dir', default=None,
                        help='where the prepared forms are written (default: a temporary '
                        'folder, removed at the end)')
    parser.add_argument('--clock', choices=('cpu', 'wall'), default='cpu',
                        help='clock of the ratio and --check: process CPU time (all threads; '
                        'robust when other jobs share the machine) or wall time')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cpu', type=int, default=None,
                        help='CPU core to pin to (default: the first allowed one)')
    parser.add_argument('--no-pin', action='store_true', help='do not pin to one core')
    parser.add_argument('--profile', action='store_true',
                        help='also print where the time goes (open/index, decode, '
                        'transforms) for each loader')
    parser.add_argument('--check', action='store_true',
                        help='exit 1 if a checked loader is below its target ratio or samples '
                        'differently from the reference')
    parser.add_argument('--prepared-target', type=float, default=5.0,
                        help='target ratio of the first prepared form for --check')
    parser.add_argument('--target', type=float, default=None,
                        help='target ratio of the first --backends loader for --check (not '
                        'checked unless given; 2.0 when there is no prepared form)')
    return parser.parse_args(argv)


def prepare_videos(args) -> Tuple[str, List[str]]:
    """The folder of the videos and their paths (``VideoPairDataset`` order)."""
    if args.video_dir:
        ds = VideoPairDataset(data_root=args.video_dir, serialize_data=False)
        return args.video_dir, [ds.get_data_info(i)['filename'] for i in range(len(ds))]
    w, h = (int(v) for v in args.size.lower().split('x'))
    gop = None if args.gop in ('x264', 'default') else int(args.gop)
    bf = '' if args.bframes is None else f'_bf{args.bframes}'
    folder = osp.join(args.cache_dir, f'{w}x{h}_{args.num_frames}f_{args.fps}fps_gop{args.gop}'
                      f'{bf}_seed{args.seed}')
    stamp = osp.join(folder, f'.complete_{args.num_videos}')
    if not osp.exists(stamp):
        print(f'generating {args.num_videos} clips ({w}x{h}, {args.num_frames} frames, '
              f'{args.fps} fps, gop {args.gop}) in {folder} ...', flush=True)
        make_synthetic_kinetics(folder, num_classes=args.num_videos, videos_per_class=1,
                                num_frames=args.num_frames, size=(w, h), fps=args.fps,
                                gop=gop, bframes=args.bframes, seed=args.seed, verbose=True,
                                workers=min(args.num_videos, os.cpu_count() or 1),
                                class_names=[f'clip_{i:03d}' for i in range(args.num_videos)])
        open(stamp, 'w').close()
    ds = VideoPairDataset(data_root=folder, serialize_data=False)
    return folder, [ds.get_data_info(i)['filename'] for i in range(len(ds))]


def parse_form(spec: str) -> Tuple[str, dict]:
    """``'jpg:q90:s420'`` -> ``('jpg', dict(quality=90, subsampling='420'))``;
    ``'h264:gop8:crf20'``
    -> ``('h264', dict(gop=8, crf=20))``."""
    fmt, *opts = spec.split(':')
    keys = dict(jpg=dict(q='quality', s='subsampling'), h264=dict(gop='gop', crf='crf'))
    if fmt not in keys:
        raise ValueError(f'unknown prepared form {spec!r}: use jpg[:qN][:s420|:s444] or '
                         'h264:gopN[:crfM]')
    kwargs = dict(quality=95, subsampling='444') if fmt == 'jpg' else dict(gop=1, crf=18)
    for opt in opts:
        name = opt.rstrip('0123456789')
        if name == 's':
            kwargs['subsampling'] = opt[1:]
            continue
        if name not in keys[fmt] or name == opt:
            raise ValueError(f'unknown option {opt!r} of prepared form {spec!r}')
        kwargs[keys[fmt][name]] = int(opt[len(name):])
    return fmt, kwargs


def prepare_forms(args, folder: str, videos: Sequence[str], root: str) -> Dict[str, dict]:
    """Convert the videos into each form of ``--prepared`` with the
    converter's ``prepare_kinetics`` (one process, on the pinned core)."""
    forms = {}
    for spec in [f for f in args.prepared.split(',') if f and f != 'none']:
        fmt, kwargs = parse_form(spec)
        out = osp.join(root, spec.replace(':', '_'))
        print(f'preparing "{spec}" in {out} ...', flush=True)
        summary = prepare_kinetics(folder, out, fmt=fmt, workers=1, measure_psnr=True,
                                   progress=False, log=lambda line: None, **kwargs)
        by_src = {r['src']: r for r in summary['records']}
        missing = [v for v in videos if v not in by_src]
        if missing:
            print(f'  {len(missing)} videos could not be prepared (see '
                  f'{osp.join(out, "failed_sources.txt")}); they are left out', flush=True)
        forms[spec] = dict(fmt=fmt, summary=summary, by_src=by_src)
    return forms


def prepared_loader(args, videos: Sequence[str], form: dict,
                    timer: 'Timer') -> Callable[[str], dict]:
    """``RawframePairDataset[i]`` (jpg) or ``VideoPairDataset[i]`` on the
    re-encoded files (h264) with the same transforms as ours."""
    outs = [form['by_src'][v]['out'] for v in videos]
    counts = [form['by_src'][v]['num_frames'] for v in videos]
    if form['fmt'] == 'jpg':
        load = dict(type='LoadFramePairFromFrames', frame_gap=args.frame_gap)
        lines = [f'{o}\t{n}\t-1\n' for o, n in zip(outs, counts)]
        dataset_cls = RawframePairDataset
    else:
        load = dict(type='LoadFramePairFromVideo', frame_gap=args.frame_gap, backend='pyav',
                    num_threads=1)
        lines = [f'{o}\t-1\n' for o in outs]
        dataset_cls = VideoPairDataset
    ann = tempfile.NamedTemporaryFile('w', suffix='.txt', delete=False)
    ann.write(''.join(lines))
    ann.close()
    ds = dataset_cls(ann_file=ann.name, pipeline=[load] + transform_cfgs(args))
    os.unlink(ann.name)
    if timer.enabled:
        for t in ds.pipeline.transforms:
            t.transform = timer.wrap(type(t).__name__, t.transform)
    index = {v: i for i, v in enumerate(videos)}

    def run_one(path: str) -> dict:
        return ds[index[path]]

    return run_one


class Timer:
    """Accumulates time per named stage (process CPU time or wall time)."""

    clock = staticmethod(time.process_time)

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.total: Dict[str, float] = defaultdict(float)

    def wrap(self, name: str, fn: Callable) -> Callable:
        if not self.enabled:
            return fn

        def timed(*a, **k):
            t = Timer.clock()
            try:
                return fn(*a, **k)
            finally:
                self.total[name] += Timer.clock() - t

        return timed


_CURRENT_TIMER: Dict[str, Timer] = {}


def _install_reader_probe() -> None:
    """Time reader opening and decoding inside ``LoadFramePairFromVideo``
    for whichever loader is running (``_CURRENT_TIMER['timer']``)."""
    from mmdropmae.datasets.transforms import loading
    if getattr(loading.build_video_reader, 'probed', False):
        return
    orig = loading.build_video_reader

    def build(*a, **k):
        timer = _CURRENT_TIMER.get('timer')
        if timer is None or not timer.enabled:
            return orig(*a, **k)
        reader = timer.wrap('open+index', orig)(*a, **k)
        reader.get_frames = timer.wrap('decode+rgb', reader.get_frames)
        return reader

    build.probed = True
    loading.build_video_reader = build


def make_transforms(args):
    return [
        RandomResizedCrop(args.crop_size, scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3),
                          interpolation='bicubic'),
        RandomFlip(prob=0.5),
        PackPairInputs()
    ]


def transform_cfgs(args) -> List[dict]:
    """The configs of :func:`make_transforms`' transforms."""
    return [
        dict(type='RandomResizedCrop', size=args.crop_size, scale=(0.2, 1.0),
             ratio=(3 / 4, 4 / 3), interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackPairInputs')
    ]


def reference_loader(args, timer: Timer) -> Callable[[str], dict]:
    """The plain decord loader."""
    import decord
    transforms = [timer.wrap(type(t).__name__, t) for t in make_transforms(args)]
    open_vr = timer.wrap('open+index', lambda p: decord.VideoReader(p, num_threads=1))
    get_batch = timer.wrap('decode+rgb', lambda vr, inds: vr.get_batch(inds).asnumpy())

    def load(path: str) -> dict:
        vr = open_vr(path)
        start, end = sample_frame_pair(len(vr), args.frame_gap)
        frames = get_batch(vr, [start, end])
        results = dict(filename=path, imgs=[frames[0], frames[1]],
                       frame_inds=np.array([start, end], np.int64), num_frames=len(vr),
                       ori_shape=frames.shape[1:3], img_shape=frames.shape[1:3])
        for t in transforms:
            results = t(results)
        return results

    return load


def our_loader(args, videos: Sequence[str], backend: str, timer: Timer) -> Callable[[str], dict]:
    """``VideoPairDataset.__getitem__`` with our pipeline."""
    backend, *flags = backend.split(':')
    pipeline = [dict(type='LoadFramePairFromVideo', frame_gap=args.frame_gap, backend=backend,
                     num_threads=1, backend_kwargs={f: True for f in flags})]
    pipeline += transform_cfgs(args)
    ann = tempfile.NamedTemporaryFile('w', suffix='.txt', delete=False)
    ann.write(''.join(v + '\n' for v in videos))
    ann.close()
    ds = VideoPairDataset(ann_file=ann.name, pipeline=pipeline)
    os.unlink(ann.name)
    if timer.enabled:
        _install_reader_probe()
        for t in ds.pipeline.transforms:
            t.transform = timer.wrap(type(t).__name__, t.transform)
    index = {v: i for i, v in enumerate(videos)}

    def load(path: str) -> dict:
        _CURRENT_TIMER['timer'] = timer
        return ds[index[path]]

    return load


def run(load: Callable[[str], dict], order: Sequence[str], seed: int):
    """Load every path of ``order``; returns (wall s, process CPU s, outputs)."""
    np.random.seed(seed)
    outs = []
    t, c = time.perf_counter(), time.process_time()
    for path in order:
        outs.append(load(path))
    return time.perf_counter() - t, time.process_time() - c, outs


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = (a.double() - b.double()).pow(2).mean().item()
    return float('inf') if mse == 0 else 10 * np.log10(255**2 / mse)


def summarize(outs) -> np.ndarray:
    return np.array([[*o['data_samples'].frame_inds, *o['data_samples'].crop_bboxes.ravel(),
                      *o['data_samples'].flip] for o in outs])


def main(argv=None) -> int:
    args = parse_args(argv)
    Timer.clock = staticmethod(time.process_time if args.clock == 'cpu' else time.perf_counter)
    if not DefaultScope.check_instance_created('video_loading_benchmark'):
        DefaultScope.get_instance('video_loading_benchmark', scope_name='mmdropmae')
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    if not args.no_pin and hasattr(os, 'sched_setaffinity'):
        cpu = args.cpu if args.cpu is not None else min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
    folder, videos = prepare_videos(args)
    prepared_root = args.prepared_dir or tempfile.mkdtemp(prefix='mmdropmae_prepared_')
    try:
        return _benchmark(args, folder, videos, prepared_root)
    finally:
        if args.prepared_dir is None:
            shutil.rmtree(prepared_root, ignore_errors=True)


def _benchmark(args, folder: str, videos: List[str], prepared_root: str) -> int:
    forms = prepare_forms(args, folder, videos, prepared_root)
    for form in forms.values():  # only videos every prepared form has
        videos = [v for v in videos if v in form['by_src']]
    if not videos:
        print('no video could be prepared')
        return 1
    rng = np.random.default_rng(args.seed)
    order = [videos[i] for i in rng.permutation(np.resize(np.arange(len(videos)), args.pairs))]
    for v in videos:  # warm the page cache for everyone
        with open(v, 'rb') as f:
            while f.read(1 << 22):
                pass
    info = build_video_reader(videos[0], 'pyav')
    h, w = info.frame_shape
    print(f'{len(videos)} videos, e.g. {w}x{h} {info.num_frames} frames; {args.pairs} pairs per '
          f'loader x {args.rounds} rounds; pinned to '
          f'{sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"}')
    info.close()

    if args.backends == 'all':
        backends = available_backends()
    elif args.backends == 'auto':
        backends = [available_backends()[0]]
    elif args.backends == 'none':
        backends = []
    else:
        backends = args.backends.split(',')
    import decord
    ref_name = f'reference (decord {decord.__version__} get_batch)'
    timers = {ref_name: Timer(args.profile)}
    fns = {ref_name: reference_loader(args, timers[ref_name])}
    for b in backends:
        name = f'ours ({b})'
        timers[name] = Timer(args.profile)
        fns[name] = our_loader(args, videos, b, timers[name])
    for spec, form in forms.items():
        name = f'prepared ({spec})'
        timers[name] = Timer(args.profile)
        fns[name] = prepared_loader(args, videos, form, timers[name])

    best: Dict[str, tuple] = {}  # name -> (wall s, cpu s) of its best round
    results = {}
    key = 1 if args.clock == 'cpu' else 0
    for r in range(args.rounds):
        for name, fn in fns.items():
            before = dict(timers[name].total)
            wall, cpu, outs = run(fn, order, args.seed)
            if name not in best or (wall, cpu)[key] < best[name][key]:
                best[name] = (wall, cpu)
                results[name] = outs
                timers[name].best_round = {k: v - before.get(k, 0.0)
                                           for k, v in timers[name].total.items()}
    ref_summary = summarize(results[ref_name])
    ref_rate = args.pairs / best[ref_name][key]
    print()
    print(f'{"loader":44s} {"pairs/s":>8s} {"pairs/s":>8s} {"ratio":>6s}  same samples / '
          'identical tensors (PSNR dB)')
    print(f'{"":44s} {"(cpu)":>8s} {"(wall)":>8s} {"(" + args.clock + ")":>6s}')
    checks = []  # (name, ratio, target, same)
    target = args.target if args.target is not None or forms else 2.0
    for name in fns:
        wall, cpu = best[name]
        rate = args.pairs / best[name][key]
        same = np.array_equal(summarize(results[name]), ref_summary)
        ident = all(torch.equal(a['inputs'], b['inputs'])
                    for a, b in zip(results[name], results[ref_name]))
        quality = ''
        if same and not ident:
            p = np.array([psnr(a['inputs'], b['inputs'])
                          for a, b in zip(results[name], results[ref_name])])
            quality = f' (min {p.min():.1f}, mean {p[np.isfinite(p)].mean():.1f})'
        print(f'{name:44s} {args.pairs / cpu:8.2f} {args.pairs / wall:8.2f} '
              f'{rate / ref_rate:6.2f}  {"yes" if same else "NO"} / '
              f'{"yes" if ident else "no"}{quality}')
        if backends and name == f'ours ({backends[0]})' and target is not None:
            checks.append((name, rate / ref_rate, target, same))
        if forms and name == f'prepared ({next(iter(forms))})':
            checks.append((name, rate / ref_rate, args.prepared_target, same))
    starts = ref_summary[:, 0]
    gaps = ref_summary[:, 1] - ref_summary[:, 0]
    print(f'\nsampled pairs: start mean {starts.mean():.1f}, gap mean {gaps.mean():.1f} '
          f'(min {gaps.min()}, max {gaps.max()}), flips {ref_summary[:, -2:].mean():.2f}')
    if forms:
        print('\nprepared forms (made in this run on the same videos, one process):')
        print(f'  {"form":16s} {"prep CPU s":>11s} {"disk GB":>8s} {"x source":>9s} '
              f'{"PSNR dB vs exact frames":>24s}')
        print(f'  {"":16s} {"per hour":>11s} {"per hour":>8s} {"":>9s} {"(min / mean)":>24s}')
        for spec, form in forms.items():
            sm = form['summary']
            per_h = sm['output_bytes_per_hour'] or float('nan')
            src_h = sm['source_bytes_per_hour'] or float('nan')
            print(f'  {spec:16s} {sm["cpu_s_per_hour"] or float("nan"):11.0f} '
                  f'{per_h / 1e9:8.2f} {per_h / src_h:9.1f} '
                  f'{sm["psnr_min_db"]:>12.2f} / {sm["psnr_mean_db"]:.2f}')
        print(f'  sources: {src_h / 1e9:.2f} GB per hour of video')
    if args.profile:
        print(f'\nwhere the time goes ({args.clock} ms per pair, best round; '
              'LoadFramePairFromVideo includes open+index and decode+rgb):')
        for name in fns:
            parts = getattr(timers[name], 'best_round', {})
            print(f'  {name}: ' + ', '.join(f'{k} {1e3 * v / args.pairs:.1f}'
                                            for k, v in parts.items()))
    failed = [(n, r, t) for n, r, t, same in checks if r < t or not same]
    if args.check:
        for name, ratio, tgt, same in checks:
            verdict = 'ok' if ratio >= tgt and same else 'FAIL'
            print(f'check: {name} {ratio:.2f}x the reference, target {tgt}x, same samples '
                  f'{"yes" if same else "NO"}: {verdict}')
        if failed:
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
