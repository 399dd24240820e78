"""3D single-object tracking metrics: Open3DSOT's overlap, Success and
Precision, in numpy.

Reference: Ghostish/Open3DSOT ``utils/metrics.py`` (``estimateOverlap``,
``estimateAccuracy``, ``TorchSuccess``, ``TorchPrecision``) and the test loop
``models/base_model.py`` (``BaseModel.evaluate_one_sequence``,
``test_step``). Followed exactly, quirks included (docs/point_cloud_tracking.md
lists them):

* Boxes are ``(cx, cy, cz, l, w, h, yaw)`` in LiDAR coordinates (z up, yaw
  about +z from +x, ``l`` along the heading, centre = geometric centre), the
  boxes of Open3DSOT's ``coordinate_mode='velodyne'`` with ``up_axis
  (0, 0, 1)`` (BAT / M2-Track configs).
* Overlap (``IoU_space: 3``) = the BEV intersection area of the two oriented
  footprints times a vertical overlap, divided by ``vol_a + vol_b - inter``.
  The vertical overlap is Open3DSOT's: the boxes are taken to span
  ``[cz - h, cz]`` (the centre is used as if it were the top face), i.e.
  ``max(0, min(cz_a, cz_b) - max(cz_a - h_a, cz_b - h_b))``. This equals the
  true vertical overlap when both heights are equal (it is shift-invariant)
  and differs otherwise; ``vertical='exact'`` gives ``[cz - h/2, cz + h/2]``.
  A zero denominator gives NaN (numpy division, as in the reference), which
  fails every threshold, even 0.
* Accuracy = 3D Euclidean centre distance (``estimateAccuracy(dim=3)``).
* Success = ``trapz`` of the share of frames with ``overlap >= t`` over 21
  thresholds ``linspace(0, 1, 21)``, x 100; Precision = ``trapz`` of the share
  with ``distance <= t`` over ``linspace(0, 2, 21)`` m, x 100 / 2. Overlaps,
  distances and thresholds are compared in float32 (the reference keeps them
  in ``torch.tensor``\\ s of the default dtype), which decides values that
  fall exactly on a threshold.
* Frames are pooled over all sequences (torchmetrics concatenates every
  ``update``), not averaged per sequence; frame 0 counts, with the
  ground-truth box as its prediction (overlap 1, distance 0).

Only numpy is imported (no shapely): the footprints are convex, so their
intersection is computed by Sutherland-Hodgman clipping.
"""
import os
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from mmdropmae.utils.fileio import atomic_write_text, natural_key

__all__ = [
    'SOT3D_SUCCESS_THRESHOLDS', 'SOT3D_PRECISION_THRESHOLDS', 'box3d_bev_corners',
    'polygon_area', 'convex_polygon_intersection', 'bev_intersection_area', 'box3d_overlap',
    'box3d_center_distance', 'success_curve_3d', 'precision_curve_3d', 'success_auc_3d',
    'precision_auc_3d', 'evaluate_sot3d', 'SOT3DResultError', 'read_box3d_file',
    'write_box3d_file', 'evaluate_sot3d_dirs'
]

#: Open3DSOT ``TorchSuccess(n=21, max_overlap=1)``.
SOT3D_SUCCESS_THRESHOLDS = np.linspace(0, 1, 21, dtype=np.float32)
#: Open3DSOT ``TorchPrecision(n=21, max_accuracy=2)`` (metres).
SOT3D_PRECISION_THRESHOLDS = np.linspace(0, 2, 21, dtype=np.float32)


def _trapz(y: np.ndarray, x: np.ndarray) -> float:
    """Trapezoidal area (``torch.trapz(y, x=x)``)."""
    y = np.asarray(y, np.float64)
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.))


def _box(box) -> np.ndarray:
    b = np.asarray(box, dtype=np.float64).reshape(-1)
    if b.shape != (7, ):
        raise ValueError(f'a 3D box is (cx, cy, cz, l, w, h, yaw), got shape {b.shape}')
    return b


def box3d_bev_corners(box) -> np.ndarray:
    """The four footprint corners (4, 2) of a box, counter-clockwise for
    ``l, w > 0`` (the polygon of Open3DSOT's ``Box.bottom_corners``)."""
    cx, cy, _, l, w, _, yaw = _box(box)
    local = np.array([[l / 2, w / 2], [l / 2, -w / 2], [-l / 2, -w / 2], [-l / 2, w / 2]])
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, -s], [s, c]])
    corners = local @ rot.T + np.array([cx, cy])
    return corners[::-1].copy()  # counter-clockwise


def polygon_area(poly: np.ndarray) -> float:
    """Unsigned shoelace area of a polygon (N, 2)."""
    poly = np.asarray(poly, dtype=np.float64)
    if len(poly) < 3:
        return 0.
    x, y = poly[:, 0], poly[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.)


def _ccw(poly: np.ndarray) -> np.ndarray:
    x, y = poly[:, 0], poly[:, 1]
    signed = np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))
    return poly if signed >= 0 else poly[::-1]


def convex_polygon_intersection(subject: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Intersection of two convex polygons (Sutherland-Hodgman clipping).

    Args:
        subject (np.ndarray): (N, 2) vertices, any orientation.
        clip (np.ndarray): (M, 2) vertices of a convex polygon.

    Returns:
        np.ndarray: (K, 2) vertices of the intersection (K = 0 when the
        polygons are disjoint or touch along an edge or a point).
    """
    out = _ccw(np.asarray(subject, dtype=np.float64))
    clip = _ccw(np.asarray(clip, dtype=np.float64))
    if polygon_area(out) == 0 or polygon_area(clip) == 0:
        return np.zeros((0, 2))
    for i in range(len(clip)):
        if len(out) == 0:
            break
        a, b = clip[i], clip[(i + 1) % len(clip)]
        edge = b - a
        # > 0: strictly left of the directed edge a->b (inside for ccw)
        side = edge[0] * (out[:, 1] - a[1]) - edge[1] * (out[:, 0] - a[0])
        new = []
        n = len(out)
        for j in range(n):
            p, q = out[j], out[(j + 1) % n]
            sp, sq = side[j], side[(j + 1) % n]
            if sp >= 0:
                new.append(p)
            if (sp >= 0) != (sq >= 0) and sp != sq:
                t = sp / (sp - sq)
                new.append(p + t * (q - p))
        out = np.array(new) if new else np.zeros((0, 2))
    return out


def bev_intersection_area(box_a, box_b) -> float:
    """Area of the intersection of the two boxes' BEV footprints."""
    inter = convex_polygon_intersection(box3d_bev_corners(box_a), box3d_bev_corners(box_b))
    return polygon_area(inter)


def box3d_overlap(box_a, box_b, dim: int = 3, vertical: str = 'open3dsot') -> float:
    """Open3DSOT's ``estimateOverlap(box_a, box_b, dim, up_axis=(0, 0, 1))``.

    Args:
        box_a, box_b: (7,) boxes ``(cx, cy, cz, l, w, h, yaw)``; ``box_a`` is
            the ground truth (the reference's ``anno``), though the value is
            symmetric.
        dim (int): 3 (volume overlap, ``IoU_space: 3`` of every Open3DSOT
            config) or 2 (BEV IoU: intersection / union of the footprints).
        vertical (str): 'open3dsot' (boxes span ``[cz - h, cz]``, the
            reference's arithmetic) or 'exact' (``[cz - h/2, cz + h/2]``).

    Returns:
        float: The overlap in [0, 1], or NaN for a zero denominator.
    """
    a, b = _box(box_a), _box(box_b)
    inter = bev_intersection_area(a, b)
    if dim == 2:
        union = a[3] * a[4] + b[3] * b[4] - inter
        with np.errstate(divide='ignore', invalid='ignore'):
            return float(np.float64(inter) / np.float64(union))
    if dim != 3:
        raise ValueError(f'dim must be 2 or 3, got {dim}')
    if vertical == 'open3dsot':
        up_max = min(a[2], b[2])
        up_min = max(a[2] - a[5], b[2] - b[5])
    elif vertical == 'exact':
        up_max = min(a[2] + a[5] / 2, b[2] + b[5] / 2)
        up_min = max(a[2] - a[5] / 2, b[2] - b[5] / 2)
    else:
        raise ValueError(f"vertical must be 'open3dsot' or 'exact', got {vertical!r}")
    inter_vol = inter * max(0., up_max - up_min)
    vol_a = a[3] * a[4] * a[5]
    vol_b = b[3] * b[4] * b[5]
    with np.errstate(divide='ignore', invalid='ignore'):
        return float(np.float64(inter_vol) / np.float64(vol_a + vol_b - inter_vol))


def box3d_center_distance(box_a, box_b) -> float:
    """3D Euclidean distance of the centres (``estimateAccuracy(dim=3)``)."""
    return float(np.linalg.norm(_box(box_a)[:3] - _box(box_b)[:3]))


def success_curve_3d(overlaps: Iterable[float],
                     thresholds: np.ndarray = SOT3D_SUCCESS_THRESHOLDS) -> np.ndarray:
    """Share of frames with ``overlap >= t`` per threshold (float32
    comparisons, as the reference's tensors)."""
    o = np.asarray(list(overlaps), dtype=np.float32)
    t = np.asarray(thresholds, dtype=np.float32)
    if o.size == 0:
        return np.zeros(len(t))
    return (o[None, :] >= t[:, None]).mean(axis=1)


def precision_curve_3d(distances: Iterable[float],
                       thresholds: np.ndarray = SOT3D_PRECISION_THRESHOLDS) -> np.ndarray:
    """Share of frames with ``distance <= t`` per threshold (metres)."""
    d = np.asarray(list(distances), dtype=np.float32)
    t = np.asarray(thresholds, dtype=np.float32)
    if d.size == 0:
        return np.zeros(len(t))
    return (d[None, :] <= t[:, None]).mean(axis=1)


def success_auc_3d(overlaps: Iterable[float]) -> float:
    """Open3DSOT Success (percent): ``trapz(curve, x) * 100 / 1``; 0 when no
    frame was given (the reference's empty case)."""
    o = list(overlaps)
    if not o:
        return 0.
    t = SOT3D_SUCCESS_THRESHOLDS.astype(np.float64)
    return float(_trapz(success_curve_3d(o), t) * 100 / t[-1])


def precision_auc_3d(distances: Iterable[float]) -> float:
    """Open3DSOT Precision (percent): ``trapz(curve, x) * 100 / 2``."""
    d = list(distances)
    if not d:
        return 0.
    t = SOT3D_PRECISION_THRESHOLDS.astype(np.float64)
    return float(_trapz(precision_curve_3d(d), t) * 100 / t[-1])


def evaluate_sot3d(preds: Sequence[np.ndarray],
                   gts: Sequence[np.ndarray],
                   first_frame: str = 'gt',
                   vertical: str = 'open3dsot') -> Dict[str, float]:
    """Success and Precision of whole sequences, frames pooled.

    Args:
        preds (Sequence[np.ndarray]): Per sequence, (L, 7) predicted boxes.
        gts (Sequence[np.ndarray]): Per sequence, (L, 7) ground truth.
        first_frame (str): 'gt' (Open3DSOT: frame 0 counts with the
            ground-truth box as the prediction, whatever ``preds`` holds
            there) or 'pred' (frame 0 scored as predicted).
        vertical (str): See :func:`box3d_overlap`.

    Returns:
        dict: ``success`` and ``precision`` (percent), ``num_frames``,
        ``num_sequences``, plus the pooled ``overlaps`` and ``distances``
        lists.
    """
    if first_frame not in ('gt', 'pred'):
        raise ValueError(f"first_frame must be 'gt' or 'pred', got {first_frame!r}")
    if len(preds) != len(gts):
        raise ValueError(f'{len(preds)} predicted sequences for {len(gts)} ground-truth ones')
    overlaps: List[float] = []
    distances: List[float] = []
    for k, (pred, gt) in enumerate(zip(preds, gts)):
        pred = np.asarray(pred, np.float64).reshape(-1, 7)
        gt = np.asarray(gt, np.float64).reshape(-1, 7)
        if len(pred) != len(gt):
            raise ValueError(f'sequence {k}: {len(pred)} predicted boxes for {len(gt)} frames')
        for t in range(len(gt)):
            p = gt[t] if (t == 0 and first_frame == 'gt') else pred[t]
            overlaps.append(box3d_overlap(gt[t], p, vertical=vertical))
            distances.append(box3d_center_distance(gt[t], p))
    return dict(success=success_auc_3d(overlaps), precision=precision_auc_3d(distances),
                num_frames=len(overlaps), num_sequences=len(gts), overlaps=overlaps,
                distances=distances)


# --------------------------------------------------------------------------
# result files: {root}/{seq}.txt, one "cx cy cz l w h yaw" row per frame
# --------------------------------------------------------------------------
class SOT3DResultError(ValueError):
    """A missing or malformed 3D box file (the message names it and the
    line)."""


def read_box3d_file(path: str) -> np.ndarray:
    """Read ``cx cy cz l w h yaw`` rows (spaces, tabs or commas) -> (L, 7)."""
    if not osp.isfile(path):
        raise SOT3DResultError(f'{path}: no such box file')
    rows = []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            parts = line.replace(',', ' ').split()
            if len(parts) != 7:
                raise SOT3DResultError(f'{path}, line {i}: expected 7 values '
                                       f'(cx cy cz l w h yaw), got {len(parts)}: {line!r}')
            try:
                vals = [float(v) for v in parts]
            except ValueError:
                raise SOT3DResultError(f'{path}, line {i}: not a number in {line!r}') from None
            if not np.isfinite(vals).all():
                raise SOT3DResultError(f'{path}, line {i}: non-finite value in {line!r}')
            rows.append(vals)
    if not rows:
        raise SOT3DResultError(f'{path}: empty box file')
    return np.asarray(rows, dtype=np.float64)


def write_box3d_file(path: str, boxes: np.ndarray) -> None:
    """Write (L, 7) boxes as ``cx cy cz l w h yaw`` rows, atomically."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 7)
    text = ''.join(' '.join(f'{v:.6f}' for v in row) + '\n' for row in boxes)
    atomic_write_text(path, text)


def evaluate_sot3d_dirs(pred_dir: str, gt_dir: str,
                        sequences: Optional[Sequence[str]] = None,
                        vertical: str = 'open3dsot') -> Tuple[Dict[str, float], List[str]]:
    """Evaluate ``{pred_dir}/{seq}.txt`` against ``{gt_dir}/{seq}.txt``.

    Every ground-truth sequence (or each of ``sequences``) must have a
    prediction file with as many rows.

    Returns:
        tuple: (the :func:`evaluate_sot3d` dict, the sequence names).
    """
    if not osp.isdir(gt_dir):
        raise SOT3DResultError(f'{gt_dir}: no such ground-truth folder')
    if not osp.isdir(pred_dir):
        raise SOT3DResultError(f'{pred_dir}: no such prediction folder')
    if sequences is None:
        sequences = sorted((f[:-4] for f in os.listdir(gt_dir) if f.endswith('.txt')),
                           key=natural_key)
    if not sequences:
        raise SOT3DResultError(f'{gt_dir}: no {{seq}}.txt ground-truth files')
    preds, gts = [], []
    for seq in sequences:
        gt = read_box3d_file(osp.join(gt_dir, f'{seq}.txt'))
        pfile = osp.join(pred_dir, f'{seq}.txt')
        pred = read_box3d_file(pfile)
        if len(pred) != len(gt):
            raise SOT3DResultError(f'{pfile}: {len(pred)} boxes for the {len(gt)} frames of '
                                   f'sequence {seq!r}')
        preds.append(pred)
        gts.append(gt)
    return evaluate_sot3d(preds, gts, vertical=vertical), list(sequences)
