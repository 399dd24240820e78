"""Evaluate saved single-object-tracking result files against a dataset's
ground truth, without running a model, and compare several result folders.

Result folders are in the official layouts: GOT-10k
``{seq}/{seq}_001.txt`` (the ``{seq}.txt`` layout is accepted too), LaSOT /
LaSOT_ext / TrackingNet / TNL2K / ITB ``{seq}.txt``; rows ``x,y,w,h``
separated by commas, tabs or spaces (our ``tools/test.py`` output or any
tracker's published raw results). Prints the metric table (%), and writes to
``--out-dir``: ``success_plot.png``, ``precision_plot.png`` and
``metrics.json``.

Conventions (docs/sot_evaluation.md): GOT-10k AO / SR0.5 / SR0.75 follow the
official GOT-10k toolkit (first frame and invisible frames excluded,
frame-averaged); AUC / precision@20px / normalised precision@0.2 follow the
analysis code of OSTrack / DropTrack / pytracking
(``lib/test/analysis/extract_results.py``, default
``exclude_invalid_frames=False``): 21 thresholds, strict ``>``, first frame =
ground truth, sequence-averaged, every frame in the denominator; a frame with
invalid or absent ground truth has overlap -1, centre error inf and
normalised error -1 (LaSOT: inf where the labels say invisible).
``--absent exclude`` gives the cleaner variant (such frames leave the
numerators and the denominator). TrackingNet: NP@0.2 is pytracking's value at
0.20, not the TrackingNet server's normalised precision (the area under its
0-0.5 curve).

Examples::

    python tools/analysis_tools/eval_sot.py data/got10k --dataset got10k --split val \\
        --results work_dirs/droptrack/got10k_val other_results/OSTrack --labels ours OSTrack
    python tools/analysis_tools/eval_sot.py data/lasot --dataset lasot \\
        --ann-file testing_set.txt --results results/lasot/DropTrack --out-dir plots/
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import matplotlib  # noqa: E402

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mmdropmae.datasets.sot import (GOT10kDataset, ITBDataset, LaSOTDataset,  # noqa: E402
                                    LaSOTExtDataset, SOTAnnotationError, TNL2KDataset,
                                    TrackingNetDataset)
from mmdropmae.evaluation.functional.sot_eval import (evaluate_result_dir,  # noqa: E402
                                                      load_sequences_gt)
from mmdropmae.evaluation.functional.sot_metrics import ABSENT_RULES  # noqa: E402
from mmdropmae.evaluation.functional.sot_results import SOTResultError  # noqa: E402

DATASETS = ('got10k', 'lasot', 'lasot_ext', 'trackingnet', 'tnl2k', 'itb')
TITLES = dict(got10k='GOT-10k', lasot='LaSOT', lasot_ext='LaSOT_ext',
              trackingnet='TrackingNet', tnl2k='TNL2K', itb='ITB')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('gt_root', help='dataset root (GOT-10k: the root holding val/, or the '
                   'split folder itself)')
    p.add_argument('--dataset', required=True, choices=DATASETS)
    p.add_argument('--results', nargs='+', required=True, help='result folder(s)')
    p.add_argument('--labels', nargs='+', help='names for the result folders (legend)')
    p.add_argument('--out-dir', default='work_dirs/eval_sot', help='plots and metrics.json')
    p.add_argument('--split', default='val', help='GOT-10k split (default: val)')
    p.add_argument('--ann-file', default='', help='sequence list (e.g. LaSOT testing_set.txt)')
    p.add_argument('--chunks', default='train', help="TrackingNet chunks: 'train', 'test' or "
                   'comma-separated folder names (e.g. TRAIN_11)')
    p.add_argument('--layout', default=None, help='result layout if not the dataset\'s own '
                   '(got10k, lasot, pytracking, ...)')
    p.add_argument('--absent', default=None, choices=ABSENT_RULES,
                   help='OPE rule for frames with invalid or absent ground truth (default: '
                   "the dataset preset, 'pytracking': every frame counted, such frames fail "
                   "success and precision and pass normalised precision; 'fail': they fail "
                   "all three; 'exclude': left out of numerators and denominator). GOT-10k "
                   'AO/SR are not affected')
    return p.parse_args(argv)


def build_dataset(args):
    common = dict(ann_file=args.ann_file, check_frames=False, serialize_data=False)
    root = args.gt_root
    if args.dataset == 'got10k':
        split = args.split
        if osp.isfile(osp.join(root, 'list.txt')) and not osp.isdir(osp.join(root, split)):
            root, split = osp.dirname(osp.abspath(root)), osp.basename(osp.abspath(root))
        return GOT10kDataset(data_root=root, split=split, **common)
    if args.dataset == 'trackingnet':
        chunks = args.chunks if args.chunks in ('train', 'test') else args.chunks.split(',')
        return TrackingNetDataset(data_root=root, chunks=chunks, **common)
    cls = dict(lasot=LaSOTDataset, lasot_ext=LaSOTExtDataset, tnl2k=TNL2KDataset,
               itb=ITBDataset)[args.dataset]
    return cls(data_root=root, **common)


def labels_for(args):
    if args.labels:
        if len(args.labels) != len(args.results):
            raise SystemExit(f'error: {len(args.labels)} --labels for {len(args.results)} '
                             '--results folders')
        return list(args.labels)
    labels = []
    for d in args.results:
        name = osp.basename(osp.normpath(d))
        labels.append(name if name not in labels else f'{name}_{len(labels)}')
    return labels


def format_table(dataset: str, rows, absent: str = 'pytracking') -> str:
    cols = (['AO', 'SR0.5', 'SR0.75'] if dataset == 'got10k' else []) + \
        ['AUC', 'P@20', 'NP@0.2']
    keys = (['ao', 'sr50', 'sr75'] if dataset == 'got10k' else []) + \
        ['auc', 'precision', 'norm_precision']
    width = max([len('results')] + [len(r[0]) for r in rows])
    lines = [f'{"results":<{width}}  ' + '  '.join(f'{c:>7}' for c in cols)]
    lines.append('-' * len(lines[0]))
    for label, metrics in rows:
        lines.append(f'{label:<{width}}  ' +
                     '  '.join(f'{100 * metrics[k]:7.2f}' for k in keys))
    ope = ('OSTrack/pytracking extract_results rules, every frame counted'
           if absent == 'pytracking' else f'OSTrack/pytracking rules, absent={absent!r}')
    note = f'(%; AO/SR: GOT-10k toolkit; AUC/P/NP: {ope})' if dataset == 'got10k' \
        else f'(%; {ope})'
    if dataset == 'trackingnet':
        note += "\n(NP@0.2 = the curve at 0.20, not the TrackingNet server's area under it)"
    return '\n'.join(lines + [note])


def plot(path, title, xlabel, ylabel, series, xlim):
    fig, ax = plt.subplots(figsize=(6, 5))
    for label, score, x, y in sorted(series, key=lambda s: -s[1]):
        ax.plot(x, y, linewidth=2, label=f'[{score:.3f}] {label}')
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, xlim=xlim, ylim=(0, 1.02))
    ax.grid(True, linestyle=':')
    ax.legend(loc='lower left' if 'Success' in title else 'lower right', fontsize=9)
    fig.tight_layout()
    tmp = path + '.tmp.png'
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    labels = labels_for(args)
    for d in args.results:
        if not osp.isdir(d):
            raise SystemExit(f'error: result folder not found: {d}')
    try:
        dataset = build_dataset(args)
        sequences = load_sequences_gt(dataset)
        results = [evaluate_result_dir(sequences, d, args.dataset, args.layout,
                                       absent=args.absent) for d in args.results]
    except (SOTResultError, SOTAnnotationError, ValueError) as e:
        raise SystemExit(f'error: {e}')
    rows = [(lab, r['metrics']) for lab, r in zip(labels, results)]
    title = TITLES[args.dataset]
    print(f'{title}: {len(sequences)} sequences, {sum(s["num_frames"] for s in sequences)} '
          'frames')
    print(format_table(args.dataset, rows, results[0]['rules']['absent']))

    os.makedirs(args.out_dir, exist_ok=True)
    succ_key = 'ao' if args.dataset == 'got10k' else 'auc'
    plot(osp.join(args.out_dir, 'success_plot.png'), f'Success plot on {title}',
         'Overlap threshold', 'Success rate',
         [(lab, r['metrics'][succ_key], r['curves']['success_thresholds'],
           r['curves']['success']) for lab, r in zip(labels, results)], (0, 1))
    plot(osp.join(args.out_dir, 'precision_plot.png'), f'Precision plot on {title}',
         'Location error threshold (pixels)', 'Precision',
         [(lab, r['metrics']['precision'], r['curves']['precision_thresholds'],
           r['curves']['precision']) for lab, r in zip(labels, results)], (0, 50))
    summary = {lab: dict(result_dir=d, metrics=r['metrics'], per_sequence=r['per_sequence'],
                         rules=r['rules'],
                         curves={k: np.asarray(v).tolist() for k, v in r['curves'].items()})
               for lab, d, r in zip(labels, args.results, results)}
    with open(osp.join(args.out_dir, 'metrics.json'), 'w') as f:
        json.dump(dict(dataset=args.dataset, gt_root=args.gt_root, results=summary), f, indent=1)
    print(f'plots and metrics.json written to {args.out_dir}')
    return {lab: r['metrics'] for lab, r in zip(labels, results)}


if __name__ == '__main__':
    main()
