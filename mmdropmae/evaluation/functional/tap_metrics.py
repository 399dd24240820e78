"""TAP-Vid point-tracking metrics (numpy only).

A faithful port of ``compute_tapvid_metrics`` of google-deepmind/tapnet
(``tapnet/tapvid/evaluation_datasets.py``; older releases:
``tapnet/evaluation_datasets.py``): same signature, shapes, coordinate
conventions and returned keys, so numbers are identical to the TAP-Vid
evaluation code.

Conventions (all from the reference):

- Inputs are *raster* coordinates of the evaluation resolution (the paper's
  numbers: 256x256): ``query_points`` (b, n, 3) as ``(t, y, x)``,
  ``gt_tracks`` / ``pred_tracks`` (b, n, t, 2) as ``(x, y)``, occlusion
  flags (b, n, t) with True = occluded.
- The query frame is ``round(query_points[..., 0])``. ``'first'``: the
  frames *after* the query frame are evaluated (everything before is assumed
  occluded, and the query frame itself is given); ``'strided'``: every frame
  *except* the query frame.
- A point is within ``thresh`` pixels when the squared distance is strictly
  below ``thresh ** 2`` (``<``, not ``<=``), thresholds 1, 2, 4, 8, 16.
- ``pts_within_x`` (delta^x) counts, among ground-truth visible evaluated
  points, those within the threshold, ignoring the predicted occlusion;
  ``jaccard_x`` = TP / (TP + FP + FN) where TP are visible-and-predicted-
  visible points within the threshold and FP are predicted-visible points
  that are occluded or too far; ``occlusion_accuracy`` is the fraction of
  evaluated points whose occlusion flag is right.
- One value per video (or per track with ``get_trackwise_metrics``); the
  benchmark value is the plain mean over videos (:func:`average_tapvid_metrics`).
  A video (track) with no evaluated visible point divides by zero and gives
  nan, exactly as the reference does.
"""
from typing import Dict, Iterable, Mapping

import numpy as np

__all__ = ['TAPVID_THRESHOLDS', 'TAPVID_KEYS', 'compute_tapvid_metrics',
           'average_tapvid_metrics', 'query_frame_eval_mask']

#: Pixel thresholds of ``pts_within_x`` and ``jaccard_x``.
TAPVID_THRESHOLDS = (1, 2, 4, 8, 16)

#: Keys returned by :func:`compute_tapvid_metrics`, in the reference's order.
TAPVID_KEYS = (('occlusion_accuracy', ) +
               tuple(f'pts_within_{t}' for t in TAPVID_THRESHOLDS) +
               tuple(f'jaccard_{t}' for t in TAPVID_THRESHOLDS) +
               ('average_jaccard', 'average_pts_within_thresh'))


def query_frame_eval_mask(query_frame: np.ndarray, num_frames: int,
                          query_mode: str) -> np.ndarray:
    """Which frames are evaluated for each query.

    Args:
        query_frame (np.ndarray): (...,) query frame indices (rounded).
        num_frames (int): Frames of the video.
        query_mode (str): 'first' (frames after the query) or 'strided'
            (all frames but the query's).

    Returns:
        np.ndarray: (..., num_frames) bool.
    """
    eye = np.eye(num_frames, dtype=np.int32)
    if query_mode == 'first':
        table = np.cumsum(eye, axis=1) - eye
    elif query_mode == 'strided':
        table = 1 - eye
    else:
        raise ValueError('Unknown query mode ' + str(query_mode))
    return table[query_frame] > 0


def compute_tapvid_metrics(query_points: np.ndarray,
                           gt_occluded: np.ndarray,
                           gt_tracks: np.ndarray,
                           pred_occluded: np.ndarray,
                           pred_tracks: np.ndarray,
                           query_mode: str,
                           get_trackwise_metrics: bool = False
                           ) -> Dict[str, np.ndarray]:
    """TAP-Vid metrics of a batch of videos (see the module docstring).

    Args:
        query_points (np.ndarray): (b, n, 3) queries ``(t, y, x)``.
        gt_occluded (np.ndarray): (b, n, t) bool, True = occluded.
        gt_tracks (np.ndarray): (b, n, t, 2) ground truth ``(x, y)``.
        pred_occluded (np.ndarray): (b, n, t) bool predicted occlusion.
        pred_tracks (np.ndarray): (b, n, t, 2) predicted ``(x, y)``.
        query_mode (str): 'first' or 'strided'.
        get_trackwise_metrics (bool): One value per track ((b, n) arrays)
            instead of one per video ((b,) arrays).

    Returns:
        dict[str, np.ndarray]: :data:`TAPVID_KEYS` -> (b,) (or (b, n)).
    """
    query_points = np.asarray(query_points)
    gt_occluded = np.asarray(gt_occluded, dtype=bool)
    pred_occluded = np.asarray(pred_occluded, dtype=bool)
    gt_tracks = np.asarray(gt_tracks)
    pred_tracks = np.asarray(pred_tracks)
    if query_points.ndim != 3 or query_points.shape[-1] != 3:
        raise ValueError(f'query_points must be (b, n, 3) (t, y, x), got {query_points.shape}')
    b, n = query_points.shape[:2]
    if gt_tracks.ndim != 4 or gt_tracks.shape[:2] != (b, n) or gt_tracks.shape[-1] != 2:
        raise ValueError(f'gt_tracks must be (b, n, t, 2) with (b, n) = {(b, n)}, got '
                         f'{gt_tracks.shape}')
    t = gt_tracks.shape[2]
    for name, arr, shape in (('pred_tracks', pred_tracks, gt_tracks.shape),
                             ('gt_occluded', gt_occluded, (b, n, t)),
                             ('pred_occluded', pred_occluded, (b, n, t))):
        if arr.shape != shape:
            raise ValueError(f'{name} must have shape {shape}, got {arr.shape}')
    summing_axis = (2, ) if get_trackwise_metrics else (1, 2)
    query_frame = np.round(query_points[..., 0]).astype(np.int32)
    if n and (query_frame.min() < 0 or query_frame.max() >= t):
        raise ValueError(f'query frames must lie in [0, {t}), got '
                         f'[{query_frame.min()}, {query_frame.max()}]')
    evaluation_points = query_frame_eval_mask(query_frame, t, query_mode)

    metrics = {}
    with np.errstate(divide='ignore', invalid='ignore'):
        metrics['occlusion_accuracy'] = np.sum(
            np.equal(pred_occluded, gt_occluded) & evaluation_points,
            axis=summing_axis) / np.sum(evaluation_points, axis=summing_axis)
        visible = ~gt_occluded
        pred_visible = ~pred_occluded
        sq_dist = np.sum(np.square(pred_tracks - gt_tracks), axis=-1)
        gt_positives = np.sum(visible & evaluation_points, axis=summing_axis)
        all_frac, all_jac = [], []
        for thresh in TAPVID_THRESHOLDS:
            within = sq_dist < np.square(thresh)
            is_correct = within & visible
            frac = np.sum(is_correct & evaluation_points, axis=summing_axis) / gt_positives
            metrics[f'pts_within_{thresh}'] = frac
            all_frac.append(frac)
            tp = np.sum(is_correct & pred_visible & evaluation_points, axis=summing_axis)
            fp = ((~visible) & pred_visible) | ((~within) & pred_visible)
            fp = np.sum(fp & evaluation_points, axis=summing_axis)
            jac = tp / (gt_positives + fp)
            metrics[f'jaccard_{thresh}'] = jac
            all_jac.append(jac)
    metrics['average_jaccard'] = np.mean(np.stack(all_jac, axis=1), axis=1)
    metrics['average_pts_within_thresh'] = np.mean(np.stack(all_frac, axis=1), axis=1)
    return {k: metrics[k] for k in TAPVID_KEYS}


def average_tapvid_metrics(per_video: Iterable[Mapping[str, np.ndarray]]) -> Dict[str, float]:
    """Benchmark values: the mean over videos of each key (the reference's
    "simple mean of the metrics across the full set of videos").

    Args:
        per_video (Iterable[Mapping]): Outputs of :func:`compute_tapvid_metrics`
            (each (b,) arrays, concatenated).

    Returns:
        dict[str, float]: :data:`TAPVID_KEYS` -> mean.
    """
    per_video = list(per_video)
    if not per_video:
        raise ValueError('no videos to average')
    return {
        k: float(np.mean(np.concatenate([np.atleast_1d(m[k]) for m in per_video])))
        for k in TAPVID_KEYS
    }
