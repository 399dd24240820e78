"""Speed and peak memory of DropTAP's online tracking on long videos.

Tracks the same queries (``--num-queries``, spread over the first 100
frames, strided-like, so that the backward pass runs too) through videos of
``--lengths`` frames (default 100 and 1000) whose frames are made on demand
(a frame function: the video itself is never held in memory, as with a
decoder reading a long file). Each length runs in a fresh process, so the
peak of one does not hide the other's:

- frames per second (whole ``track_video``: forward and backward passes);
- peak memory: on CUDA ``torch.cuda.max_memory_allocated`` during the
  run; on CPU the process's peak resident set (``ru_maxrss``: model,
  libraries and the run), and its growth over the value after the model is
  built and warmed up on a two-window video.

Target (issue 10): the peak must not grow with the length; ``--check``
exits 1 when the longest video's peak exceeds the shortest's by more than
``--tolerance`` (relative) plus 16 MiB.

Examples::

    python tools/benchmarks/tap_speed.py                     # tiny config, CPU, 64x64
    python tools/benchmarks/tap_speed.py --device cuda --size 256 \\
        --config configs/tap/droptap_vit-b16_kubric-synthetic_tapvid-davis.py --check
"""
import argparse
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import time

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
sys.path.insert(0, REPO)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_one(args) -> dict:
    import torch
    from mmengine.config import Config

    from mmdropmae.registry import MODELS
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model).to(args.device).eval()
    size = args.size
    num = args.length

    def frames(idx):
        out = []
        yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing='ij')
        for t in idx:  # a smooth pattern drifting 1 px per frame, made on demand
            v = (torch.sin((xx + t) / 3.0) + torch.cos(yy / 4.0 + t / 7.0)) * 60 + 128
            out.append(torch.stack([v, v.flip(0), v.flip(1)]).clamp(0, 255).to(torch.uint8))
        return torch.stack(out)
    n = args.num_queries
    g = torch.Generator().manual_seed(0)
    queries = torch.stack([(torch.arange(n) * 5) % 100, torch.rand(n, generator=g) * size,
                           torch.rand(n, generator=g) * size], 1).float()
    warm = min(num, 2 * int(model.test_cfg['window']))
    model.track_video(frames, queries[queries[:, 0] < warm], num_frames=warm,
                      frame_size=(size, size))
    if args.device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated() / 2**20
    rss0 = _rss_mib()
    t0 = time.perf_counter()
    model.track_video(frames, queries, num_frames=num, frame_size=(size, size))
    if args.device.startswith('cuda'):
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20 - base
        growth = peak
    else:
        peak = _rss_mib()
        growth = peak - rss0
    dt = time.perf_counter() - t0
    return dict(length=num, fps=num / dt, seconds=dt, peak_mib=peak, growth_mib=growth,
                device=args.device, size=size, queries=n)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--config', default=osp.join(REPO, 'configs/tap/droptap_tiny_synthetic.py'))
    p.add_argument('--lengths', type=int, nargs='+', default=[100, 1000])
    p.add_argument('--size', type=int, default=64, help='square frame side')
    p.add_argument('--num-queries', type=int, default=64)
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--check', action='store_true')
    p.add_argument('--tolerance', type=float, default=0.1)
    p.add_argument('--length', type=int, help=argparse.SUPPRESS)  # one run (child process)
    p.add_argument('--out', help='write the results as JSON here')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.length:
        print(json.dumps(run_one(args)))
        return None
    results = []
    for length in args.lengths:
        env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
        proc = subprocess.run([sys.executable, __file__, '--length', str(length), '--config',
                               args.config, '--size', str(args.size), '--num-queries',
                               str(args.num_queries), '--device', args.device, '--threads',
                               str(args.threads)], capture_output=True, text=True, env=env)
        if proc.returncode:
            raise SystemExit(proc.stderr[-3000:])
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f'{"frames":>8}{"fps":>10}{"seconds":>10}{"peak MiB":>10}{"growth":>10}   '
          f'({args.device}, {args.size}x{args.size}, {args.num_queries} queries)')
    for r in results:
        print(f'{r["length"]:8d}{r["fps"]:10.1f}{r["seconds"]:10.1f}{r["peak_mib"]:10.1f}'
              f'{r["growth_mib"]:10.1f}')
    lo, hi = results[0], results[-1]
    ratio = (hi['peak_mib'] + 1e-6) / (lo['peak_mib'] + 1e-6)
    print(f'peak({hi["length"]}) / peak({lo["length"]}) = {ratio:.2f}')
    if args.out:
        from mmdropmae.utils.fileio import atomic_write_text
        atomic_write_text(args.out, json.dumps(results, indent=1))
    if args.check and hi['peak_mib'] > lo['peak_mib'] * (1 + args.tolerance) + 16:
        print(f'FAIL: the peak grows with the length ({lo["peak_mib"]:.1f} -> '
              f'{hi["peak_mib"]:.1f} MiB)')
        sys.exit(1)
    return results


if __name__ == '__main__':
    main()
