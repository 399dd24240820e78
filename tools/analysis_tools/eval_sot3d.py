"""Evaluate 3D single-object tracking result files with Open3DSOT's Success
and Precision, without running a model.

Layout of both folders: one ``{seq}.txt`` per tracklet, one box per frame,
``cx cy cz l w h yaw`` in LiDAR coordinates (yaw about +z, centre = the
geometric centre, ``l`` along the heading); ``tools/test.py`` with
``SOT3DMetric(outfile_prefix=P)`` writes ``P/pred`` and ``P/gt``.

Conventions (Ghostish/Open3DSOT ``utils/metrics.py`` and
``models/base_model.py``; docs/point_cloud_tracking.md): overlap = BEV
footprint intersection x Open3DSOT's vertical overlap / union volume;
Success = area under the share of frames with overlap >= t, 21 thresholds
in [0, 1], x 100; Precision = area under the share with centre distance
<= t, 21 thresholds in [0, 2] m, x 100 / 2; frames pooled over all
sequences; frame 0 counted with the ground-truth box.

``--render-root DATA_ROOT`` also draws the first ``--render-seqs``
sequences (points from the KITTI-layout ``DATA_ROOT``, predicted box red,
ground truth green) as PNG frames (and ``--mp4``) in ``--render-dir``:
Open3D off-screen rendering where it works, else a bird's-eye-view plot.

Example::

    python tools/analysis_tools/eval_sot3d.py work_dirs/bevtrack/results/pred \\
        work_dirs/bevtrack/results/gt --json work_dirs/bevtrack/sot3d.json \\
        --render-root data/synthetic_kitti --render-dir work_dirs/bevtrack/render
"""
import argparse
import json
import os.path as osp
import sys

import numpy as np

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmdropmae.evaluation.functional.sot3d_metrics import (SOT3DResultError,  # noqa: E402
                                                           evaluate_sot3d_dirs)
from mmdropmae.utils.fileio import atomic_write_text  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('pred_dir', help='predicted {seq}.txt files')
    p.add_argument('gt_dir', help='ground-truth {seq}.txt files (every one is evaluated)')
    p.add_argument('--json', default=None, help='write {"success", "precision", '
                   '"num_frames"} here')
    p.add_argument('--vertical', default='open3dsot', choices=('open3dsot', 'exact'),
                   help="vertical overlap: Open3DSOT's [cz - h, cz] rule (default) or the "
                   'exact [cz - h/2, cz + h/2]')
    p.add_argument('--render-root', default=None,
                   help='KITTI-layout data root: render the tracked sequences')
    p.add_argument('--render-dir', default='work_dirs/sot3d_render')
    p.add_argument('--render-seqs', type=int, default=1, help='how many sequences to draw')
    p.add_argument('--backend', default='auto', choices=('auto', 'open3d', 'matplotlib'))
    p.add_argument('--mp4', action='store_true', help='also write {seq}.mp4')
    return p.parse_args(argv)


def render(args, seqs):
    """Draw the first ``args.render_seqs`` sequences; returns the files."""
    from mmdropmae.datasets.sot3d import build_tracklets, load_points
    from mmdropmae.evaluation.functional.sot3d_metrics import read_box3d_file
    from mmdropmae.visualization.sot3d_drawer import SOT3DDrawer
    drawer = SOT3DDrawer(args.backend)
    files = []
    for seq in seqs[:args.render_seqs]:
        scene, tid = seq.split('_')
        track = [t for t in build_tracklets(args.render_root, [scene], 'Any')
                 if t['track_id'] == int(tid)]
        if not track:
            raise SystemExit(f'{args.render_root}: no track {tid} in scene {scene}')
        pred = read_box3d_file(osp.join(args.pred_dir, f'{seq}.txt'))
        gt = read_box3d_file(osp.join(args.gt_dir, f'{seq}.txt'))
        points = []
        for path in track[0]['points_paths']:
            try:
                points.append(load_points(path))
            except ValueError as e:
                print(f'warning: {e}; drawing the boxes only', file=sys.stderr)
                points.append(np.zeros((0, 4), np.float32))
        files += drawer.draw_sequence(points, pred, gt, args.render_dir, seq, mp4=args.mp4)
    print(f'rendered {len(files)} files to {args.render_dir} ({drawer.used_backend})')
    return files


def main(argv=None):
    args = parse_args(argv)
    try:
        res, seqs = evaluate_sot3d_dirs(args.pred_dir, args.gt_dir, vertical=args.vertical)
    except SOT3DResultError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    out = dict(success=res['success'], precision=res['precision'],
               num_frames=res['num_frames'])
    print(f"{len(seqs)} sequences, {res['num_frames']} frames: "
          f"Success {res['success']:.2f}  Precision {res['precision']:.2f}")
    if args.json:
        atomic_write_text(args.json, json.dumps(out, indent=2) + '\n')
    if args.render_root:
        render(args, seqs)
    return 0


if __name__ == '__main__':
    sys.exit(main())
