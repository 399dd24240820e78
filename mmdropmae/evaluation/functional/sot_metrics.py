"""One-pass-evaluation (OPE) and GOT-10k metrics of single-object tracking,
as pure numpy functions on ``x, y, w, h`` boxes (pixels, 0-based).

Two families of official code disagree on details; each function names the
one it follows. See ``docs/sot_evaluation.md`` for the table per dataset.

OPE (LaSOT, LaSOT_ext, TrackingNet, TNL2K, ITB, OTB-style)
----------------------------------------------------------
Follows the analysis code DropTrack's and OSTrack's LaSOT / LaSOT_ext / TNL2K
/ ITB numbers come from: ``lib/test/analysis/extract_results.py`` of
botaoye/OSTrack (identical in jimmy-dq/DropTrack), functions
``calc_err_center``, ``calc_iou_overlap``, ``calc_seq_err_robust`` and
``extract_results`` with its default ``exclude_invalid_frames=False``, and
``lib/test/analysis/plot_results.py`` (``get_auc_curve``, ``get_prec_curve``)
for the summary. These are pytracking's ``pytracking/analysis/`` files
(visionml/pytracking); see "valid frame" below for the one later change
there. Per sequence:

* **predictions** (``calc_seq_err_robust``): a predicted box with ``w == 0``
  or ``h == 0`` in frames 1.. is replaced by the previous frame's (already
  replaced) prediction; this happens *before* frame 0 is overwritten, so
  frame 1 may inherit the raw frame-0 prediction. The reference raises on a
  NaN prediction or a negative size; we replace those by the previous frame's
  box as well (the LaSOT MATLAB toolkit's ``calc_seq_err_robust.m`` rule), so
  every number the reference produces is unchanged;
* **first frame** counted, with the prediction replaced by the ground truth
  (``pred_bb[0] = anno_bb[0]``);
* **valid frame**: ground truth ``w > 0`` and ``h > 0``, and the target
  visible where the dataset class provides ``target_visible`` (LaSOT and
  LaSOT_ext: ``~full_occlusion & ~out_of_view``; ``lasotdataset.py``,
  ``lasotextensionsubsetdataset.py``). TNL2K, TrackingNet, ITB and GOT-10k
  pass none (``tnl2kdataset.py``, ``trackingnetdataset.py``,
  ``itbdataset.py``, ``got10kdataset.py``), so there only the box counts and
  GOT-10k's ``absence`` / ``cover`` labels are ignored. (pytracking's master
  since commit da789d1, Aug 2022, requires all four values ``> 0``, i.e.
  ``x = 0`` or ``y = 0`` makes a frame invalid; OSTrack and DropTrack keep
  ``w, h > 0``, which we follow);
* **invalid frame**: overlap **-1** (fails every success threshold), centre
  error **inf** (fails every precision threshold), normalised centre error
  **-1** (*passes* every normalised-precision threshold);
* **LaSOT only** (the sequences' dataset tag ``'lasot'``; LaSOT_ext's tag is
  ``'lasot_extension_subset'`` so it is *not* affected): frames whose target
  is not visible (the labels, not the box) get centre and normalised errors
  **inf** (both fail);
* **denominator = every frame** of the sequence
  (``exclude_invalid_frames=False``), for every dataset;
* IoU in the pixel-inclusive convention (a box spans ``x .. x + w - 1``,
  intersection ``max(0, min(r1, r2) - max(l1, l2) + 1)``), computed with the
  same float64 operations and **not clipped**: identical non-integer boxes
  (frame 0, whose prediction is the ground truth) can come out a rounding
  step above 1 and then pass the threshold 1.0, exactly as there;
* centre ``x + (w - 1) / 2``; normalised error: both centres divided by the
  ground-truth ``w`` (x) and ``h`` (y) before the distance;
* success ``IoU > t`` over the 21 thresholds ``0, 0.05, ..., 1``;
  precision ``error <= t`` for ``t = 0..50`` px; normalised precision
  ``error <= t`` for ``t = 0, 0.01, ..., 0.5``.

Over the dataset (``plot_results.py``): the per-sequence curves are averaged
(every sequence weighs the same); **AUC = the mean of the 21 averaged success
rates** (not a trapezoid), precision = the averaged curve at 20 px, normalised
precision = at **0.20**. A perfect tracker scores AUC = 20/21 (IoU 1 is not
``> 1.0``) on integer boxes, precision 1 and normalised precision 1.

Options (``absent``): ``'pytracking'`` is the rule above, the default of every
preset; ``'fail'`` keeps every frame in the denominator and makes every
invalid frame fail all three measures (normalised error inf too; the LaSOT
MATLAB toolkit's treatment of absent frames); ``'exclude'`` is the cleaner
variant: invalid frames leave numerators and denominator (a sequence without
a valid frame is left out). ``'exclude'`` is *not* the reference's
``exclude_invalid_frames=True``, which divides by the valid frames but still
counts the invalid frames' normalised error -1 as passes (its normalised
precision can exceed 1).

Deviations, none of which changes a number the reference produces: it raises
on NaN ground truth and on NaN / negative-size predictions (we score NaN
ground truth as an invalid frame and fill the predictions, see above); it
truncates a longer prediction file and zero-pads a shorter one (LaSOT:
raises); our readers drop extra rows and refuse short files; its thresholds
come from ``torch.arange``, which on current PyTorch gives
``0.6500000000000001`` and ``0.7500000000000001`` at two places where we use
``13 * 0.05`` and ``15 * 0.05`` (only an IoU equal to one of those two doubles
would differ); it stores the per-sequence rates in float32, we keep float64.

GOT-10k
-------
Follows the official toolkit ``got10k/experiments/got10k.py`` (``report``
and ``_evaluate``) and ``got10k/utils/metrics.py::rect_iou``:

* **first frame excluded** (``boxes[1:]``, ``anno[1:]``);
* frames with ``cover == 0`` (target invisible) excluded; our ``visible`` flag
  (``absence == 0 and cover > 0``) is used;
* *continuous* IoU (a box covers ``[x, x + w)``), both boxes clipped to the
  image (``bound = (W, H)``) first when the image size is known;
* **frame-averaged**: the IoUs of all kept frames of all sequences are
  concatenated, ``AO = mean(IoU)``, ``SR0.5 = mean(IoU > 0.5)``,
  ``SR0.75 = mean(IoU > 0.75)``; the toolkit's success curve has 101
  thresholds ``linspace(0, 1, 101)``;
* a NaN prediction scores IoU 0 (the toolkit would propagate NaN).
  A perfect tracker gets AO = SR0.5 = SR0.75 = 1 (up to the toolkit's
  ``eps`` in the IoU denominator).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmdropmae.structures.bbox import box_xywh_to_xyxy, box_xyxy_to_xywh

__all__ = [
    'SUCCESS_THRESHOLDS', 'PRECISION_THRESHOLDS', 'NORM_PRECISION_THRESHOLDS', 'PRECISION_INDEX',
    'GOT10K_THRESHOLDS', 'ABSENT_RULES', 'FIRST_FRAME_RULES', 'OPE_PRESETS', 'xyxy_to_xywh',
    'xywh_to_xyxy', 'iou_pixel', 'iou_continuous', 'center_error', 'fill_invalid_predictions',
    'valid_gt_frames', 'sequence_ope', 'summarize_ope', 'sequence_got10k_ious',
    'summarize_got10k', 'ope_rules', 'ope_preset', 'evaluate_ope', 'evaluate_got10k'
]

#: OPE success thresholds 0, 0.05, ..., 1 (the reference: ``arange(0, 1.05, 0.05)``).
SUCCESS_THRESHOLDS = np.arange(21, dtype=np.float64) * 0.05
#: Precision thresholds in pixels, 0..50.
PRECISION_THRESHOLDS = np.arange(51, dtype=np.float64)
#: Normalised-precision thresholds 0, 0.01, ..., 0.5.
NORM_PRECISION_THRESHOLDS = np.arange(51, dtype=np.float64) / 100.0
#: Index of 20 px / 0.20 in the precision threshold sets.
PRECISION_INDEX = 20
#: GOT-10k toolkit success-curve thresholds.
GOT10K_THRESHOLDS = np.linspace(0, 1, 101)
#: ``absent`` values of :func:`sequence_ope` (see the module docstring).
ABSENT_RULES = ('pytracking', 'fail', 'exclude')
#: ``first_frame`` values of :func:`sequence_ope`.
FIRST_FRAME_RULES = ('gt', 'pred', 'exclude')


def xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    """``x1, y1, x2, y2`` -> ``x, y, w, h`` (``w = x2 - x1``) in ``float64``
    (:func:`mmdropmae.structures.bbox.box_xyxy_to_xywh`)."""
    return box_xyxy_to_xywh(np.asarray(boxes, dtype=np.float64))


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """``x, y, w, h`` -> ``x1, y1, x2, y2`` (``x2 = x + w``) in ``float64``
    (:func:`mmdropmae.structures.bbox.box_xywh_to_xyxy`)."""
    return box_xywh_to_xyxy(np.asarray(boxes, dtype=np.float64))


def iou_pixel(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU of (N, 4) xywh boxes in the pixel-inclusive convention of the
    OPE reference (OSTrack / pytracking ``extract_results.py::calc_iou_overlap``):
    a box spans ``x .. x + w - 1``.

    The float64 operations are those of the reference, in its order, and the
    result is **not clipped**: two identical non-integer boxes can give a
    value a rounding step above (or below) 1, as there.

    Args:
        pred (np.ndarray): (N, 4) xywh.
        gt (np.ndarray): (N, 4) xywh.

    Returns:
        np.ndarray: (N,) IoUs; 0 where the union is not positive (the
        reference would give NaN or a negative value there; such frames are
        invalid and get -1 in :func:`sequence_ope` anyway).
    """
    pred = np.asarray(pred, np.float64).reshape(-1, 4)
    gt = np.asarray(gt, np.float64).reshape(-1, 4)
    tl = np.maximum(pred[:, :2], gt[:, :2])
    br = np.minimum(pred[:, :2] + pred[:, 2:] - 1.0, gt[:, :2] + gt[:, 2:] - 1.0)
    inter = np.clip(br - tl + 1.0, 0, None).prod(1)
    union = pred[:, 2:].prod(1) + gt[:, 2:].prod(1) - inter
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = inter / union
    return np.where(union > 0, iou, 0.0)


def iou_continuous(pred: np.ndarray, gt: np.ndarray,
                   bound: Optional[Tuple[float, float]] = None) -> np.ndarray:
    """IoU of (N, 4) xywh boxes as in the GOT-10k toolkit ``rect_iou``.

    Args:
        pred, gt (np.ndarray): (N, 4) xywh.
        bound (tuple, optional): ``(W, H)``: both boxes are first clipped to
            the image (``x in [0, W]``, ``w in [0, W - x]``, same for y/h).

    Returns:
        np.ndarray: (N,) in ``[0, 1]``; NaN inputs give 0.
    """
    r1 = np.asarray(pred, np.float64).reshape(-1, 4).copy()
    r2 = np.asarray(gt, np.float64).reshape(-1, 4).copy()
    if bound is not None:
        w_img, h_img = float(bound[0]), float(bound[1])
        for r in (r1, r2):
            r[:, 0] = np.clip(r[:, 0], 0, w_img)
            r[:, 1] = np.clip(r[:, 1], 0, h_img)
            r[:, 2] = np.clip(r[:, 2], 0, w_img - r[:, 0])
            r[:, 3] = np.clip(r[:, 3], 0, h_img - r[:, 1])
    x1 = np.maximum(r1[:, 0], r2[:, 0])
    y1 = np.maximum(r1[:, 1], r2[:, 1])
    x2 = np.minimum(r1[:, 0] + r1[:, 2], r2[:, 0] + r2[:, 2])
    y2 = np.minimum(r1[:, 1] + r1[:, 3], r2[:, 1] + r2[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = r1[:, 2:].prod(1) + r2[:, 2:].prod(1) - inter
    iou = inter / (union + np.finfo(float).eps)
    iou = np.nan_to_num(iou, nan=0.0)
    return np.clip(iou, 0.0, 1.0)


def center_error(pred: np.ndarray, gt: np.ndarray, normalized: bool = False) -> np.ndarray:
    """Centre distance of (N, 4) xywh boxes as OSTrack / pytracking
    ``extract_results.py::calc_err_center``: centre ``x + (w - 1) / 2``;
    ``normalized``: both centres are divided by the ground-truth ``w`` (x)
    and ``h`` (y) first.

    Args:
        pred (np.ndarray): (N, 4) xywh.
        gt (np.ndarray): (N, 4) xywh.
        normalized (bool): Divide by the ground-truth size.

    Returns:
        np.ndarray: (N,) distances (NaN / inf where a ground-truth size is 0
        and ``normalized``).
    """
    pred = np.asarray(pred, np.float64).reshape(-1, 4)
    gt = np.asarray(gt, np.float64).reshape(-1, 4)
    pc = pred[:, :2] + 0.5 * (pred[:, 2:] - 1.0)
    gc = gt[:, :2] + 0.5 * (gt[:, 2:] - 1.0)
    if normalized:
        with np.errstate(divide='ignore', invalid='ignore'):
            pc = pc / gt[:, 2:]
            gc = gc / gt[:, 2:]
    with np.errstate(invalid='ignore'):
        return np.sqrt(((pc - gc) ** 2).sum(1))


def fill_invalid_predictions(pred: np.ndarray) -> np.ndarray:
    """Replace, in frames 1.., a prediction with ``w == 0`` or ``h == 0``
    (the reference ``calc_seq_err_robust`` rule) or one that is NaN / inf or
    has a negative size (where the reference raises; the LaSOT MATLAB
    toolkit's ``calc_seq_err_robust.m`` rule) by the previous frame's, after
    that one's own replacement. Frame 0 is left as it is.

    Args:
        pred (np.ndarray): (N, 4) xywh.

    Returns:
        np.ndarray: (N, 4) float64 copy.
    """
    pred = np.asarray(pred, np.float64).reshape(-1, 4).copy()
    if len(pred) == 0:
        return pred
    with np.errstate(invalid='ignore'):
        ok = np.isfinite(pred).all(1) & (pred[:, 2] > 0) & (pred[:, 3] > 0)
    ok[0] = True
    src = np.maximum.accumulate(np.where(ok, np.arange(len(pred)), 0))
    return pred[src]


def valid_gt_frames(gt: np.ndarray, visible: Optional[np.ndarray] = None) -> np.ndarray:
    """The reference's valid frames: finite ground truth with ``w > 0`` and
    ``h > 0``, and ``visible`` where given.

    Args:
        gt (np.ndarray): (N, 4) xywh.
        visible (np.ndarray, optional): (N,) bool target visibility.

    Returns:
        np.ndarray: (N,) bool.
    """
    gt = np.asarray(gt, np.float64).reshape(-1, 4)
    with np.errstate(invalid='ignore'):
        valid = np.isfinite(gt).all(1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)
    if visible is not None:
        valid &= _as_bool(visible, len(gt))
    return valid


def _as_bool(flags, n: int) -> np.ndarray:
    flags = np.asarray(flags, bool).reshape(-1)
    if len(flags) != n:
        raise ValueError(f'{len(flags)} visibility flags for {n} ground-truth boxes')
    return flags


def sequence_ope(pred: np.ndarray, gt: np.ndarray, visible: Optional[np.ndarray] = None,
                 absent: str = 'pytracking', first_frame: str = 'gt',
                 lasot_rule: bool = False) -> Optional[dict]:
    """OPE curves of one sequence (OSTrack / pytracking
    ``calc_seq_err_robust`` + ``extract_results``; see the module docstring).

    Args:
        pred (np.ndarray): (N, 4) predicted xywh boxes.
        gt (np.ndarray): (N, 4) ground-truth xywh boxes (NaN rows are
            invalid frames).
        visible (np.ndarray, optional): (N,) bool, the reference's
            ``target_visible``: the visibility *labels* (LaSOT:
            ``~full_occlusion & ~out_of_view``). Box validity is computed from
            ``gt`` here. None: the dataset has no such labels.
        absent (str): How invalid frames count: ``'pytracking'`` (the
            reference default: every frame in the denominator; overlap -1,
            centre error inf, normalised error -1), ``'fail'`` (same, but the
            normalised error is inf too) or ``'exclude'`` (invalid frames
            leave numerators and denominator).
        first_frame (str): ``'gt'`` (prediction replaced by the ground
            truth, the reference), ``'pred'`` (scored as given) or
            ``'exclude'`` (dropped).
        lasot_rule (bool): The reference's LaSOT-only rule: frames with
            ``visible`` False get centre and normalised errors inf.

    Returns:
        dict | None: ``success`` (21,), ``precision`` (51,),
        ``norm_precision`` (51,); the per-frame ``ious`` (-1 on invalid
        frames), ``center_errors``, ``norm_center_errors`` and ``valid``
        (N,) (N - 1 with ``first_frame='exclude'``); ``mean_iou`` (over the
        valid frames), ``num_frames`` (the denominator), ``num_valid``. None
        when the denominator is 0 (``'exclude'`` without a valid frame, or
        an empty sequence).
    """
    gt = np.asarray(gt, np.float64).reshape(-1, 4)
    pred = np.asarray(pred, np.float64).reshape(-1, 4)
    if len(pred) != len(gt):
        raise ValueError(f'{len(pred)} predictions for {len(gt)} ground-truth boxes')
    if absent not in ABSENT_RULES:
        raise ValueError(f'absent must be one of {ABSENT_RULES}, got {absent!r}')
    if first_frame not in FIRST_FRAME_RULES:
        raise ValueError(f'first_frame must be one of {FIRST_FRAME_RULES}, got {first_frame!r}')
    if len(gt) == 0:
        return None
    vis = None if visible is None else _as_bool(visible, len(gt))
    valid = valid_gt_frames(gt, vis)
    gt_safe = np.where(np.isfinite(gt), gt, 0.0)
    pred = pred.copy()
    if not np.isfinite(pred[0]).all():  # nothing to fill frame 1 from otherwise
        pred[0] = gt_safe[0]
    pred = fill_invalid_predictions(pred)
    if first_frame == 'gt':
        pred[0] = gt_safe[0]
    ious = iou_pixel(pred, gt_safe)
    ce = center_error(pred, gt_safe)
    nce = center_error(pred, gt_safe, normalized=True)
    ious[~valid] = -1.0
    ce[~valid] = np.inf
    nce[~valid] = np.inf if absent == 'fail' else -1.0
    if lasot_rule and vis is not None:
        ce[~vis] = np.inf
        nce[~vis] = np.inf
    if first_frame == 'exclude':
        ious, ce, nce, valid = ious[1:], ce[1:], nce[1:], valid[1:]
    if absent == 'exclude':
        s_iou, s_ce, s_nce = ious[valid], ce[valid], nce[valid]
    else:
        s_iou, s_ce, s_nce = ious, ce, nce
    denom = len(s_iou)
    if denom == 0:
        return None
    success = (s_iou[:, None] > SUCCESS_THRESHOLDS[None]).sum(0) / denom
    precision = (s_ce[:, None] <= PRECISION_THRESHOLDS[None]).sum(0) / denom
    norm_precision = (s_nce[:, None] <= NORM_PRECISION_THRESHOLDS[None]).sum(0) / denom
    return dict(success=success, precision=precision, norm_precision=norm_precision,
                ious=ious, center_errors=ce, norm_center_errors=nce, valid=valid,
                mean_iou=float(ious[valid].mean()) if valid.any() else 0.0,
                num_frames=denom, num_valid=int(valid.sum()))


def summarize_ope(seq_results: Sequence[Optional[dict]]) -> dict:
    """Sequence-averaged OPE summary (OSTrack / pytracking
    ``plot_results.py::get_auc_curve`` and ``get_prec_curve``).

    Args:
        seq_results: outputs of :func:`sequence_ope`; ``None`` entries
            (sequences without a valid frame under ``absent='exclude'``) are
            left out.

    Returns:
        dict: ``auc`` (mean of the averaged success curve), ``precision``
        (at 20 px), ``norm_precision`` (at 0.20), ``success_rate_50``
        (success at IoU > 0.5), the averaged curves ``success_curve`` (21,),
        ``precision_curve`` (51,), ``norm_precision_curve`` (51,), and
        ``num_sequences``. All rates are fractions in [0, 1].
    """
    res = [r for r in seq_results if r is not None]
    if not res:
        raise ValueError('no sequence with a valid ground-truth frame to evaluate')
    succ = np.mean([r['success'] for r in res], 0)
    prec = np.mean([r['precision'] for r in res], 0)
    nprec = np.mean([r['norm_precision'] for r in res], 0)
    return dict(auc=float(succ.mean()), precision=float(prec[PRECISION_INDEX]),
                norm_precision=float(nprec[PRECISION_INDEX]),
                success_rate_50=float(succ[10]),
                success_curve=succ, precision_curve=prec, norm_precision_curve=nprec,
                num_sequences=len(res))


def sequence_got10k_ious(pred: np.ndarray, gt: np.ndarray, visible: Optional[np.ndarray] = None,
                         bound: Optional[Tuple[float, float]] = None) -> np.ndarray:
    """IoUs of one sequence as the GOT-10k toolkit keeps them: frames 1..N-1
    (first frame excluded) where the target is visible (``cover > 0``),
    continuous IoU with boxes clipped to ``bound = (W, H)``.

    Returns:
        np.ndarray: (K,) IoUs of the kept frames.
    """
    gt = np.asarray(gt, np.float64).reshape(-1, 4)
    pred = np.asarray(pred, np.float64).reshape(-1, 4)
    if len(pred) != len(gt):
        raise ValueError(f'{len(pred)} predictions for {len(gt)} ground-truth boxes')
    keep = np.ones(len(gt), bool) if visible is None else np.asarray(visible, bool).copy()
    keep &= np.isfinite(gt).all(1)
    ious = iou_continuous(pred[1:], np.nan_to_num(gt[1:]), bound=bound)
    return ious[keep[1:]]


def summarize_got10k(seq_ious: Sequence[np.ndarray]) -> dict:
    """Frame-averaged GOT-10k summary over the concatenated IoUs.

    Returns:
        dict: ``ao``, ``sr50`` (IoU > 0.5), ``sr75`` (IoU > 0.75),
        ``success_curve`` (101,) over ``linspace(0, 1, 101)``,
        ``num_frames``.
    """
    ious = np.concatenate([np.asarray(i, np.float64).reshape(-1) for i in seq_ious]) \
        if len(seq_ious) else np.zeros(0)
    if ious.size == 0:
        raise ValueError('no visible frame after the first one to evaluate')
    return dict(ao=float(ious.mean()), sr50=float((ious > 0.5).mean()),
                sr75=float((ious > 0.75).mean()),
                success_curve=(ious[:, None] > GOT10K_THRESHOLDS[None]).mean(0),
                num_frames=int(ious.size))


def _rules(use_visible: bool, lasot_rule: bool = False) -> dict:
    return dict(absent='pytracking', first_frame='gt', use_visible=use_visible,
                lasot_rule=lasot_rule)


#: Per-dataset OPE rules, from the reference's dataset classes
#: (``lib/test/evaluation/*dataset.py`` of OSTrack / DropTrack): ``use_visible``
#: = the class passes ``target_visible`` (LaSOT, LaSOT_ext), ``lasot_rule`` =
#: the sequences' tag is ``'lasot'``. ``'default'`` is the reference's generic
#: path with the visibility flags the caller gives.
OPE_PRESETS: Dict[str, dict] = {
    'lasot': _rules(True, lasot_rule=True),
    'lasot_ext': _rules(True),
    'trackingnet': _rules(False),
    'tnl2k': _rules(False),
    'itb': _rules(False),
    'got10k': _rules(False),
    'otb': _rules(False),
    'default': _rules(True),
}


def ope_rules(dataset: str) -> dict:
    """The OPE rules of a dataset preset (unknown names: ``'default'``).

    Args:
        dataset (str): Preset name (case-insensitive).

    Returns:
        dict: ``absent``, ``first_frame``, ``use_visible``, ``lasot_rule``
        (the :func:`sequence_ope` arguments; ``use_visible`` False means the
        visibility flags are ignored).
    """
    return dict(OPE_PRESETS.get(dataset.lower(), OPE_PRESETS['default']))


def ope_preset(dataset: str) -> Tuple[str, str]:
    """``(absent, first_frame)`` of a dataset preset (:func:`ope_rules` has
    all of its rules)."""
    rules = ope_rules(dataset)
    return rules['absent'], rules['first_frame']


def evaluate_ope(preds: List[np.ndarray], gts: List[np.ndarray],
                 visibles: Optional[List[Optional[np.ndarray]]] = None,
                 dataset: str = 'default', absent: Optional[str] = None,
                 first_frame: Optional[str] = None,
                 use_visible: Optional[bool] = None) -> dict:
    """:func:`sequence_ope` on every sequence + :func:`summarize_ope`, with
    the rules of the dataset preset (:data:`OPE_PRESETS`) unless given.

    Args:
        preds (list[np.ndarray]): (N_i, 4) predicted xywh per sequence.
        gts (list[np.ndarray]): (N_i, 4) ground-truth xywh per sequence.
        visibles (list, optional): (N_i,) bool visibility labels per
            sequence (the reference's ``target_visible``), or None.
        dataset (str): Preset: ``'lasot'``, ``'lasot_ext'``, ``'tnl2k'``,
            ``'trackingnet'``, ``'itb'``, ``'got10k'``, ``'otb'``,
            ``'default'`` (unknown names: ``'default'``).
        absent (str, optional): Override: ``'pytracking'``, ``'fail'`` or
            ``'exclude'`` (the cleaner variant).
        first_frame (str, optional): Override: ``'gt'``, ``'pred'``,
            ``'exclude'``.
        use_visible (bool, optional): Override: use ``visibles`` (True) or
            only the box (False).

    Returns:
        dict: :func:`summarize_ope` plus ``per_sequence`` (list of
        :func:`sequence_ope` dicts or None) and the rules used (``dataset``,
        ``absent``, ``first_frame``, ``use_visible``, ``lasot_rule``).
    """
    rules = ope_rules(dataset)
    for key, value in (('absent', absent), ('first_frame', first_frame),
                       ('use_visible', use_visible)):
        if value is not None:
            rules[key] = value
    if visibles is None or not rules['use_visible']:
        visibles = [None] * len(gts)
    if not len(preds) == len(gts) == len(visibles):
        raise ValueError(f'{len(preds)} predicted sequences for {len(gts)} ground-truth ones')
    seqs = [sequence_ope(p, g, v, absent=rules['absent'], first_frame=rules['first_frame'],
                         lasot_rule=rules['lasot_rule'])
            for p, g, v in zip(preds, gts, visibles)]
    out = summarize_ope(seqs)
    out['per_sequence'] = seqs
    out['dataset'] = dataset.lower()
    out.update(rules)
    return out


def evaluate_got10k(preds: List[np.ndarray], gts: List[np.ndarray],
                    visibles: Optional[List[np.ndarray]] = None,
                    bounds: Optional[List[Optional[Tuple[float, float]]]] = None) -> dict:
    """:func:`sequence_got10k_ious` on every sequence +
    :func:`summarize_got10k`; ``per_sequence_ao`` (list, NaN where a
    sequence kept no frame) is added."""
    visibles = visibles if visibles is not None else [None] * len(gts)
    bounds = bounds if bounds is not None else [None] * len(gts)
    ious = [sequence_got10k_ious(p, g, v, b) for p, g, v, b in zip(preds, gts, visibles, bounds)]
    out = summarize_got10k(ious)
    out['per_sequence_ao'] = [float(i.mean()) if i.size else float('nan') for i in ious]
    return out
