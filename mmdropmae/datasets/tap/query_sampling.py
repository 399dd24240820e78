"""Query sampling of the TAP-Vid evaluation, as google-deepmind/tapnet
``tapnet/tapvid/evaluation_datasets.py`` (``sample_queries_first``,
``sample_queries_strided``) does it.

Both take the tracks of one video *already scaled to raster coordinates*
of the evaluation resolution (the readers multiply the [0, 1] points by
``(W, H)`` of the resized frames) and return queries ``(t, y, x)`` in the
same coordinates (the reference docstrings say "[-1, 1]", but the code
passes the scaled points through unchanged: we follow the code).

- ``'first'``: tracks never visible are dropped; each remaining track gets
  one query, at its first visible frame.
- ``'strided'``: for ``i = 0, query_stride, 2 * query_stride, ...`` every
  track visible at frame ``i`` gets a query at ``i``; a track is repeated
  once per such frame (``trackgroup`` holds the source track of each
  query). Queries are ordered by query frame, then by track.

Unlike the reference, the video is not part of the inputs or outputs (the
loaders keep frames apart so that the data sample stays small), and the
leading batch axis of size 1 is left out.
"""
from typing import Dict

import numpy as np

__all__ = ['sample_queries_first', 'sample_queries_strided', 'sample_queries']


def _check(target_occluded: np.ndarray, target_points: np.ndarray):
    occ = np.asarray(target_occluded)
    pts = np.asarray(target_points)
    if occ.ndim != 2:
        raise ValueError(f'occluded must be (n_tracks, n_frames), got {occ.shape}')
    if pts.shape != occ.shape + (2, ):
        raise ValueError(f'points must be (n_tracks, n_frames, 2) = {occ.shape + (2, )}, '
                         f'got {pts.shape}')
    return occ.astype(bool), pts


def sample_queries_first(target_occluded: np.ndarray,
                         target_points: np.ndarray) -> Dict[str, np.ndarray]:
    """Query each track at its first visible frame.

    Args:
        target_occluded (np.ndarray): (n_tracks, n_frames) bool, True =
            occluded.
        target_points (np.ndarray): (n_tracks, n_frames, 2) ``(x, y)``.

    Returns:
        dict: ``query_points`` (n, 3) ``(t, y, x)``, ``target_points``
        (n, n_frames, 2), ``occluded`` (n, n_frames), ``trackgroup`` (n,)
        indices of the kept tracks (n: tracks visible at least once).
    """
    occ, pts = _check(target_occluded, target_points)
    valid = np.sum(~occ, axis=1) > 0
    pts, occ = pts[valid], occ[valid]
    first = np.argmax(~occ, axis=1) if len(occ) else np.zeros(0, np.int64)
    rows = np.arange(len(pts))
    # float64 like the reference's np.array([index, y, x])
    query = np.stack([first.astype(np.float64), pts[rows, first, 1], pts[rows, first, 0]],
                     axis=-1) if len(pts) else np.zeros((0, 3))
    return dict(query_points=query, target_points=pts, occluded=occ,
                trackgroup=np.nonzero(valid)[0])


def sample_queries_strided(target_occluded: np.ndarray,
                           target_points: np.ndarray,
                           query_stride: int = 5) -> Dict[str, np.ndarray]:
    """Query every track visible at frames ``0, query_stride, ...``.

    Args:
        target_occluded (np.ndarray): (n_tracks, n_frames) bool.
        target_points (np.ndarray): (n_tracks, n_frames, 2) ``(x, y)``.
        query_stride (int): Frame stride. TAP-Vid: 5.

    Returns:
        dict: ``query_points`` (n, 3), ``target_points`` (n, n_frames, 2),
        ``occluded`` (n, n_frames), ``trackgroup`` (n,) source track of each
        query.
    """
    if query_stride < 1:
        raise ValueError(f'query_stride must be >= 1, got {query_stride}')
    occ, pts = _check(target_occluded, target_points)
    groups = np.arange(occ.shape[0])
    queries, tracks, occs, trackgroups = [], [], [], []
    for i in range(0, occ.shape[1], query_stride):
        mask = ~occ[:, i]
        query = np.stack([i * np.ones(occ.shape[0:1]), pts[:, i, 1], pts[:, i, 0]], axis=-1)
        queries.append(query[mask])
        tracks.append(pts[mask])
        occs.append(occ[mask])
        trackgroups.append(groups[mask])
    if not queries:
        return dict(query_points=np.zeros((0, 3)), target_points=pts[:0], occluded=occ[:0],
                    trackgroup=groups[:0])
    return dict(query_points=np.concatenate(queries, 0),
                target_points=np.concatenate(tracks, 0),
                occluded=np.concatenate(occs, 0),
                trackgroup=np.concatenate(trackgroups, 0))


def sample_queries(target_occluded: np.ndarray, target_points: np.ndarray,
                   query_mode: str, query_stride: int = 5) -> Dict[str, np.ndarray]:
    """:func:`sample_queries_first` or :func:`sample_queries_strided`."""
    if query_mode == 'first':
        return sample_queries_first(target_occluded, target_points)
    if query_mode == 'strided':
        return sample_queries_strided(target_occluded, target_points, query_stride)
    raise ValueError(f'Unknown query mode {query_mode}.')
