"""Video object segmentation measures of the DAVIS benchmark (pure numpy + cv2).

The definitions follow the official DAVIS 2017 toolkit
(``davisvideochallenge/davis2017-evaluation``: ``davis2017/metrics.py``,
``utils.py``, ``evaluation.py``), semi-supervised task:

- **Region J** (:func:`db_eval_iou`): IoU of the binary masks of one object;
  when both are empty J = 1.
- **Boundary F** (:func:`db_eval_boundary`): the boundary of each mask is the
  1-pixel map of :func:`seg2bmap` (a pixel differing from its east, south or
  south-east neighbour; boundaries sit half a pixel towards the origin). A
  predicted boundary pixel is matched when a ground-truth boundary pixel lies
  within a disk of radius ``ceil(bound_th * image diagonal)`` pixels
  (``bound_th = 0.008``; a ``bound_th >= 1`` is a radius in pixels), and
  vice versa: precision = matched predicted / predicted boundary pixels,
  recall = matched ground-truth / ground-truth boundary pixels, F = their
  harmonic mean (0 when both are 0). Empty boundaries: both empty -> P = R =
  1 (F = 1); prediction empty only -> P = 1, R = 0 (F = 0); ground truth
  empty only -> P = 0, R = 1 (F = 0).
- **Statistics per object** (:func:`db_statistics`) over its evaluated
  frames: mean; recall = fraction of frames with a value ``> 0.5`` (strictly
  greater); decay = mean of the first minus mean of the last of 4
  (overlapping) temporal quantile bins, bin edges ``round(linspace(1, n, 5)
  + 1e-10) - 1``. The toolkit casts the bin edges to ``uint8``, which wraps
  for more than 256 frames; we use ``int64`` (same values below 256 frames).
- **Frames**: the toolkit drops the first frame (its mask is the input) and
  the last frame of every sequence. We generalise the first-frame rule to
  objects that appear later (YouTube-VOS, objects entering mid-video): an
  object is evaluated from the frame *after* its first appearance (its
  reference frame) to the second-to-last frame of the video; on DAVIS 2017,
  where every object is in frame 0, this is exactly the toolkit's rule.
  ``exclude_first=False`` / ``exclude_last=False`` keep those frames.
- **Objects**: the ids present in the ground truth (the toolkit uses ``1 ..
  max id of frame 0``, identical on DAVIS). Frames where an object is absent
  from both masks count J = F = 1 (e.g. after it vanished, if the prediction
  is empty too). The void label 255 of DAVIS annotations is background, as
  in the toolkit (which zeroes it on loading).
- **Summary** (:func:`summarize_vos`): J-Mean, J-Recall, J-Decay, F-... are
  means over *objects* (not sequences) of the per-object statistics; J&F-Mean
  = (J-Mean + F-Mean) / 2. YouTube-VOS reports J and F separately for objects
  of categories seen in training and unseen ones; its overall score is the
  mean of J-Seen, F-Seen, J-Unseen, F-Unseen.
"""
import math
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

__all__ = [
    'db_eval_iou', 'seg2bmap', 'boundary_radius', 'disk', 'boundary_precision_recall',
    'db_eval_boundary', 'db_statistics', 'frame_object_scores', 'sequence_object_records',
    'evaluate_sequence', 'summarize_vos', 'per_sequence_means', 'format_vos_table',
    'GLOBAL_KEYS'
]

#: Column names of the DAVIS global table, in the toolkit's order.
GLOBAL_KEYS = ('J&F-Mean', 'J-Mean', 'J-Recall', 'J-Decay', 'F-Mean', 'F-Recall', 'F-Decay')


def _as_bool(mask) -> np.ndarray:
    if hasattr(mask, 'detach'):
        mask = mask.detach().cpu().numpy()
    return np.asarray(mask).astype(bool)


def db_eval_iou(gt: np.ndarray, pred: np.ndarray,
                void: Optional[np.ndarray] = None) -> Union[float, np.ndarray]:
    """Region similarity J (Jaccard index) of binary masks.

    Args:
        gt (np.ndarray): Ground truth, ``(H, W)`` or ``(T, H, W)``.
        pred (np.ndarray): Prediction of the same shape.
        void (np.ndarray, optional): Pixels to ignore.

    Returns:
        float | np.ndarray: J (per frame for 3-D input); 1 where the union is
        empty.
    """
    gt, pred = _as_bool(gt), _as_bool(pred)
    if gt.shape != pred.shape:
        raise ValueError(f'ground truth {gt.shape} and prediction {pred.shape} differ in shape')
    keep = np.ones_like(gt) if void is None else ~_as_bool(void)
    inter = np.sum(gt & pred & keep, axis=(-2, -1))
    union = np.sum((gt | pred) & keep, axis=(-2, -1))
    j = np.where(union == 0, 1.0, inter / np.maximum(union, 1))
    return float(j) if j.ndim == 0 else j.astype(np.float64)


def seg2bmap(seg: np.ndarray) -> np.ndarray:
    """1-pixel-wide boundary map of a binary mask (DAVIS / BSDS ``seg2bmap``).

    A pixel is on the boundary when it differs from its east, south or
    south-east neighbour; on the last row only the east neighbour is compared,
    on the last column only the south one, and the bottom-right pixel is never
    a boundary. The boundary of a ``s x s`` square away from the border is
    thus the closed ``4 s``-pixel outline of the square shifted half a pixel
    up-left.

    Args:
        seg (np.ndarray): ``(H, W)`` mask (non-zero = foreground).

    Returns:
        np.ndarray: ``(H, W)`` bool boundary map.
    """
    seg = _as_bool(seg)
    if seg.ndim != 2:
        raise ValueError(f'seg2bmap expects a 2-D mask, got shape {seg.shape}')
    east = np.zeros_like(seg)
    south = np.zeros_like(seg)
    south_east = np.zeros_like(seg)
    east[:, :-1] = seg[:, 1:]
    south[:-1, :] = seg[1:, :]
    south_east[:-1, :-1] = seg[1:, 1:]
    b = (seg ^ east) | (seg ^ south) | (seg ^ south_east)
    b[-1, :] = seg[-1, :] ^ east[-1, :]
    b[:, -1] = seg[:, -1] ^ south[:, -1]
    b[-1, -1] = False
    return b


def boundary_radius(shape: Tuple[int, int], bound_th: float = 0.008) -> int:
    """Matching tolerance in pixels: ``bound_th`` itself when ``>= 1``, else
    ``ceil(bound_th * sqrt(H^2 + W^2))`` (0.008 -> 8 px at 480x854)."""
    if bound_th >= 1:
        return int(bound_th)
    return int(math.ceil(bound_th * math.hypot(shape[0], shape[1])))


def disk(radius: int) -> np.ndarray:
    """``uint8`` disk structuring element: ``x^2 + y^2 <= r^2`` on a
    ``(2r+1)^2`` grid (as ``skimage.morphology.disk``)."""
    r = int(radius)
    grid = np.arange(-r, r + 1)
    return ((grid[:, None]**2 + grid[None, :]**2) <= r * r).astype(np.uint8)


def boundary_precision_recall(gt: np.ndarray,
                              pred: np.ndarray,
                              void: Optional[np.ndarray] = None,
                              bound_th: float = 0.008) -> Tuple[float, float, float]:
    """Boundary precision, recall and F of one frame (see the module doc).

    Args:
        gt (np.ndarray): ``(H, W)`` ground-truth mask.
        pred (np.ndarray): ``(H, W)`` predicted mask.
        void (np.ndarray, optional): Pixels removed from both masks first.
        bound_th (float): Tolerance, fraction of the diagonal (< 1) or pixels.

    Returns:
        tuple[float, float, float]: precision, recall, F.
    """
    gt, pred = _as_bool(gt), _as_bool(pred)
    if gt.shape != pred.shape or gt.ndim != 2:
        raise ValueError(f'expected two (H, W) masks of one shape, got {gt.shape} and '
                         f'{pred.shape}')
    if void is not None:
        keep = ~_as_bool(void)
        gt, pred = gt & keep, pred & keep
    radius = boundary_radius(gt.shape, bound_th)
    # Boundaries and their matches are local: work on the bounding box of
    # both masks plus a 2-pixel frame (the boundary lies up to one pixel
    # outside a mask; the image's own last row / column are kept when the box
    # reaches them), which gives exactly the full-image result.
    rows = np.flatnonzero((gt | pred).any(axis=1))
    if rows.size:
        cols = np.flatnonzero((gt | pred).any(axis=0))
        r0, r1 = max(rows[0] - 2, 0), min(rows[-1] + 3, gt.shape[0])
        c0, c1 = max(cols[0] - 2, 0), min(cols[-1] + 3, gt.shape[1])
        gt, pred = gt[r0:r1, c0:c1], pred[r0:r1, c0:c1]
    pred_b = seg2bmap(pred)
    gt_b = seg2bmap(gt)
    n_pred = int(pred_b.sum())
    n_gt = int(gt_b.sum())
    if n_pred == 0 and n_gt == 0:
        return 1.0, 1.0, 1.0
    if n_pred == 0:
        return 1.0, 0.0, 0.0
    if n_gt == 0:
        return 0.0, 1.0, 0.0
    se = disk(radius)
    pred_dil = cv2.dilate(pred_b.astype(np.uint8), se) > 0
    gt_dil = cv2.dilate(gt_b.astype(np.uint8), se) > 0
    precision = float((pred_b & gt_dil).sum()) / n_pred
    recall = float((gt_b & pred_dil).sum()) / n_gt
    if precision + recall == 0:
        return precision, recall, 0.0
    return precision, recall, 2 * precision * recall / (precision + recall)


def db_eval_boundary(gt: np.ndarray,
                     pred: np.ndarray,
                     void: Optional[np.ndarray] = None,
                     bound_th: float = 0.008) -> Union[float, np.ndarray]:
    """Boundary measure F of binary masks, ``(H, W)`` or ``(T, H, W)`` (then
    one F per frame). Argument order as the toolkit: ground truth first."""
    gt, pred = _as_bool(gt), _as_bool(pred)
    if gt.shape != pred.shape:
        raise ValueError(f'ground truth {gt.shape} and prediction {pred.shape} differ in shape')
    if gt.ndim == 2:
        return boundary_precision_recall(gt, pred, void, bound_th)[2]
    if gt.ndim == 3:
        return np.array([
            boundary_precision_recall(gt[t], pred[t], None if void is None else void[t],
                                      bound_th)[2] for t in range(gt.shape[0])
        ])
    raise ValueError(f'db_eval_boundary supports 2-D or 3-D masks, got {gt.ndim}-D')


def db_statistics(values: Sequence[float]) -> Tuple[float, float, float]:
    """Mean, recall (fraction ``> 0.5``) and decay of per-frame values.

    Decay: the frames are cut into 4 overlapping bins at indices
    ``round(linspace(1, n, 5) + 1e-10) - 1``; bin i spans ``[id_i, id_{i+1}]``
    (inclusive); decay = mean(first bin) - mean(last bin). NaN values are
    ignored (``nanmean``); an empty input gives NaNs.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        return float('nan'), float('nan'), float('nan')
    with np.errstate(invalid='ignore'):
        finite = ~np.isnan(v)
        mean = float(np.nanmean(v)) if finite.any() else float('nan')
        recall = float(np.mean((v > 0.5)[finite])) if finite.any() else float('nan')
    ids = (np.round(np.linspace(1, v.size, 5) + 1e-10) - 1).astype(np.int64)
    bins = [v[ids[i]:ids[i + 1] + 1] for i in range(4)]

    def _nanmean(x):
        x = x[~np.isnan(x)]
        return float(x.mean()) if x.size else float('nan')

    decay = _nanmean(bins[0]) - _nanmean(bins[3])
    return mean, recall, decay


def _present_ids(ids: np.ndarray) -> set:
    if ids.dtype == np.uint8:
        return set(np.flatnonzero(np.bincount(ids.ravel(), minlength=256)).tolist())
    return set(np.unique(ids).tolist())


def frame_object_scores(gt_ids: np.ndarray,
                        pred_ids: np.ndarray,
                        object_ids: Optional[Sequence[int]] = None,
                        bound_th: float = 0.008,
                        void: Optional[np.ndarray] = None) -> Dict[int, Tuple[float, float]]:
    """J and F of every object in one frame.

    Args:
        gt_ids (np.ndarray): ``(H, W)`` ground-truth object ids.
        pred_ids (np.ndarray): ``(H, W)`` predicted object ids.
        object_ids (Sequence[int], optional): Objects to score; default: the
            non-zero ids of either map. An object absent from both maps gets
            ``(1.0, 1.0)``.
        bound_th (float): Boundary tolerance.
        void (np.ndarray, optional): Ignored pixels.

    Returns:
        dict[int, tuple[float, float]]: ``{id: (J, F)}``.
    """
    gt_ids = np.asarray(gt_ids)
    pred_ids = np.asarray(pred_ids)
    if gt_ids.shape != pred_ids.shape:
        raise ValueError(f'ground truth {gt_ids.shape} and prediction {pred_ids.shape} differ '
                         'in shape')
    if object_ids is None:
        object_ids = sorted((_present_ids(gt_ids) | _present_ids(pred_ids)) - {0})
    present_gt, present_pred = _present_ids(gt_ids), _present_ids(pred_ids)
    out = {}
    for oid in object_ids:
        oid = int(oid)
        if oid not in present_gt and oid not in present_pred:
            out[oid] = (1.0, 1.0)
            continue
        g, p = gt_ids == oid, pred_ids == oid
        out[oid] = (db_eval_iou(g, p, void), boundary_precision_recall(g, p, void, bound_th)[2])
    return out


def sequence_object_records(video_name: str,
                            frame_scores: Mapping[int, Mapping[int, Tuple[float, float]]],
                            object_ids: Sequence[int],
                            first_frames: Mapping[int, int],
                            num_frames: int,
                            exclude_first: bool = True,
                            exclude_last: bool = True,
                            categories: Optional[Mapping[int, Optional[str]]] = None
                            ) -> List[Dict]:
    """Per-object statistics of one sequence from per-frame scores.

    Args:
        video_name (str): Sequence name.
        frame_scores (Mapping): ``{frame index: {object id: (J, F)}}`` for the
            frames that have ground truth; an object missing from a frame's
            dict counts ``(1, 1)`` (absent from both masks).
        object_ids (Sequence[int]): Objects of the sequence.
        first_frames (Mapping[int, int]): Reference (first-appearance) frame
            per object.
        num_frames (int): Length of the video (for the last-frame rule).
        exclude_first (bool): Drop each object's reference frame.
        exclude_last (bool): Drop the last frame of the video.
        categories (Mapping, optional): Category per object.

    Returns:
        list[dict]: One record per object: ``video_name``, ``object_id``,
        ``name`` (``'{video}_{id}'`` as the toolkit's per-object table),
        ``category``, ``frames`` (evaluated frame indices), ``J`` and ``F``
        (per-frame arrays), ``J-Mean``, ``J-Recall``, ``J-Decay``,
        ``F-Mean``, ``F-Recall``, ``F-Decay``, ``J&F-Mean``.
    """
    records = []
    for oid in sorted(int(i) for i in object_ids):
        start = first_frames.get(oid, 0)
        last = num_frames - 1 if exclude_last else None
        frames = [
            t for t in sorted(frame_scores)
            if (t > start if exclude_first else t >= start) and t != last
        ]
        j = np.array([frame_scores[t].get(oid, (1.0, 1.0))[0] for t in frames], np.float64)
        f = np.array([frame_scores[t].get(oid, (1.0, 1.0))[1] for t in frames], np.float64)
        jm, jr, jd = db_statistics(j)
        fm, fr, fd = db_statistics(f)
        records.append({
            'video_name': video_name,
            'object_id': oid,
            'name': f'{video_name}_{oid}',
            'category': None if categories is None else categories.get(oid),
            'frames': frames,
            'J': j,
            'F': f,
            'J-Mean': jm,
            'J-Recall': jr,
            'J-Decay': jd,
            'F-Mean': fm,
            'F-Recall': fr,
            'F-Decay': fd,
            'J&F-Mean': (jm + fm) / 2,
        })
    return records


def evaluate_sequence(gt_masks: np.ndarray,
                      pred_masks: np.ndarray,
                      video_name: str = 'sequence',
                      object_ids: Optional[Sequence[int]] = None,
                      first_frames: Optional[Mapping[int, int]] = None,
                      exclude_first: bool = True,
                      exclude_last: bool = True,
                      bound_th: float = 0.008,
                      categories: Optional[Mapping[int, Optional[str]]] = None) -> List[Dict]:
    """Evaluate a whole sequence of id maps.

    Args:
        gt_masks (np.ndarray): ``(T, H, W)`` ground-truth ids (255 = void ->
            background).
        pred_masks (np.ndarray): ``(T, H, W)`` predicted ids.
        video_name (str): Name used in the records.
        object_ids (Sequence[int], optional): Default: ids in the ground truth.
        first_frames (Mapping, optional): Default: first frame where each
            object is in the ground truth.
        exclude_first, exclude_last, bound_th, categories: See
            :func:`sequence_object_records` and :func:`db_eval_boundary`.

    Returns:
        list[dict]: Per-object records (see :func:`sequence_object_records`).
    """
    gt_masks = np.asarray(gt_masks)
    pred_masks = np.asarray(pred_masks)
    if gt_masks.shape != pred_masks.shape or gt_masks.ndim != 3:
        raise ValueError(f'expected (T, H, W) ground truth and prediction of one shape, got '
                         f'{gt_masks.shape} and {pred_masks.shape}')
    gt_masks = np.where(gt_masks == 255, 0, gt_masks)
    if first_frames is None:
        first_frames = {}
        for t, g in enumerate(gt_masks):
            for i in np.unique(g).tolist():
                if i != 0:
                    first_frames.setdefault(int(i), t)
    if object_ids is None:
        object_ids = sorted(first_frames)
    scores = {
        t: frame_object_scores(gt_masks[t], pred_masks[t], object_ids, bound_th)
        for t in range(gt_masks.shape[0])
    }
    return sequence_object_records(video_name, scores, object_ids, first_frames,
                                   gt_masks.shape[0], exclude_first, exclude_last, categories)


def _mean(values: Sequence[float]) -> float:
    v = np.asarray(list(values), np.float64)
    return float(v.mean()) if v.size else float('nan')


def summarize_vos(records: Sequence[Dict],
                  seen_categories: Optional[Sequence[str]] = None) -> Dict[str, float]:
    """DAVIS global table (and the YouTube-VOS seen/unseen split).

    Objects without any evaluated frame (e.g. first seen in the last frame)
    are left out and counted in ``num_skipped_objects``.

    Args:
        records (Sequence[dict]): Per-object records of every sequence.
        seen_categories (Sequence[str], optional): Categories of the training
            set. When given, objects with a known category are split into
            seen / unseen and ``J-Seen``, ``F-Seen``, ``J-Unseen``,
            ``F-Unseen`` and ``Overall`` (mean of those four available) are
            added.

    Returns:
        dict[str, float]: :data:`GLOBAL_KEYS` plus ``num_objects``,
        ``num_sequences``, ``num_skipped_objects``.
    """
    valid = [r for r in records if len(r['frames']) > 0]
    out = {}
    for key in GLOBAL_KEYS[1:]:
        out[key] = _mean(r[key] for r in valid)
    out['J&F-Mean'] = (out['J-Mean'] + out['F-Mean']) / 2
    out = {k: out[k] for k in GLOBAL_KEYS}
    if seen_categories is not None:
        seen = set(seen_categories)
        groups = {'Seen': [r for r in valid if r['category'] is not None and r['category'] in seen],
                  'Unseen': [r for r in valid
                             if r['category'] is not None and r['category'] not in seen]}
        parts = []
        for g, rs in groups.items():
            for m in ('J', 'F'):
                out[f'{m}-{g}'] = _mean(r[f'{m}-Mean'] for r in rs)
                parts.append(out[f'{m}-{g}'])
        parts = [p for p in parts if not math.isnan(p)]
        out['Overall'] = float(np.mean(parts)) if parts else float('nan')
    out['num_objects'] = len(valid)
    out['num_sequences'] = len({r['video_name'] for r in valid})
    out['num_skipped_objects'] = len(records) - len(valid)
    return out


def per_sequence_means(records: Sequence[Dict]) -> List[Dict]:
    """Per-sequence J-Mean, F-Mean, J&F-Mean: means over the sequence's
    objects (records without frames skipped), in order of first appearance."""
    order: List[str] = []
    by_seq: Dict[str, List[Dict]] = {}
    for r in records:
        if r['video_name'] not in by_seq:
            order.append(r['video_name'])
            by_seq[r['video_name']] = []
        if len(r['frames']):
            by_seq[r['video_name']].append(r)
    out = []
    for name in order:
        rs = by_seq[name]
        jm, fm = _mean(r['J-Mean'] for r in rs), _mean(r['F-Mean'] for r in rs)
        out.append({'video_name': name, 'num_objects': len(rs), 'J-Mean': jm, 'F-Mean': fm,
                    'J&F-Mean': (jm + fm) / 2})
    return out


def format_vos_table(summary: Mapping[str, float],
                     records: Optional[Sequence[Dict]] = None,
                     title: str = '') -> str:
    """Text tables as printed by the DAVIS toolkit: the global one, then one
    row per object (``{video}_{id}``, J-Mean, F-Mean) and per sequence."""
    lines = []
    head = f' Global results {title}'.rstrip() + ' '
    lines.append(f'{head:-^90}')
    keys = list(GLOBAL_KEYS)
    extra = [k for k in ('J-Seen', 'F-Seen', 'J-Unseen', 'F-Unseen', 'Overall') if k in summary]
    lines.append(''.join(f'{k:>11}' for k in keys + extra))
    lines.append(''.join(f'{summary[k]:>11.3f}' for k in keys + extra))
    if records:
        lines.append(f'{" Per object results ":-^90}')
        lines.append(f'{"Object":<40}{"J-Mean":>10}{"F-Mean":>10}{"J-Recall":>10}'
                     f'{"F-Recall":>10}{"frames":>8}')
        for r in records:
            lines.append(f'{r["name"]:<40}{r["J-Mean"]:>10.3f}{r["F-Mean"]:>10.3f}'
                         f'{r["J-Recall"]:>10.3f}{r["F-Recall"]:>10.3f}{len(r["frames"]):>8d}')
        lines.append(f'{" Per sequence results ":-^90}')
        lines.append(f'{"Sequence":<40}{"J&F-Mean":>10}{"J-Mean":>10}{"F-Mean":>10}'
                     f'{"objects":>8}')
        for s in per_sequence_means(records):
            lines.append(f'{s["video_name"]:<40}{s["J&F-Mean"]:>10.3f}{s["J-Mean"]:>10.3f}'
                         f'{s["F-Mean"]:>10.3f}{s["num_objects"]:>8d}')
    return '\n'.join(lines)
