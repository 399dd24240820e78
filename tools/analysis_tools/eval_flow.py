"""Evaluate saved optical-flow predictions against ground-truth flow files,
without running a model.

Files are matched by their path relative to ``PRED_DIR`` / ``GT_DIR``
without the ending, so ``.flo`` and KITTI 16-bit PNG mix freely on either
side (``pred/clean/alley_1/frame0001.flo`` against
``gt/clean/alley_1/frame0001.png`` is fine; RAFT's Sintel names
``frame_0001`` vs ``frame0001`` are not matched, rename first). Every ground
truth file needs a prediction (the missing ones are listed and the tool
fails); predictions without ground truth are reported and skipped.

Metrics follow RAFT's ``evaluate.py`` (princeton-vl/RAFT;
``docs/optical_flow.md``): ``--protocol chairs`` / ``sintel``: EPE pooled
over all pixels of all images, 1/3/5-px = share of pixels with EPE < 1/3/5;
``--protocol kitti``: EPE = mean over images of the per-image mean over the
valid pixels (a PNG's valid channel; a ``.flo`` ground truth is valid where
``|u|, |v| < 1000``, RAFT's dense rule), Fl-all = outliers (EPE > 3 px and
> 5% of |gt|) pooled over the valid pixels of all images.

Examples::

    python tools/analysis_tools/eval_flow.py work_dirs/sintel_pred data/Sintel/training/flow \\
        --protocol sintel
    python tools/analysis_tools/eval_flow.py results/kitti/flow data/KITTI/training/flow_occ \\
        --protocol kitti --json kitti.json
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import numpy as np  # noqa: E402

from mmdropmae.evaluation.functional.flow_io import (FLOW_EXTENSIONS,  # noqa: E402
                                                     FlowFileError, read_flow_file)
from mmdropmae.evaluation.functional.flow_metrics import (FLOW_PROTOCOLS,  # noqa: E402
                                                          flow_image_stats, format_flow_table,
                                                          summarize_flow)
from mmdropmae.utils.fileio import atomic_write_text  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('pred_dir', help='folder of predicted .flo / KITTI PNG files')
    p.add_argument('gt_dir', help='folder of ground-truth .flo / KITTI PNG files')
    p.add_argument('--protocol', required=True, choices=FLOW_PROTOCOLS)
    p.add_argument('--json', default=None, help='write the metrics to this JSON file')
    return p.parse_args(argv)


def list_flow_files(root: str) -> dict:
    """Relative path without ending -> file, for every flow file under
    ``root`` (hidden files skipped).

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        ValueError: Two files differ only in their ending.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'flow folder not found: {root}')
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            stem, ext = osp.splitext(name)
            if name.startswith('.') or ext.lower() not in FLOW_EXTENSIONS:
                continue
            rel = osp.relpath(osp.join(folder, stem), root).replace(os.sep, '/')
            path = osp.join(folder, name)
            if rel in files:
                raise ValueError(f'two flow files for {rel!r}: {files[rel]} and {path}')
            files[rel] = path
    return files


def evaluate_dirs(pred_dir: str, gt_dir: str, protocol: str) -> dict:
    """Metrics of the predictions in ``pred_dir`` against ``gt_dir``.

    Returns:
        dict: :func:`summarize_flow`'s keys plus ``skipped_predictions``.
    """
    preds, gts = list_flow_files(pred_dir), list_flow_files(gt_dir)
    if not gts:
        raise FileNotFoundError(f'no .flo / .png flow files under {gt_dir}')
    missing = sorted(set(gts) - set(preds))
    if missing:
        shown = ', '.join(missing[:10]) + (' ...' if len(missing) > 10 else '')
        raise FileNotFoundError(f'{len(missing)} of {len(gts)} ground-truth files have no '
                                f'prediction in {pred_dir}: {shown}')
    stats = []
    for rel in sorted(gts):
        gt, valid = read_flow_file(gts[rel])
        pred, _ = read_flow_file(preds[rel])
        if pred.shape != gt.shape:
            raise ValueError(f'{preds[rel]}: prediction of size {pred.shape[:2]} for a '
                             f'ground truth of size {gt.shape[:2]} ({gts[rel]})')
        if valid is None and protocol == 'kitti':
            valid = ((np.abs(gt[..., 0]) < 1000) & (np.abs(gt[..., 1]) < 1000)).astype(
                np.float32)
        stats.append(flow_image_stats(pred, gt, valid, protocol))
    out = summarize_flow(stats, protocol)
    out['skipped_predictions'] = len(set(preds) - set(gts))
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        res = evaluate_dirs(args.pred_dir, args.gt_dir, args.protocol)
    except (FileNotFoundError, ValueError, FlowFileError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(format_flow_table(res, args.protocol, f'{args.pred_dir} vs {args.gt_dir}'))
    if res['skipped_predictions']:
        print(f"note: {res['skipped_predictions']} predictions have no ground truth "
              '(skipped)')
    if args.json:
        keys = ('epe', 'px1', 'px3', 'px5', 'fl_all', 'num_images')
        atomic_write_text(args.json, json.dumps({k: res[k] for k in keys}, indent=2) + '\n')
        print(f'metrics written to {args.json}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
