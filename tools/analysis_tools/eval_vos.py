"""Evaluate saved VOS results (palette PNGs) against DAVIS ground truth.

No model is run: this scores any method's masks, ours (written by
``VOSMetric(outfile_prefix=...)``) or published ones, with the DAVIS 2017
semi-supervised protocol (J, boundary F with ``bound_th`` 0.008, mean /
recall / decay per object, first and last frames excluded; see
``docs/vos_evaluation.md``).

Layouts::

    GT_ROOT/JPEGImages/480p/{seq}/00000.jpg
    GT_ROOT/Annotations/480p/{seq}/00000.png      (every frame)
    GT_ROOT/ImageSets/{year}/{split}.txt
    RESULTS_DIR/{seq}/00000.png                    (DAVIS layout) or
    RESULTS_DIR/Annotations/{seq}/00000.png        (YouTube-VOS layout)

Result PNGs must be named like the ground truth and hold object ids as palette
indices (8-bit grayscale ids are accepted, RGB is rejected); a result is
needed for every evaluated frame (frame 0 and the last frame may be missing).

Examples::

    python tools/analysis_tools/eval_vos.py data/DAVIS work_dirs/vos/results
    python tools/analysis_tools/eval_vos.py data/DAVIS res/ours res/stcn \\
        --year 2017 --split val --csv davis17_val.csv
    python tools/analysis_tools/eval_vos.py data/DAVIS res/ours --year 2016
"""
import argparse
import csv
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmdropmae.datasets.vos.davis import load_davis_sequences  # noqa: E402
from mmdropmae.evaluation.functional.vos_metrics import (  # noqa: E402
    GLOBAL_KEYS, format_vos_table, frame_object_scores, per_sequence_means,
    sequence_object_records, summarize_vos)
from mmdropmae.utils.fileio import load_vos_mask, read_palette_mask  # noqa: E402


def _result_dir(results_dir: str, seq: str) -> str:
    for d in (osp.join(results_dir, seq), osp.join(results_dir, 'Annotations', seq)):
        if osp.isdir(d):
            return d
    return osp.join(results_dir, seq)


def evaluate_sequence_files(seq: Dict,
                            results_dir: str,
                            bound_th: float = 0.008,
                            exclude_first: bool = True,
                            exclude_last: bool = True) -> List[Dict]:
    """Per-object records of one DAVIS sequence entry against result PNGs.

    Raises:
        FileNotFoundError: A ground-truth or result PNG is missing (named).
        ValueError: A result has another size than its ground truth, or an
            object id the ground truth does not have (as the DAVIS toolkit).
    """
    name, single = seq['video_name'], seq['single_object']
    n = seq['num_frames']
    gts = []
    for t, path in enumerate(seq['mask_paths']):
        if path is None:
            raise FileNotFoundError(
                f'missing ground truth for frame {seq["frame_names"][t]} of {name!r}: '
                f'{seq["frame_paths"][t]} has no annotation PNG')
        gts.append(load_vos_mask(path, single_object=single))
    first: Dict[int, int] = {}
    for t, g in enumerate(gts):
        for i in np.unique(g).tolist():
            if i:
                first.setdefault(int(i), t)
    object_ids = sorted(first)
    # The earliest frame some object is evaluated in (frame 1 on DAVIS).
    need_from = min(v + int(exclude_first) for v in first.values()) if first else n
    res_dir = _result_dir(results_dir, name)
    scores = {}
    for t in range(need_from, n):
        if exclude_last and t == n - 1:
            continue
        path = osp.join(res_dir, seq['frame_names'][t] + '.png')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'missing result {path} (sequence {name!r}, frame {seq["frame_names"][t]}); '
                f'results must be PNGs named like the ground truth: '
                f'RESULTS_DIR/{{seq}}/{{frame}}.png')
        pred = read_palette_mask(path, allow_gray=True)
        if pred.shape != gts[t].shape:
            raise ValueError(f'result {path} is {pred.shape[1]}x{pred.shape[0]} but the ground '
                             f'truth {seq["mask_paths"][t]} is '
                             f'{gts[t].shape[1]}x{gts[t].shape[0]}')
        if single:
            pred = (pred > 0).astype(np.uint8)
        extra = sorted(set(np.unique(pred).tolist()) - {0} - set(object_ids))
        if extra:
            raise ValueError(f'result {path} contains object id(s) {extra} but the ground truth '
                             f'of {name!r} has objects {object_ids}')
        scores[t] = frame_object_scores(gts[t], pred, object_ids, bound_th)
    return sequence_object_records(name, scores, object_ids, first, n, exclude_first,
                                   exclude_last)


def _worker(args):
    return evaluate_sequence_files(*args)


def evaluate_results(gt_root: str,
                     results_dir: str,
                     year: str = '2017',
                     split: str = 'val',
                     resolution: str = '480p',
                     sequences: Optional[List[str]] = None,
                     bound_th: float = 0.008,
                     exclude_first: bool = True,
                     exclude_last: bool = True,
                     nproc: int = 1) -> Tuple[Dict, List[Dict]]:
    """Evaluate one results folder.

    Returns:
        tuple: the summary (:func:`summarize_vos`) and the per-object records.
    """
    if not osp.isdir(results_dir):
        raise FileNotFoundError(f'results folder not found: {results_dir}')
    seqs = load_davis_sequences(gt_root, year=year, split=split, resolution=resolution,
                                scan_annotations='first', require_dense=True,
                                sequences=sequences)
    jobs = [(s, results_dir, bound_th, exclude_first, exclude_last) for s in seqs]
    if nproc > 1:
        import multiprocessing as mp
        with mp.get_context('spawn').Pool(nproc) as pool:
            parts = pool.map(_worker, jobs)
    else:
        parts = [_worker(j) for j in jobs]
    records = [r for p in parts for r in p]
    return summarize_vos(records), records


def write_csv(path: str, results: List[Tuple[str, Dict, List[Dict]]]) -> None:
    """One row per method (global), per sequence and per object."""
    cols = ['method', 'level', 'name'] + list(GLOBAL_KEYS) + ['frames']
    with open(path, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(cols)

        def fmt(v):
            return '' if v is None else f'{v:.6f}'

        for method, summary, records in results:
            w.writerow([method, 'global', ''] + [fmt(summary[k]) for k in GLOBAL_KEYS] +
                       [''])
            for s in per_sequence_means(records):
                w.writerow([method, 'sequence', s['video_name']] +
                           [fmt(s.get(k)) for k in GLOBAL_KEYS] + [''])
            for r in records:
                w.writerow([method, 'object', r['name']] + [fmt(r[k]) for k in GLOBAL_KEYS] +
                           [len(r['frames'])])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('gt_root', help='DAVIS root (JPEGImages, Annotations, ImageSets)')
    parser.add_argument('results_dirs', nargs='+', metavar='RESULTS_DIR',
                        help='folder(s) of palette PNG results, one per method')
    parser.add_argument('--year', default='2017', choices=['2016', '2017'])
    parser.add_argument('--split', default='val')
    parser.add_argument('--resolution', default='480p')
    parser.add_argument('--sequences', nargs='+', default=None, help='evaluate only these')
    parser.add_argument('--bound-th', type=float, default=0.008,
                        help='boundary tolerance: fraction of the diagonal, or pixels if >= 1')
    parser.add_argument('--keep-last', action='store_true',
                        help='also evaluate the last frame (the DAVIS toolkit drops it)')
    parser.add_argument('--csv', default=None, help='write global / per-sequence / per-object '
                        'rows of every method to this CSV file')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    parser.add_argument('--quiet', action='store_true', help='print only the global tables')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    all_results = []
    try:
        for rd in args.results_dirs:
            t0 = time.time()
            summary, records = evaluate_results(
                args.gt_root, rd, year=args.year, split=args.split, resolution=args.resolution,
                sequences=args.sequences, bound_th=args.bound_th,
                exclude_last=not args.keep_last, nproc=args.nproc)
            title = f'for {rd} (DAVIS {args.year} {args.split}) '
            print(format_vos_table(summary, None if args.quiet else records, title=title))
            print(f'[{summary["num_objects"]} objects in {summary["num_sequences"]} sequences, '
                  f'{time.time() - t0:.1f} s]\n')
            all_results.append((rd, summary, records))
    except (FileNotFoundError, ValueError, KeyError) as err:
        print(f'eval_vos.py: error: {err}', file=sys.stderr)
        return 1
    if len(all_results) > 1:
        width = max(len(r[0]) for r in all_results) + 2
        print(f'{" Comparison ":-^{width + 11 * len(GLOBAL_KEYS)}}')
        print(f'{"method":<{width}}' + ''.join(f'{k:>11}' for k in GLOBAL_KEYS))
        for rd, summary, _ in all_results:
            print(f'{rd:<{width}}' + ''.join(f'{summary[k]:>11.3f}' for k in GLOBAL_KEYS))
    if args.csv:
        write_csv(args.csv, all_results)
        print(f'wrote {args.csv}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
