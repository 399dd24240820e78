"""Check that video readers return, for every index, the frame a plain
sequential decode returns (PyAV's ``container.decode(video=0)``).

For each file of a folder (recursively; any extension FFmpeg opens) and each
backend, every frame (or ``--max-frames`` random ones) is read by random
access, one ``get_frame`` per index, then in shuffled batches with
``get_frames``, and compared bit for bit with the sequential decode. A row
per file and backend: frames, wrong frames (other pixels or an index the
sequential decode does not have), errors (``VideoReadError``, which names the
file and the problem; for a damaged bitstream that is the wanted answer).

Example::

    # your own videos
    python tools/analysis_tools/check_video_reader.py data/kinetics400/train --max-frames 50
    # the corpus of awkward files (B-frames with pts = dts, open GOP, VFR,
    # edit list, rotation, 853x480 4:4:4, 10-bit, HEVC, MPEG-TS, VP9,
    # damaged and truncated files), made with ffmpeg first
    python tools/analysis_tools/check_video_reader.py --corpus work_dirs/video_corpus \\
        --backends pyav decord --json work_dirs/video_corpus/report.json

``--check`` exits with status 1 when the first backend returns a wrong frame.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List

import numpy as np

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmdropmae.datasets import VideoReadError, available_backends, build_video_reader  # noqa
from mmdropmae.datasets.video_reader import iter_exact_frames  # noqa: E402
from mmdropmae.utils.fileio import atomic_write_text  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('video_dir', nargs='?', help='folder of videos (recursive)')
    parser.add_argument('--corpus', metavar='DIR',
                        help='write the awkward-file corpus into DIR and check it')
    parser.add_argument('--backends', nargs='+', default=['pyav'],
                        help='readers to check (default: pyav)')
    parser.add_argument('--max-frames', type=int, default=0,
                        help='check at most this many random indices per file (0: all)')
    parser.add_argument('--json', metavar='OUT', help='write the rows as JSON')
    parser.add_argument('--check', action='store_true',
                        help='exit 1 if the first backend returns a wrong frame')
    args = parser.parse_args(argv)
    if (args.video_dir is None) == (args.corpus is None):
        parser.error('give a VIDEO_DIR or --corpus DIR (one of them)')
    missing = [b for b in args.backends if b not in available_backends()]
    if missing:
        parser.error(f'backends not installed: {missing} (installed: {available_backends()})')
    return args


def sequential_decode(path: str):
    """Frames of a sequential decode and the error that ended it, if any."""
    frames = []
    try:
        for frame in iter_exact_frames(path):
            frames.append(frame)
    except VideoReadError as e:
        return frames, e.reason
    return frames, None


def check_file(path: str, backend: str, ref: List[np.ndarray], max_frames: int,
               rng: np.random.Generator) -> Dict:
    """Compare one reader with the sequential decode ``ref``."""
    row = dict(file=path, backend=backend, sequential_frames=len(ref))
    try:
        reader = build_video_reader(path, backend=backend)
    except VideoReadError as e:
        return dict(row, open_error=e.reason)
    with reader:
        n = len(reader)
        indices = np.arange(n)
        if max_frames and n > max_frames:
            indices = np.sort(rng.choice(n, max_frames, replace=False))
        wrong, errors = [], []
        for i in indices.tolist():
            try:
                frame = reader.get_frame(i)
            except VideoReadError:
                errors.append(i)
                continue
            if i >= len(ref) or not np.array_equal(frame, ref[i]):
                wrong.append(i)
        batch_wrong = 0
        for batch in np.array_split(rng.permutation(indices), max(1, len(indices) // 4)):
            batch = batch.tolist()
            try:
                frames = reader.get_frames(batch)
            except VideoReadError:
                continue
            batch_wrong += sum(i >= len(ref) or not np.array_equal(f, ref[i])
                               for i, f in zip(batch, frames))
    return dict(row, frames=n, checked=len(indices), wrong=wrong, errors=errors,
                batch_wrong=batch_wrong)


def format_row(row: Dict) -> str:
    name = osp.basename(row['file'])
    head = f'{name:<28} {row["backend"]:<8} seq {row["sequential_frames"]:>5}'
    if 'open_error' in row:
        return f'{head}  refused: {row["open_error"]}'
    first = f' (first {row["wrong"][:3]})' if row['wrong'] else ''
    return (f'{head}  frames {row["frames"]:>5}  wrong {len(row["wrong"]):>4}{first}  '
            f'errors {len(row["errors"]):>4}  wrong in batches {row["batch_wrong"]}')


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.corpus:
        from mmdropmae.datasets.synthetic.video_corpus import make_awkward_video_corpus
        files = list(make_awkward_video_corpus(args.corpus).values())
    else:
        files = sorted(osp.join(d, f) for d, _, names in os.walk(args.video_dir)
                       for f in names if not f.startswith('.'))
        if not files:
            print(f'no files under {args.video_dir}', file=sys.stderr)
            return 2
    rng = np.random.default_rng(0)
    rows = []
    for path in files:
        ref, err = sequential_decode(path)
        if err:
            print(f'{osp.basename(path)}: the sequential decode stops after {len(ref)} frames '
                  f'({err})')
        for backend in args.backends:
            rows.append(dict(check_file(path, backend, ref, args.max_frames, rng),
                             sequential_error=err))
            print(format_row(rows[-1]), flush=True)
    if args.json:
        atomic_write_text(args.json, json.dumps(rows, indent=1))
    first = args.backends[0]
    bad = [r for r in rows if r['backend'] == first and (r.get('wrong') or r.get('batch_wrong'))]
    if args.check and bad:
        print(f'{first}: wrong frames in {len(bad)} files', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
