# Copyright (c) mmdropmae contributors. All rights reserved.
"""Time and peak memory per image pair of DropFlow on CPU, and the share of
the time spent outside the network forward.

Each pair runs the stages of ``DropFlow.predict`` timed separately:

* ``preprocess``: uint8 pair -> normalised tensors (the data preprocessor's
  ``normalize``) and RAFT ``InputPadder`` padding;
* ``forward``: encoder (both frames jointly), DPT head, correlation and
  refinement iterations; whole image or (``--tile-size``) overlapping
  windows blended (CroCo-Flow), which is what bounds the memory at 1080p;
* ``postprocess``: unpadding and the (H, W, 2) ``float32`` numpy flow.

Every size runs in a fresh subprocess so that its peak resident memory
(``ru_maxrss``) is its own; ``peak_mib`` is that peak minus the memory after
building the model (``model_mib``). ``cpu_seconds_per_pair`` is the process
CPU time per pair (all threads), which, unlike the wall time, does not grow
when other jobs share the cores. Random weights are fine for timing (the
default: the ViT-B/16 Chairs config without its checkpoint).

Examples::

    python tools/benchmarks/flow_speed.py                       # 436x1024 and 1920x1080
    python tools/benchmarks/flow_speed.py --sizes 436x1024 --iters 12 --tile-size 0
    python tools/benchmarks/flow_speed.py --threads 2 --json flow_speed.json
"""
import argparse
import json
import os.path as osp
import resource
import subprocess
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

DEFAULT_CONFIG = 'configs/flow/dropflow_vit-b16_chairs.py'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='DropFlow speed and memory on CPU')
    p.add_argument('--config', default=DEFAULT_CONFIG)
    p.add_argument('--checkpoint', default=None, help='optional weights (random otherwise)')
    p.add_argument('--sizes', nargs='+', default=['436x1024', '1920x1080'],
                   help='pair sizes, HxW or WxH (the shorter side is the height: '
                   '1920x1080 is 1080 rows x 1920 columns)')
    p.add_argument('--pairs', type=int, default=1, help='timed pairs per size')
    p.add_argument('--warmup', type=int, default=0)
    p.add_argument('--iters', type=int, default=12,
                   help='refinement iterations at test time (RAFT evaluates with 24-32)')
    p.add_argument('--tile-size', default='384x768',
                   help="window HxW of the tiled inference, '0': whole images")
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--json', help='write the results to this file')
    p.add_argument('--single', default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _hw(text: str):
    a, b = (int(v) for v in text.lower().split('x'))
    return (min(a, b), max(a, b))  # rows x columns: images are landscape


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_single(args) -> dict:
    import numpy as np
    import torch
    from mmengine.config import Config

    from mmdropmae.models.flow import InputPadder, tiled_flow
    from mmdropmae.registry import MODELS
    from mmdropmae.utils import register_all_modules

    if args.threads:
        torch.set_num_threads(args.threads)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model).eval()
    if args.checkpoint:
        from mmengine.runner import load_checkpoint
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    tile = None if args.tile_size in ('0', '', 'none') else _hw(args.tile_size)
    model.test_cfg.update(num_iters=args.iters, tile_size=tile)
    base = _rss_mib()
    h, w = _hw(args.single)
    rng = np.random.default_rng(0)
    pair = torch.from_numpy(rng.integers(0, 255, (2, 3, h, w), dtype=np.uint8))
    times = {'preprocess': [], 'forward': [], 'postprocess': []}
    cpu = []
    with torch.no_grad():
        for i in range(args.warmup + args.pairs):
            c0 = time.process_time()
            t0 = time.perf_counter()
            x = model.data_preprocessor.normalize(pair)[None]
            padder = InputPadder(x.shape[-2:], model.test_cfg['pad_mode'], model.divisor)
            a, b = padder.pad(x[:, 0], x[:, 1])
            t1 = time.perf_counter()
            hp, wp = a.shape[-2:]
            if tile is not None and (hp > tile[0] or wp > tile[1]):
                size = (min(tile[0], hp), min(tile[1], wp))
                flow = tiled_flow(lambda p, q: model.estimate(p, q, args.iters)[-1], a, b,
                                  size, model.test_cfg['tile_overlap'])
            else:
                flow = model.estimate(a, b, args.iters)[-1]
            t2 = time.perf_counter()
            out = padder.unpad(flow)[0].permute(1, 2, 0).contiguous().numpy()
            t3 = time.perf_counter()
            assert out.shape == (h, w, 2)
            if i >= args.warmup:
                times['preprocess'].append(t1 - t0)
                times['forward'].append(t2 - t1)
                times['postprocess'].append(t3 - t2)
                cpu.append(time.process_time() - c0)
    mean = {k: float(np.mean(v)) for k, v in times.items()}
    total = sum(mean.values())
    return dict(size=f'{h}x{w}', seconds_per_pair=total, cpu_seconds_per_pair=float(np.mean(cpu)),
                stages=mean,
                outside_forward_share=(total - mean['forward']) / total,
                peak_mib=_rss_mib() - base, model_mib=base, tile_size=tile,
                iters=args.iters, threads=torch.get_num_threads())


def main(argv=None):
    args = parse_args(argv)
    if args.single:
        print('RESULT ' + json.dumps(run_single(args)))
        return
    results = []
    for size in args.sizes:
        cmd = [sys.executable, __file__, '--single', size, '--config', args.config,
               '--pairs', str(args.pairs), '--warmup', str(args.warmup), '--iters',
               str(args.iters), '--tile-size', args.tile_size]
        if args.threads:
            cmd += ['--threads', str(args.threads)]
        if args.checkpoint:
            cmd += ['--checkpoint', args.checkpoint]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f'{size} failed:\n{proc.stderr[-3000:]}')
        line = [x for x in proc.stdout.splitlines() if x.startswith('RESULT ')][-1]
        r = json.loads(line[len('RESULT '):])
        results.append(r)
        if len(results) == 1:
            print(f"{'size':>10} {'s/pair':>8} {'cpu s':>8} {'forward':>8} {'outside %':>9} "
                  f"{'peak MiB':>9} {'tile':>9}")
        tile = 'x'.join(map(str, r['tile_size'])) if r['tile_size'] else 'whole'
        print(f"{r['size']:>10} {r['seconds_per_pair']:8.2f} {r['cpu_seconds_per_pair']:8.2f} "
              f"{r['stages']['forward']:8.2f} {100 * r['outside_forward_share']:9.2f} "
              f"{r['peak_mib']:9.0f} {tile:>9}", flush=True)
    if args.json:
        from mmdropmae.utils.fileio import atomic_write_text
        atomic_write_text(args.json, json.dumps(results, indent=2) + '\n')


if __name__ == '__main__':
    main()
