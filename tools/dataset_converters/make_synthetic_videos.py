"""Write a synthetic video data set (real H.264 mp4 files) in the Kinetics
layout: ``OUT_DIR/{class_name}/{video_id}.mp4``.

Each video shows textured moving, scaling and rotating objects over a
textured background seen by a panning and zooming camera; its content is
fully determined by ``--seed``.

Examples::

    # 3 classes x 2 tiny videos for tests
    python tools/dataset_converters/make_synthetic_videos.py data/synth \\
        --num-classes 3 --videos-per-class 2 --size 128x96 --num-frames 24
    # Kinetics-like 10 s 640x480 clips, with an annotation list
    python tools/dataset_converters/make_synthetic_videos.py data/synth_k \\
        --num-classes 8 --videos-per-class 25 --num-frames 300 --workers 8 \\
        --ann-file data/synth_k/train_list.txt
"""
import argparse
import os.path as osp
import sys
import time
from functools import partial

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmdropmae.datasets.synthetic.cli import parse_int_or_range, parse_size  # noqa: E402
from mmdropmae.datasets.synthetic import (make_synthetic_kinetics,  # noqa: E402
                                          write_corrupt_video)


def parse_gop(text: str):
    return None if text in ('x264', 'default', 'auto') else int(text)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out_dir', help='output folder (created)')
    parser.add_argument('--num-classes', type=int, default=3)
    parser.add_argument('--videos-per-class', type=int, default=2)
    parser.add_argument('--num-frames', type=parse_int_or_range, default=300,
                        help='frames per video, or a range like 200-300')
    parser.add_argument('--size', type=partial(parse_size, min_side=8, even=True),
                        default=(640, 480), help='WIDTHxHEIGHT (even)')
    parser.add_argument('--fps', type=float, default=30)
    parser.add_argument('--gop', type=parse_gop, default=None,
                        help='fixed keyframe interval in frames, or "x264" for x264\'s '
                        'default (keyint 250 with scene-cut keyframes; default)')
    parser.add_argument('--crf', type=int, default=23)
    parser.add_argument('--preset', default='medium', help='x264 preset')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--ext', default='.mp4', help='file extension / container')
    parser.add_argument('--ann-file', default=None,
                        help='also write an annotation list (path<TAB>label per line)')
    parser.add_argument('--corrupt', type=int, default=0,
                        help='also add this many broken files (truncated / garbage / empty) '
                        'to the first class folder, to exercise the skip-with-warning path')
    parser.add_argument('--workers', type=int, default=1, help='parallel processes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    fps = int(args.fps) if float(args.fps).is_integer() else args.fps
    infos = make_synthetic_kinetics(
        args.out_dir,
        num_classes=args.num_classes,
        videos_per_class=args.videos_per_class,
        num_frames=args.num_frames,
        size=args.size,
        fps=fps,
        gop=args.gop,
        seed=args.seed,
        ext=args.ext,
        ann_file=args.ann_file,
        verbose=True,
        workers=args.workers,
        crf=args.crf,
        preset=args.preset)
    if args.corrupt:
        first_class = infos[0]['filename'].split(osp.sep)[0]
        modes = ('truncated', 'garbage', 'empty')
        for k in range(args.corrupt):
            path = osp.join(args.out_dir, first_class, f'corrupt_{k:03d}{args.ext}')
            write_corrupt_video(path, modes[k % len(modes)], seed=args.seed + k)
            print(f'wrote broken file {path} ({modes[k % len(modes)]})', file=sys.stderr)
    frames = sum(i['num_frames'] for i in infos)
    print(f'{len(infos)} videos ({frames} frames) in {args.out_dir} '
          f'[{time.time() - t0:.1f} s]')


if __name__ == '__main__':
    main()
