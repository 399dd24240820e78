"""One-pass-evaluation (OPE) and GOT-10k metrics of single-object tracking,
as pure numpy functions on ``x, y, w, h`` boxes (pixels, 0-based).

Conventions (which toolkit, and why)
------------------------------------
Two families of official toolkits disagree on details; each function names the
one it follows. Both use **strict** ``IoU > threshold`` for success and
``error <= threshold`` for precision.

**OPE (LaSOT, LaSOT_ext, TrackingNet, TNL2K, ITB, OTB-style)** follows
pytracking ``pytracking/analysis/extract_results.py`` (which OSTrack and
DropTrack use to report their LaSOT/TNL2K numbers, so our numbers compare with
the paper's) and agrees with the LaSOT MATLAB toolkit on every point below:

* success curve over the 21 thresholds ``0:0.05:1`` (``i * 0.05``),
  ``IoU > t``; **AUC = the mean of the 21 success rates** (not a trapezoid
  integral);
* IoU and centres in the *pixel-inclusive* convention of both toolkits: a box
  covers ``x .. x + w - 1``; centre ``x + (w - 1) / 2``; intersection
  ``max(0, min(r1, r2) - max(l1, l2) + 1)``. (Algebraically this IoU equals
  the continuous one, and centre *differences* are the same in both
  conventions, so the choice never changes a number; we keep the toolkits'
  formulas.) IoU is clipped to ``[0, 1]``, so identical boxes give exactly 1,
  which is **not** ``> 1.0``: a perfect tracker scores AUC = 20/21 = 0.952
  (as in pytracking, the LaSOT and the OTB toolkits);
* precision: centre distance ``<= t`` for ``t = 0..50`` px, reported at 20 px;
* normalised precision: centres divided by the ground-truth ``w`` and ``h``
  (per axis) before the distance, thresholds ``0:0.01:0.5``, reported at
  **0.20** (pytracking's ``Norm Precision``; the TrackingNet server instead
  averages this curve over 0-0.5, see ``docs/sot_evaluation.md``);
* **first frame counted**, with the prediction replaced by the ground truth
  (both toolkits do ``pred[0] = gt[0]``);
* a prediction that is NaN or has ``w <= 0`` or ``h <= 0`` is replaced by the
  previous frame's prediction (LaSOT toolkit rule; pytracking does the same
  for zero sizes);
* frames whose target is absent (not ``visible``, or a ground-truth box with
  ``w <= 0`` / ``h <= 0``): ``absent='fail'`` (LaSOT, LaSOT_ext: both toolkits
  divide by the full sequence length, so an absent frame counts as a failure
  at every threshold) or ``absent='exclude'`` (pytracking for every other
  dataset: such frames leave the numerator and the denominator);
* **sequence-averaged**: each sequence gets its own curves, the dataset curve
  is their mean (every sequence weighs the same).

Deviation: the LaSOT MATLAB toolkit gives a zero-size-but-not-absent ground
truth a centre error of -1 (a precision *success*); we count it as a failure
like pytracking. Real LaSOT annotations mark such frames absent anyway.

**GOT-10k** follows the official toolkit ``got10k/experiments/got10k.py``
(``report`` and ``_evaluate``) and ``got10k/utils/metrics.py::rect_iou``:

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
    'GOT10K_THRESHOLDS', 'OPE_PRESETS', 'xyxy_to_xywh', 'xywh_to_xyxy', 'iou_pixel',
    'iou_continuous', 'center_error', 'fill_invalid_predictions', 'sequence_ope', 'summarize_ope',
    'sequence_got10k_ious', 'summarize_got10k', 'ope_preset', 'evaluate_ope', 'evaluate_got10k'
]

#: OPE success thresholds 0, 0.05, ..., 1 (pytracking: ``arange(0, 1.05, .05)``).
SUCCESS_THRESHOLDS = np.arange(21, dtype=np.float64) * 0.05
#: Precision thresholds in pixels, 0..50.
PRECISION_THRESHOLDS = np.arange(51, dtype=np.float64)
#: Normalised-precision thresholds 0, 0.01, ..., 0.5.
NORM_PRECISION_THRESHOLDS = np.arange(51, dtype=np.float64) / 100.0
#: Index of 20 px / 0.20 in the precision threshold sets.
PRECISION_INDEX = 20
#: GOT-10k toolkit success-curve thresholds.
GOT10K_THRESHOLDS = np.linspace(0, 1, 101)


def xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    """``x1, y1, x2, y2`` -> ``x, y, w, h`` (``w = x2 - x1``) in ``float64``
    (:func:`mmdropmae.structures.bbox.box_xyxy_to_xywh`)."""
    return box_xyxy_to_xywh(np.asarray(boxes, dtype=np.float64))


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """``x, y, w, h`` -> ``x1, y1, x2, y2`` (``x2 = x + w``) in ``float64``
    (:func:`mmdropmae.structures.bbox.box_xywh_to_xyxy`)."""
    return box_xywh_to_xyxy(np.asarray(boxes, dtype=np.float64))


def iou_pixel(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU of (N, 4) xywh boxes in the pixel-inclusive convention of
    pytracking / the LaSOT toolkit (a box spans ``x .. x + w - 1``)."""
    pred = np.asarray(pred, np.float64).reshape(-1, 4)
    gt = np.asarray(gt, np.float64).reshape(-1, 4)
    tl = np.maximum(pred[:, :2], gt[:, :2])
    br = np.minimum(pred[:, :2] + pred[:, 2:] - 1.0, gt[:, :2] + gt[:, 2:] - 1.0)
    inter = np.clip(br - tl + 1.0, 0, None).prod(1)
    union = pred[:, 2:].prod(1) + gt[:, 2:].prod(1) - inter
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = inter / union
    return np.clip(np.where(union > 0, iou, 0.0), 0.0, 1.0)


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
    """Centre distance of (N, 4) xywh boxes; centre ``x + (w - 1) / 2``
    (pytracking / LaSOT). ``normalized``: both centres are divided by the
    ground-truth ``w`` (x) and ``h`` (y) first."""
    pred = np.asarray(pred, np.float64).reshape(-1, 4)
    gt = np.asarray(gt, np.float64).reshape(-1, 4)
    pc = pred[:, :2] + 0.5 * (pred[:, 2:] - 1.0)
    gc = gt[:, :2] + 0.5 * (gt[:, 2:] - 1.0)
    if normalized:
        with np.errstate(divide='ignore', invalid='ignore'):
            pc = pc / gt[:, 2:]
            gc = gc / gt[:, 2:]
    return np.sqrt(((pc - gc) ** 2).sum(1))


def fill_invalid_predictions(pred: np.ndarray) -> np.ndarray:
    """Replace predictions that are NaN/inf or have ``w <= 0`` or ``h <= 0``
    by the previous frame's (the LaSOT toolkit's rule; frame 0 is left)."""
    pred = np.asarray(pred, np.float64).reshape(-1, 4).copy()
    if len(pred) == 0:
        return pred
    with np.errstate(invalid='ignore'):
        ok = np.isfinite(pred).all(1) & (pred[:, 2] > 0) & (pred[:, 3] > 0)
    ok[0] = True
    src = np.maximum.accumulate(np.where(ok, np.arange(len(pred)), 0))
    return pred[src]


def _valid_gt(gt: np.ndarray, visible: Optional[np.ndarray]) -> np.ndarray:
    valid = np.isfinite(gt).all(1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)
    if visible is not None:
        valid &= np.asarray(visible, bool).reshape(-1)
    return valid


def sequence_ope(pred: np.ndarray, gt: np.ndarray, visible: Optional[np.ndarray] = None,
                 absent: str = 'exclude', first_frame: str = 'gt') -> Optional[dict]:
    """OPE curves of one sequence (pytracking / LaSOT toolkit conventions,
    see the module docstring).

    Args:
        pred (np.ndarray): (N, 4) predicted xywh boxes.
        gt (np.ndarray): (N, 4) ground-truth xywh boxes.
        visible (np.ndarray, optional): (N,) bool; None = all visible.
        absent (str): ``'fail'`` (LaSOT: absent frames stay in the
            denominator and fail) or ``'exclude'`` (pytracking default).
        first_frame (str): ``'gt'`` (prediction replaced by the ground truth,
            the toolkits' rule), ``'pred'`` (scored as given) or
            ``'exclude'`` (dropped).

    Returns:
        dict | None: ``success`` (21,), ``precision`` (51,),
        ``norm_precision`` (51,), ``ious`` (N,) (-1 on invalid frames),
        ``mean_iou`` (over valid frames), ``num_frames`` (the denominator),
        ``num_valid``; None when the denominator is 0 (no valid frame).
    """
    gt = np.asarray(gt, np.float64).reshape(-1, 4)
    pred = np.asarray(pred, np.float64).reshape(-1, 4)
    if len(pred) != len(gt):
        raise ValueError(f'{len(pred)} predictions for {len(gt)} ground-truth boxes')
    if absent not in ('fail', 'exclude'):
        raise ValueError(f"absent must be 'fail' or 'exclude', got {absent!r}")
    if first_frame not in ('gt', 'pred', 'exclude'):
        raise ValueError(f"first_frame must be 'gt', 'pred' or 'exclude', got {first_frame!r}")
    pred = fill_invalid_predictions(pred)
    if first_frame == 'gt':
        pred[0] = gt[0]
    valid = _valid_gt(gt, visible)
    gt_safe = np.where(np.isfinite(gt), gt, 0.0)
    ious = iou_pixel(pred, gt_safe)
    with np.errstate(invalid='ignore'):
        ce = center_error(pred, gt_safe)
        nce = center_error(pred, gt_safe, normalized=True)
    ious[~valid] = -1.0
    ce[~valid] = np.inf
    nce[~valid] = np.inf
    if first_frame == 'exclude':
        ious, ce, nce, valid = ious[1:], ce[1:], nce[1:], valid[1:]
    denom = len(ious) if absent == 'fail' else int(valid.sum())
    if denom <= 0:
        return None
    success = (ious[:, None] > SUCCESS_THRESHOLDS[None]).sum(0) / denom
    precision = (ce[:, None] <= PRECISION_THRESHOLDS[None]).sum(0) / denom
    norm_precision = (nce[:, None] <= NORM_PRECISION_THRESHOLDS[None]).sum(0) / denom
    return dict(success=success, precision=precision, norm_precision=norm_precision,
                ious=ious, mean_iou=float(ious[valid].mean()) if valid.any() else 0.0,
                num_frames=denom, num_valid=int(valid.sum()))


def summarize_ope(seq_results: Sequence[Optional[dict]]) -> dict:
    """Sequence-averaged OPE summary.

    Args:
        seq_results: outputs of :func:`sequence_ope`; ``None`` entries
            (sequences without a valid frame) are left out.

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


#: Per-dataset OPE presets: (absent, first_frame).
OPE_PRESETS: Dict[str, Tuple[str, str]] = {
    'lasot': ('fail', 'gt'),
    'lasot_ext': ('fail', 'gt'),
    'trackingnet': ('exclude', 'gt'),
    'tnl2k': ('exclude', 'gt'),
    'itb': ('exclude', 'gt'),
    'got10k': ('exclude', 'gt'),
    'otb': ('exclude', 'gt'),
    'default': ('exclude', 'gt'),
}


def ope_preset(dataset: str) -> Tuple[str, str]:
    """``(absent, first_frame)`` for a dataset name (pytracking's choices)."""
    return OPE_PRESETS.get(dataset.lower(), OPE_PRESETS['default'])


def evaluate_ope(preds: List[np.ndarray], gts: List[np.ndarray],
                 visibles: Optional[List[np.ndarray]] = None, dataset: str = 'default',
                 absent: Optional[str] = None, first_frame: Optional[str] = None) -> dict:
    """:func:`sequence_ope` on every sequence + :func:`summarize_ope`, with
    the dataset's preset unless ``absent``/``first_frame`` are given.
    ``per_sequence`` (list of dicts or None) is added to the summary."""
    p_absent, p_first = ope_preset(dataset)
    absent = absent or p_absent
    first_frame = first_frame or p_first
    visibles = visibles if visibles is not None else [None] * len(gts)
    seqs = [sequence_ope(p, g, v, absent=absent, first_frame=first_frame)
            for p, g, v in zip(preds, gts, visibles)]
    out = summarize_ope(seqs)
    out['per_sequence'] = seqs
    out['absent'], out['first_frame'] = absent, first_frame
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
