"""Write a synthetic FlyingChairs-like optical-flow data set (textured shapes
under affine motions over a moving textured background) with exact flow, in
the FlyingChairs layout, the KITTI-2015 layout, or both.

Layouts written::

    chairs: OUT/data/{i:05d}_img1.ppm, _img2.ppm, _flow.flo, OUT/FlyingChairs_train_val.txt
    kitti:  OUT/training/image_2/{i:06d}_10.png, _11.png,
            OUT/training/flow_occ/{i:06d}_10.png, OUT/training/flow_noc/{i:06d}_10.png,
            OUT/testing/image_2/{i:06d}_10.png, _11.png
    both:   OUT/FlyingChairs/... and OUT/KITTI/...

Examples::

    python tools/dataset_converters/make_synthetic_flow.py data/synthetic_chairs \\
        --layout chairs --num-train 64 --num-val 16 --size 64x64
    python tools/dataset_converters/make_synthetic_flow.py data/synthetic_flow --layout both
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmdropmae.datasets.synthetic.cli import parse_int_or_range, parse_size  # noqa: E402
from mmdropmae.datasets.synthetic.flow import (make_synthetic_chairs,  # noqa: E402
                                               make_synthetic_kitti)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('out_dir', help='output folder (created)')
    p.add_argument('--layout', choices=['chairs', 'kitti', 'both'], default='chairs')
    p.add_argument('--num-train', type=int, default=16, help='training pairs')
    p.add_argument('--num-val', type=int, default=4,
                   help='validation pairs (Chairs split 2) / KITTI testing pairs')
    p.add_argument('--size', type=lambda s: parse_size(s, min_side=8), default=(96, 64),
                   help='WIDTHxHEIGHT')
    p.add_argument('--num-shapes', type=parse_int_or_range, default=(2, 4),
                   help='shapes per pair, or a range like 2-4')
    p.add_argument('--max-translation', type=float, default=6.0,
                   help='largest shape translation in pixels')
    p.add_argument('--max-bg-translation', type=float, default=4.0,
                   help='largest background translation in pixels')
    p.add_argument('--texture-detail', type=float, default=0.0,
                   help='std (grey levels) of fine per-texel noise on every texture')
    p.add_argument('--kitti-density', type=float, default=0.5,
                   help='KITTI layout: share of pixels with ground truth')
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    kw = dict(num_shapes=args.num_shapes, max_translation=args.max_translation,
              max_bg_translation=args.max_bg_translation, texture_detail=args.texture_detail)
    start = time.time()
    if args.layout in ('chairs', 'both'):
        root = args.out_dir if args.layout == 'chairs' else osp.join(args.out_dir, 'FlyingChairs')
        n = make_synthetic_chairs(root, args.num_train, args.num_val, args.size, args.seed, **kw)
        print(f'FlyingChairs layout: {n} pairs in {root}')
    if args.layout in ('kitti', 'both'):
        root = args.out_dir if args.layout == 'kitti' else osp.join(args.out_dir, 'KITTI')
        n = make_synthetic_kitti(root, args.num_train, args.num_val, args.size, args.seed,
                                 kitti_density=args.kitti_density, **kw)
        print(f'KITTI-2015 layout: {n} pairs in {root}')
    print(f'done in {time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
