"""Write synthetic Kubric-like point-tracking clips (textured sprites over a
panning textured background, exact tracks and occlusion) as a TAP-Vid
pickle: the DAVIS layout (dict name -> entry), the RGB-Stacking layout (a
list) or the Kinetics layout (a folder of ``*_of_0010.pkl`` shards with
JPEG frames). Fully determined by ``--seed``.

Examples::

    # the tiny CPU set of configs/tap/droptap_tiny_synthetic.py
    python tools/dataset_converters/make_synthetic_tap.py data/synthetic_tap/train.pkl \\
        --num-videos 32 --num-frames 24 --size 64x64 --seed 0
    python tools/dataset_converters/make_synthetic_tap.py data/synthetic_tap/val.pkl \\
        --num-videos 4 --num-frames 24 --size 64x64 --seed 1
    # a Kinetics-layout folder
    python tools/dataset_converters/make_synthetic_tap.py data/synthetic_tap/kinetics \\
        --layout kinetics --num-videos 6 --num-shards 2
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmdropmae.datasets.synthetic.cli import parse_int_or_range, parse_size  # noqa: E402
from mmdropmae.datasets.synthetic.tap import TAP_LAYOUTS, make_synthetic_tapvid  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out', help='output pickle (davis, rgb_stacking) or folder (kinetics)')
    parser.add_argument('--layout', choices=TAP_LAYOUTS, default='davis')
    parser.add_argument('--num-videos', type=int, default=4)
    parser.add_argument('--num-frames', type=parse_int_or_range, default=24,
                        help='frames per clip, or a range like 24-48')
    parser.add_argument('--size', type=parse_size, default=(64, 64), help='WIDTHxHEIGHT')
    parser.add_argument('--num-points', type=int, default=64, help='tracks per clip')
    parser.add_argument('--num-objects', type=parse_int_or_range, default=(2, 4),
                        help='sprites per clip, or a range like 2-4')
    parser.add_argument('--num-shards', type=int, default=2, help='kinetics layout: shards')
    parser.add_argument('--max-speed', type=float, default=0.04,
                        help='largest sprite speed, in short sides per frame')
    parser.add_argument('--camera-speed', type=float, default=0.02,
                        help='largest camera pan speed, in short sides per frame')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    files = make_synthetic_tapvid(args.out, num_videos=args.num_videos, layout=args.layout,
                                  num_frames=args.num_frames, size=args.size,
                                  num_points=args.num_points, num_objects=args.num_objects,
                                  num_shards=args.num_shards, seed=args.seed,
                                  max_speed=args.max_speed, camera_speed=args.camera_speed)
    for f in files:
        print(f'wrote {f}')
    print(f'{args.num_videos} clips ({args.layout} layout) [{time.time() - t0:.1f} s]')


if __name__ == '__main__':
    main()
