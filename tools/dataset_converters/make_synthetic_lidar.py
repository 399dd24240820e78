"""Write synthetic LiDAR scenes in the KITTI tracking layout (Open3D
``RaycastingScene``: ground, walls, moving box objects, a moving 32-beam
sensor; exact boxes; a sparse far object and frames where a target has no
points).

Examples::

    # 4 train scenes and 2 test scenes (ids 19, 20 = Open3DSOT's test split)
    python tools/dataset_converters/make_synthetic_lidar.py data/synthetic_kitti \\
        --scenes 0-3,19,20 --num-frames 40
    python tools/dataset_converters/make_synthetic_lidar.py data/synth_ped \\
        --scenes 0 --categories Pedestrian,Pedestrian,Cyclist --beams 64
    # the nuScenes layout (devkit tables, samples/LIDAR_TOP/*.pcd.bin), scene
    # names of the devkit's splits (default: scene-0655 train_track,
    # scene-0061 train_detect, scene-0103 and scene-0916 val / mini_val)
    python tools/dataset_converters/make_synthetic_lidar.py data/synthetic_nuscenes \\
        --layout nuscenes --num-frames 41
"""
import argparse
import os.path as osp
import sys
import time

import numpy as np

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # noqa: E402

from mmdropmae.datasets.synthetic.lidar import (OBJECT_SIZES,  # noqa: E402
                                                make_synthetic_kitti_tracking)
from mmdropmae.datasets.synthetic.nuscenes import (  # noqa: E402
    NUSCENES_SYNTHETIC_SCENES, make_synthetic_nuscenes)


def parse_scenes(text: str):
    """'0-3,19' -> [0, 1, 2, 3, 19]."""
    out = []
    for part in text.split(','):
        if '-' in part:
            lo, hi = (int(v) for v in part.split('-'))
            if lo > hi:
                raise argparse.ArgumentTypeError(f'empty range {part!r}')
            out.extend(range(lo, hi + 1))
        elif part:
            out.append(int(part))
    if not out:
        raise argparse.ArgumentTypeError(f'no scene in {text!r}')
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('out_dir', help='output root (velodyne/, label_02/, calib/)')
    p.add_argument('--scenes', type=parse_scenes, default=[0, 1, 2, 19],
                   help="scene ids, e.g. '0-3,19,20' (default: 0,1,2,19)")
    p.add_argument('--num-frames', type=int, default=40)
    p.add_argument('--categories', default='Car,Car,Pedestrian',
                   help=f'objects of each scene, from {sorted(OBJECT_SIZES)}')
    p.add_argument('--beams', type=int, default=32)
    p.add_argument('--azimuth-step', type=float, default=0.5, help='degrees')
    p.add_argument('--max-range', type=float, default=60.)
    p.add_argument('--noise', type=float, default=0.02, help='range noise std (m)')
    p.add_argument('--ego-speed', type=float, default=0.3, help='m per frame')
    p.add_argument('--no-sparse', action='store_true', help='no far, sparse object')
    p.add_argument('--no-dropout', action='store_true',
                   help='no frames where the first object has no points')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--layout', choices=('kitti', 'nuscenes'), default='kitti',
                   help='KITTI tracking (default) or nuScenes (devkit tables, .pcd.bin)')
    p.add_argument('--scene-names', default=','.join(NUSCENES_SYNTHETIC_SCENES),
                   help='nuScenes layout: scene names (use names of the devkit splits)')
    p.add_argument('--version', default='v1.0-mini', help='nuScenes layout: table folder')
    p.add_argument('--key-interval', type=int, default=2,
                   help='nuScenes layout: every n-th frame is a key frame (the rest sweeps)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cats = [c.strip() for c in args.categories.split(',') if c.strip()]
    bad = [c for c in cats if c not in OBJECT_SIZES]
    if bad:
        raise SystemExit(f'unknown categories {bad}; choose from {sorted(OBJECT_SIZES)}')
    t0 = time.time()
    scene_kw = dict(beams=args.beams, azimuth_step=args.azimuth_step, max_range=args.max_range,
                    noise=args.noise, ego_speed=args.ego_speed, sparse=not args.no_sparse,
                    dropout=not args.no_dropout)
    if args.layout == 'nuscenes':
        names = [n.strip() for n in args.scene_names.split(',') if n.strip()]
        summary = make_synthetic_nuscenes(args.out_dir, args.version, names, args.num_frames,
                                          args.key_interval, cats, args.seed, **scene_kw)
        for name, s in summary.items():
            counts = s['points_per_object']
            print(f'scene {name}: {counts.shape[1]} key frames, ' + ', '.join(
                f'{c} #{k}: median {int(np.median(counts[k]))} pts'
                for k, c in enumerate(s['categories'])))
        print(f'wrote {len(summary)} scenes x {args.num_frames} frames (nuScenes '
              f'{args.version}) to {args.out_dir} in {time.time() - t0:.1f}s')
        return
    summary = make_synthetic_kitti_tracking(args.out_dir, args.scenes, args.num_frames, cats,
                                            args.seed, **scene_kw)
    for name, s in summary.items():
        counts = s['points_per_object']
        print(f'scene {name}: ' + ', '.join(
            f'{c} #{k}: median {int(np.median(counts[k]))} pts, '
            f'{int((counts[k] == 0).sum())} empty frames' for k, c in enumerate(s['categories'])))
    print(f'wrote {len(summary)} scenes x {args.num_frames} frames to {args.out_dir} '
          f'in {time.time() - t0:.1f}s')


if __name__ == '__main__':
    main()
