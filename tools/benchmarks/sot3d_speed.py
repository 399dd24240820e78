"""Frames per second of the 3D single-object tracker (BEVTrack), on CPU or GPU.

Writes a synthetic LiDAR scene (Open3D ray casting, KITTI tracking layout)
to a temporary folder, then tracks its first car through
``BEVTrack.predict`` frame by frame, as ``tools/test.py`` does, and reports
in one run:

* reading the ``.bin`` file (``LoadSOT3DPoints``),
* the tracker's step: crop of search area and template, BEV rasterisation
  and the network (``track_frame``), and the network alone
  (``forward_pair`` on prepared BEV images),
* frames per second of the whole step (read + track), and the share of it
  spent outside the network,

for the tiny config (``configs/sot3d/bevtrack_tiny_synthetic.py``) and the
ViT-B/16 one (``configs/sot3d/bevtrack_vit-b16_kitti_car.py``: BEV 128 /
256 px), random weights (speed does not depend on them).

Example::

    python tools/benchmarks/sot3d_speed.py --frames 30 --threads 2
    python tools/benchmarks/sot3d_speed.py --configs tiny --json out.json
"""
import argparse
import json
import os.path as osp
import statistics
import sys
import tempfile
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import torch  # noqa: E402

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CONFIGS = dict(tiny='configs/sot3d/bevtrack_tiny_synthetic.py',
               base='configs/sot3d/bevtrack_vit-b16_kitti_car.py')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--configs', nargs='+', default=['tiny', 'base'], choices=sorted(CONFIGS))
    p.add_argument('--frames', type=int, default=30, help='frames tracked per config')
    p.add_argument('--threads', type=int, default=None, help='torch threads')
    p.add_argument('--device', default='cpu')
    p.add_argument('--json', default=None, help='write the figures here')
    return p.parse_args(argv)


def bench(name, frames, device, root):
    from mmengine.config import Config

    from mmdropmae.datasets.sot3d import KittiTrackingSOTDataset
    from mmdropmae.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, CONFIGS[name]))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).to(device).eval()
    ds = KittiTrackingSOTDataset(root, category_name='Car', scenes=[19],
                                 pipeline=[dict(type='LoadSOT3DPoints'),
                                           dict(type='PackSOT3DFrame')])
    n = min(frames, ds.get_len_per_video(0))
    read_t, step_t = [], []
    with torch.no_grad():
        for i in ds.video_frame_range(0)[:n]:
            t0 = time.perf_counter()
            item = ds[i]
            t1 = time.perf_counter()
            model.predict([item['inputs']], [item['data_samples']])
            if device != 'cpu':
                torch.cuda.synchronize()
            t2 = time.perf_counter()
            read_t.append(t1 - t0)
            if i > 0:  # frame 0 only crops the template
                step_t.append(t2 - t1)
        z = torch.randn(1, 3, model.template_size, model.template_size, device=device)
        x = torch.randn(1, 3, model.search_size, model.search_size, device=device)
        net_t = []
        for _ in range(max(n - 1, 3)):
            t0 = time.perf_counter()
            model.forward_pair(z, x)
            if device != 'cpu':
                torch.cuda.synchronize()
            net_t.append(time.perf_counter() - t0)
    read, step, net = (statistics.median(v) for v in (read_t, step_t, net_t[1:] or net_t))
    return dict(config=name, frames=n, read_ms=read * 1e3, track_ms=step * 1e3,
                network_ms=net * 1e3, fps=1. / (read + step),
                outside_network_share=max(0., (read + step - net) / (read + step)))


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmdropmae.datasets.synthetic.lidar import make_synthetic_kitti_tracking
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    rows = []
    with tempfile.TemporaryDirectory() as root:
        make_synthetic_kitti_tracking(root, scenes=(19, ), num_frames=args.frames,
                                      categories=('Car', 'Pedestrian'), seed=0)
        for name in args.configs:
            rows.append(bench(name, args.frames, args.device, root))
    print(f'device {args.device}, torch threads {torch.get_num_threads()}')
    print(f"{'config':8s} {'read ms':>8s} {'track ms':>9s} {'net ms':>7s} {'fps':>7s} "
          f"{'outside net':>11s}")
    for r in rows:
        print(f"{r['config']:8s} {r['read_ms']:8.2f} {r['track_ms']:9.2f} "
              f"{r['network_ms']:7.2f} {r['fps']:7.1f} {100 * r['outside_network_share']:10.0f}%")
    if args.json:
        from mmdropmae.utils.fileio import atomic_write_text
        atomic_write_text(args.json, json.dumps(rows, indent=2) + '\n')
    return rows


if __name__ == '__main__':
    main()
