"""Evaluate saved SOT result folders against a dataset's ground truth (no
model): used by ``tools/analysis_tools/eval_sot.py`` and usable after
``tools/test.py`` (e.g. when a resumed run skipped finished sequences).

The rules are those of :mod:`.sot_metrics` (the same functions
``OPEMetric`` / ``GOT10kMetric`` call): OPE numbers with the dataset's preset
(OSTrack / DropTrack / pytracking ``lib/test/analysis/extract_results.py``),
GOT-10k AO / SR with the official toolkit's rules."""
from typing import Dict, List, Optional

import numpy as np

from .sot_metrics import (GOT10K_THRESHOLDS, NORM_PRECISION_THRESHOLDS, PRECISION_INDEX,
                          PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS, evaluate_got10k,
                          evaluate_ope)
from .sot_results import read_sot_result

__all__ = ['DATASET_LAYOUTS', 'load_sequences_gt', 'label_visibility', 'evaluate_result_dir']

#: dataset name -> result layout of its official toolkit / server.
DATASET_LAYOUTS = dict(got10k='got10k', lasot='lasot', lasot_ext='lasot_ext',
                       trackingnet='trackingnet', tnl2k='tnl2k', itb='itb')


def label_visibility(seq: dict) -> np.ndarray:
    """The visibility *labels* of a sequence entry, without the box check
    that the dataset's ``visible`` includes: the OPE reference's
    ``target_visible`` (OSTrack / pytracking ``lib/test/evaluation/
    lasotdataset.py``: ``~full_occlusion & ~out_of_view``).

    Args:
        seq (dict): ``BaseSOTDataset.get_sequence`` output.

    Returns:
        np.ndarray: (M,) bool. LaSOT-style ``attrs`` (``full_occlusion``,
        ``out_of_view``) give the labels; other datasets (whose reference
        classes pass no ``target_visible``) get ``visible``.
    """
    visible = np.asarray(seq['visible'], bool)
    attrs = seq.get('attrs') or {}
    keys = [k for k in ('full_occlusion', 'out_of_view') if k in attrs]
    if not keys:
        return visible.copy()
    out = np.ones(len(visible), bool)
    for k in keys:
        flags = np.asarray(attrs[k]).reshape(-1)
        if len(flags) != len(out):
            return visible.copy()
        out &= ~(flags > 0)
    return out


def load_sequences_gt(dataset) -> List[dict]:
    """Ground truth of every sequence of a ``BaseSOTDataset``:
    ``name``, ``gt`` (N, 4) xywh, ``visible`` (N,) (the dataset's: labels and
    a valid box), ``target_visible`` (N,) (:func:`label_visibility`),
    ``bound`` ``(W, H)`` or None, ``num_frames``.

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
                        visible=seq['visible'], target_visible=label_visibility(seq),
                        num_frames=seq['num_frames'],
                        bound=(shape[1], shape[0]) if shape else None))
    return out


def evaluate_result_dir(sequences: List[dict], result_dir: str, dataset_name: str,
                        layout: Optional[str] = None, absent: Optional[str] = None,
                        first_frame: Optional[str] = None,
                        use_visible: Optional[bool] = None) -> Dict:
    """Score one result folder.

    Args:
        sequences: :func:`load_sequences_gt` output.
        result_dir (str): Folder in the ``layout`` (``{seq}.txt`` or
            ``{seq}/{seq}_001.txt``; the other one is tried too).
        dataset_name (str): Picks the conventions: ``'got10k'`` -> GOT-10k
            AO/SR (+ OPE numbers with the ``'got10k'`` preset), others -> OPE
            with that dataset's preset (``sot_metrics.OPE_PRESETS``).
        layout (str, optional): Defaults to the dataset's.
        absent, first_frame, use_visible (optional): Overrides of the OPE
            preset (:func:`.sot_metrics.evaluate_ope`), e.g.
            ``absent='exclude'`` for the cleaner variant. GOT-10k AO/SR are
            not affected.

    Returns:
        dict: ``metrics`` (fractions), ``curves`` (``success``/``precision``/
        ``norm_precision`` with their ``*_thresholds``), ``per_sequence``
        (``auc``, ``precision``, ``norm_precision``; GOT-10k also ``ao``) and
        ``rules`` (the OPE rules used).

    Raises:
        SOTResultError: a missing or short result file (named).
    """
    layout = layout or DATASET_LAYOUTS.get(dataset_name, 'pytracking')
    preds = [read_sot_result(result_dir, s['name'], layout, s['num_frames']) for s in sequences]
    gts = [s['gt'] for s in sequences]
    vis = [s['visible'] for s in sequences]
    labels = [s.get('target_visible', s['visible']) for s in sequences]
    ope = evaluate_ope(preds, gts, labels, dataset=dataset_name, absent=absent,
                       first_frame=first_frame, use_visible=use_visible)
    metrics = dict(auc=ope['auc'], precision=ope['precision'],
                   norm_precision=ope['norm_precision'])
    curves = dict(success=ope['success_curve'], success_thresholds=SUCCESS_THRESHOLDS,
                  precision=ope['precision_curve'], precision_thresholds=PRECISION_THRESHOLDS,
                  norm_precision=ope['norm_precision_curve'],
                  norm_precision_thresholds=NORM_PRECISION_THRESHOLDS)
    per_seq = {}
    for s, r in zip(sequences, ope['per_sequence']):
        per_seq[s['name']] = dict(auc=None, precision=None, norm_precision=None) if r is None \
            else dict(auc=float(r['success'].mean()),
                      precision=float(r['precision'][PRECISION_INDEX]),
                      norm_precision=float(r['norm_precision'][PRECISION_INDEX]))
    if dataset_name == 'got10k':
        got = evaluate_got10k(preds, gts, vis, [s['bound'] for s in sequences])
        metrics = dict(ao=got['ao'], sr50=got['sr50'], sr75=got['sr75'], **metrics)
        curves['success'] = got['success_curve']
        curves['success_thresholds'] = GOT10K_THRESHOLDS
        for s, ao in zip(sequences, got['per_sequence_ao']):
            per_seq[s['name']]['ao'] = ao
    rules = {k: ope[k] for k in ('dataset', 'absent', 'first_frame', 'use_visible',
                                 'lasot_rule')}
    return dict(metrics=metrics, curves=curves, per_sequence=per_seq, rules=rules)
