"""Write synthetic single-object-tracking sequences with exact boxes in the
GOT-10k or LaSOT layout (a textured target over a textured background;
optional occlusion, fast motion, scale change, leaving the frame).

Examples::

    # GOT-10k layout, 5 val sequences cycling through all scenarios
    python tools/dataset_converters/make_synthetic_sot.py data/synth_got10k \\
        --layout got10k --split val --num-seqs 5 --num-frames 40 --size 128x96 --mixed
    # the train split with every sequence occluded and leaving the frame
    python tools/dataset_converters/make_synthetic_sot.py data/synth_got10k \\
        --layout got10k --split train --num-seqs 20 --occlusion --leave-frame
    # LaSOT layout: 2 classes x 3 sequences (+ testing_set.txt / training_set.txt)
    python tools/dataset_converters/make_synthetic_sot.py data/synth_lasot \\
        --layout lasot --classes airplane,bird --seqs-per-class 3 --mixed
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmdropmae.datasets.synthetic.cli import parse_int_or_range, parse_size  # noqa: E402
from mmdropmae.datasets.synthetic.sot import (SCENARIOS, make_synthetic_got10k,  # noqa: E402
                                              make_synthetic_lasot)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('out_dir', help='dataset root (created)')
    p.add_argument('--layout', choices=('got10k', 'lasot'), default='got10k')
    p.add_argument('--split', choices=('train', 'val', 'test'), default='train',
                   help='GOT-10k split (test: first-frame box only)')
    p.add_argument('--num-seqs', type=int, default=5, help='GOT-10k: number of sequences')
    p.add_argument('--classes', default='airplane,bird', help='LaSOT: comma-separated classes')
    p.add_argument('--seqs-per-class', type=int, default=2, help='LaSOT: sequences per class')
    p.add_argument('--num-frames', type=parse_int_or_range, default=30,
                   help='frames per sequence, or a range like 20-40')
    p.add_argument('--size', type=parse_size, default=(128, 96), help='WIDTHxHEIGHT')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--mixed', action='store_true',
                   help=f'cycle the sequences through the scenarios {SCENARIOS}')
    for flag in ('occlusion', 'fast-motion', 'scale-change', 'leave-frame'):
        p.add_argument(f'--{flag}', action='store_true', help=f'{flag} in every sequence')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    flags = dict(occlusion=args.occlusion, fast_motion=args.fast_motion,
                 scale_change=args.scale_change, leave_frame=args.leave_frame)
    scenarios = list(SCENARIOS) if args.mixed else None
    if args.layout == 'got10k':
        names = make_synthetic_got10k(args.out_dir, split=args.split, num_sequences=args.num_seqs,
                                      num_frames=args.num_frames, size=args.size, seed=args.seed,
                                      scenarios=scenarios, **flags)
        where = osp.join(args.out_dir, args.split)
    else:
        classes = [c for c in args.classes.split(',') if c]
        names = make_synthetic_lasot(args.out_dir, classes=classes,
                                     seqs_per_class=args.seqs_per_class,
                                     num_frames=args.num_frames, size=args.size, seed=args.seed,
                                     scenarios=scenarios, **flags)
        where = args.out_dir
    print(f'{len(names)} sequences ({args.layout} layout) in {where} [{time.time() - t0:.1f} s]')


if __name__ == '__main__':
    main()
