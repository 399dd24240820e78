"""Write a synthetic video object segmentation data set with exact masks in
the DAVIS layout, the YouTube-VOS layout, or both.

Sequences: textured objects over a textured, panning background; objects 1
and 2 cross (occlusion); with ``--events alternate`` (default) every other
sequence also has an object entering mid-video and one vanishing. Fully
determined by ``--seed``.

Layouts written::

    davis:   OUT/JPEGImages/480p/{seq}/00000.jpg, OUT/Annotations/480p/{seq}/00000.png,
             OUT/ImageSets/{2016,2017}/{train,val}.txt
    youtube: OUT/{train,valid}/JPEGImages/{video}/00000.jpg (00005, ...),
             OUT/{train,valid}/Annotations/{video}/*.png (valid: first appearances only),
             OUT/{train,valid}/meta.json, OUT/valid/Annotations_dense/ (full ground truth)
    both:    OUT/DAVIS/... and OUT/YouTubeVOS/...

Examples::

    # tiny data sets for tests
    python tools/dataset_converters/make_synthetic_vos.py data/synth_vos --layout both \\
        --num-train 2 --num-val 2 --num-frames 8 --size 64x48
    # a CPU-trainable DAVIS-like set
    python tools/dataset_converters/make_synthetic_vos.py data/synth_davis --layout davis \\
        --num-train 60 --num-val 10 --num-frames 30 --size 256x192 --num-objects 2-4
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmdropmae.datasets.synthetic.cli import parse_int_or_range, parse_size  # noqa: E402
from mmdropmae.datasets.synthetic.vos import (make_synthetic_davis,  # noqa: E402
                                              make_synthetic_youtube_vos)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out_dir', help='output folder (created)')
    parser.add_argument('--layout', choices=['davis', 'youtube', 'both'], default='both')
    parser.add_argument('--num-train', type=int, default=2, help='training sequences')
    parser.add_argument('--num-val', type=int, default=2,
                        help='validation sequences (DAVIS val / YouTube-VOS valid)')
    parser.add_argument('--num-frames', type=int, default=10)
    parser.add_argument('--size', type=parse_size, default=(64, 48), help='WIDTHxHEIGHT')
    parser.add_argument('--num-objects', type=parse_int_or_range, default=(2, 3),
                        help='objects per sequence, or a range like 2-4')
    parser.add_argument('--events', choices=['alternate', 'all', 'none'], default='alternate',
                        help='which sequences get an entering and a vanishing object')
    parser.add_argument('--unseen', nargs='*', default=['star'],
                        help='YouTube-VOS: shapes kept out of train (unseen categories)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    common = dict(num_frames=args.num_frames, size=args.size, num_objects=args.num_objects,
                  events=args.events, seed=args.seed)
    if args.layout in ('davis', 'both'):
        root = osp.join(args.out_dir, 'DAVIS') if args.layout == 'both' else args.out_dir
        info = make_synthetic_davis(root, num_sequences=dict(train=args.num_train,
                                                             val=args.num_val), **common)
        n = sum(len(v) for v in info.values())
        print(f'DAVIS layout: {n} sequences in {root}')
    if args.layout in ('youtube', 'both'):
        root = osp.join(args.out_dir, 'YouTubeVOS') if args.layout == 'both' else args.out_dir
        info = make_synthetic_youtube_vos(root, num_videos=dict(train=args.num_train,
                                                                valid=args.num_val),
                                          unseen_categories=tuple(args.unseen), **common)
        n = sum(len(v) for v in info.values())
        print(f'YouTube-VOS layout: {n} videos in {root}')
    print(f'[{time.time() - t0:.1f} s]')


if __name__ == '__main__':
    main()
