"""Evaluate saved SOT result folders against a dataset's ground truth (no
model): used by ``tools/analysis_tools/eval_sot.py`` and usable after
``tools/test.py`` (e.g. when a resumed run skipped finished sequences)."""
from typing import Dict, List, Optional

import numpy as np

from .sot_metrics import (GOT10K_THRESHOLDS, NORM_PRECISION_THRESHOLDS, PRECISION_THRESHOLDS,
                          SUCCESS_THRESHOLDS, evaluate_got10k, evaluate_ope)
from .sot_results import read_sot_result

__all__ = ['DATASET_LAYOUTS', 'load_sequences_gt', 'evaluate_result_dir']

#: dataset name -> result layout of its official toolkit / server.
DATASET_LAYOUTS = dict(got10k='got10k', lasot='lasot', lasot_ext='lasot_ext',
                       trackingnet='trackingnet', tnl2k='tnl2k', itb='itb')


def load_sequences_gt(dataset) -> List[dict]:
    """Ground truth of every sequence of a ``BaseSOTDataset``:
    ``name``, ``gt`` (N, 4) xywh, ``visible`` (N,), ``bound`` ``(W, H)`` or
    None, ``num_frames``.

    Raises:
        ValueError: a sequence has only its first box (test splits).
    """
    out = []
    for i in range(dataset.num_videos):
        seq = dataset.get_sequence(i)
        if not seq['ann_complete']:
            raise ValueError(
                f'sequence {seq["video_name"]!r} has only its first-frame box (a test split): '
                'its ground truth is withheld; submit the result files to the evaluation server')
        shape = seq['img_shape']
        out.append(dict(name=seq['video_name'], gt=seq['gt_bboxes'].astype(np.float64),
                        visible=seq['visible'], num_frames=seq['num_frames'],
                        bound=(shape[1], shape[0]) if shape else None))
    return out


def evaluate_result_dir(sequences: List[dict], result_dir: str, dataset_name: str,
                        layout: Optional[str] = None) -> Dict:
    """Score one result folder.

    Args:
        sequences: :func:`load_sequences_gt` output.
        result_dir (str): Folder in the ``layout`` (``{seq}.txt`` or
            ``{seq}/{seq}_001.txt``; the other one is tried too).
        dataset_name (str): Picks the conventions: ``'got10k'`` -> GOT-10k
            AO/SR (+ OPE numbers with pytracking's rules), others -> OPE with
            that dataset's preset.
        layout (str, optional): Defaults to the dataset's.

    Returns:
        dict: ``metrics`` (fractions), ``curves`` (``success``/``precision``/
        ``norm_precision`` with their ``*_thresholds``) and ``per_sequence``.

    Raises:
        SOTResultError: a missing or short result file (named).
    """
    layout = layout or DATASET_LAYOUTS.get(dataset_name, 'pytracking')
    preds = [read_sot_result(result_dir, s['name'], layout, s['num_frames']) for s in sequences]
    gts = [s['gt'] for s in sequences]
    vis = [s['visible'] for s in sequences]
    ope = evaluate_ope(preds, gts, vis, dataset=dataset_name)
    metrics = dict(auc=ope['auc'], precision=ope['precision'],
                   norm_precision=ope['norm_precision'])
    curves = dict(success=ope['success_curve'], success_thresholds=SUCCESS_THRESHOLDS,
                  precision=ope['precision_curve'], precision_thresholds=PRECISION_THRESHOLDS,
                  norm_precision=ope['norm_precision_curve'],
                  norm_precision_thresholds=NORM_PRECISION_THRESHOLDS)
    per_seq = {s['name']: dict(auc=float(r['success'].mean()) if r is not None else None)
               for s, r in zip(sequences, ope['per_sequence'])}
    if dataset_name == 'got10k':
        got = evaluate_got10k(preds, gts, vis, [s['bound'] for s in sequences])
        metrics = dict(ao=got['ao'], sr50=got['sr50'], sr75=got['sr75'], **metrics)
        curves['success'] = got['success_curve']
        curves['success_thresholds'] = GOT10K_THRESHOLDS
        for s, ao in zip(sequences, got['per_sequence_ao']):
            per_seq[s['name']]['ao'] = ao
    return dict(metrics=metrics, curves=curves, per_sequence=per_seq)
