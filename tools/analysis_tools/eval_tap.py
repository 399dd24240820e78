"""Evaluate saved point-tracking predictions with the TAP-Vid metrics,
without running a model, and optionally draw the tracks into videos.

Predictions: a folder of ``{video}.npz`` files as ``TAPVidMetric(
outfile_prefix=...)`` writes them (``tools/test.py``), each holding
``query_points`` (N, 3) (t, y, x), ``gt_tracks`` / ``pred_tracks`` (N, T, 2)
(x, y), ``gt_occluded`` / ``pred_occluded`` (N, T) in raster pixels of the
evaluation resolution (256x256 for TAP-Vid) and ``query_mode``. Any other
tracker's outputs saved in this form are scored the same way.

Metrics: ``compute_tapvid_metrics`` (the port of google-deepmind/tapnet
``tapnet/tapvid/evaluation_datasets.py``), one value per video, the
benchmark value the mean over videos; printed x100 (AJ, <delta^x_avg, OA,
Jaccard and delta at 1, 2, 4, 8, 16 px) and written to
``{out_dir}/metrics.json``.

Examples::

    python tools/analysis_tools/eval_tap.py work_dirs/droptap/preds \\
        other_tracker/preds --labels DropTAP other --out-dir work_dirs/droptap/eval
    # draw the tracks (one colour per point, hollow circles when predicted
    # occluded) of the first two videos, frames from the TAP-Vid pickle
    python tools/analysis_tools/eval_tap.py work_dirs/droptap/preds \\
        --videos-from data/tapvid/tapvid_davis/tapvid_davis.pkl --draw 2 --out-dir vis/
"""
import argparse
import glob
import json
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import numpy as np  # noqa: E402

from mmdropmae.evaluation.functional.tap_metrics import (TAPVID_KEYS,  # noqa: E402
                                                         average_tapvid_metrics,
                                                         compute_tapvid_metrics)
from mmdropmae.utils.fileio import atomic_write_text  # noqa: E402

ARRAYS = ('query_points', 'gt_tracks', 'gt_occluded', 'pred_tracks', 'pred_occluded')
COLUMNS = ('average_jaccard', 'average_pts_within_thresh', 'occlusion_accuracy', 'jaccard_1',
           'jaccard_2', 'jaccard_4', 'jaccard_8', 'jaccard_16', 'pts_within_1', 'pts_within_2',
           'pts_within_4', 'pts_within_8', 'pts_within_16')
HEADER = ('AJ', '<d_avg', 'OA', 'J1', 'J2', 'J4', 'J8', 'J16', 'd1', 'd2', 'd4', 'd8', 'd16')


def load_prediction(path: str) -> dict:
    """Arrays of one ``{video}.npz``; errors name the file and the problem."""
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except (OSError, ValueError) as e:
        raise ValueError(f'{path}: not a readable .npz ({e})') from e
    missing = [k for k in ARRAYS if k not in data]
    if missing:
        raise KeyError(f'{path}: missing arrays {missing} (need {ARRAYS})')
    n, t = data['gt_occluded'].shape if data['gt_occluded'].ndim == 2 else (None, None)
    if n is None or data['query_points'].shape != (n, 3) or \
            data['gt_tracks'].shape != (n, t, 2) or data['pred_tracks'].shape != (n, t, 2) or \
            data['pred_occluded'].shape != (n, t):
        raise ValueError(f'{path}: inconsistent shapes ' +
                         str({k: data[k].shape for k in ARRAYS}))
    return data


def evaluate_dir(folder: str, query_mode: str = None) -> dict:
    """Per-video metrics and their means for one prediction folder."""
    files = sorted(glob.glob(osp.join(folder, '*.npz')))
    if not files:
        raise FileNotFoundError(f'no prediction .npz files in {folder}')
    videos = []
    for path in files:
        d = load_prediction(path)
        mode = query_mode or (str(d['query_mode']) if 'query_mode' in d else None)
        if mode is None:
            raise KeyError(f'{path}: no query_mode saved; pass --query-mode')
        m = compute_tapvid_metrics(d['query_points'][None], d['gt_occluded'][None].astype(bool),
                                   d['gt_tracks'][None], d['pred_occluded'][None].astype(bool),
                                   d['pred_tracks'][None], mode)
        videos.append(dict(video_name=osp.splitext(osp.basename(path))[0], query_mode=mode,
                           **{k: float(v[0]) for k, v in m.items()}))
    mean = average_tapvid_metrics([{k: np.array([v[k]]) for k in TAPVID_KEYS} for v in videos])
    return dict(mean=mean, videos=videos)


def format_table(rows: dict) -> str:
    lines = [f'{"":<16}' + ''.join(f'{h:>8}' for h in HEADER)]
    for label, res in rows.items():
        lines.append(f'{label:<16}' + ''.join(f'{100 * res["mean"][k]:8.2f}' for k in COLUMNS))
    return '\n'.join(lines)


def draw_videos(folder: str, videos_from: str, out_dir: str, num: int, size=(256, 256)):
    from mmdropmae.datasets.tap import (decode_tapvid_frames, get_tapvid_entry,
                                        read_tapvid_entries)
    from mmdropmae.datasets.transforms.tap_transforms import resize_tapvid_video
    from mmdropmae.visualization.tap_drawer import write_tap_video
    entries = {name: (p, k) for name, p, k in read_tapvid_entries(videos_from)}
    written = []
    for path in sorted(glob.glob(osp.join(folder, '*.npz')))[:num]:
        name = osp.splitext(osp.basename(path))[0]
        if name not in entries:
            raise KeyError(f'{videos_from} has no video {name!r} (of {path})')
        d = load_prediction(path)
        p, k = entries[name]
        frames = resize_tapvid_video(decode_tapvid_frames(get_tapvid_entry(p, k)['video'], p),
                                     size)
        out = osp.join(out_dir, f'{name}_tracks.mp4')
        write_tap_video(out, frames, d['pred_tracks'], d['pred_occluded'].astype(bool))
        written.append(out)
    return written


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('results', nargs='+', help='prediction folders ({video}.npz)')
    parser.add_argument('--labels', nargs='*', help='one label per folder')
    parser.add_argument('--query-mode', choices=['first', 'strided'],
                        help='override the saved query_mode')
    parser.add_argument('--out-dir', help='writes metrics.json (and videos) here')
    parser.add_argument('--videos-from', help='TAP-Vid pickle / folder holding the frames')
    parser.add_argument('--draw', type=int, default=0, help='draw this many videos')
    parser.add_argument('--size', type=int, nargs=2, default=(256, 256), metavar=('H', 'W'),
                        help='resolution the predictions are in')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    labels = args.labels or [osp.basename(osp.normpath(r)) for r in args.results]
    if len(labels) != len(args.results):
        raise SystemExit(f'{len(labels)} labels for {len(args.results)} result folders')
    rows = {lab: evaluate_dir(r, args.query_mode) for lab, r in zip(labels, args.results)}
    print(format_table(rows))
    if args.out_dir:
        atomic_write_text(osp.join(args.out_dir, 'metrics.json'), json.dumps(rows, indent=1))
        if args.draw and args.videos_from:
            for f in draw_videos(args.results[0], args.videos_from, args.out_dir, args.draw,
                                 tuple(args.size)):
                print(f'wrote {f}')
    return rows


if __name__ == '__main__':
    main()
