"""Draw point tracks on video frames and write them as a video.

One colour per track (evenly spaced hues, :func:`track_colors`), a filled
disc where the point is predicted visible and a hollow circle (ring) where it
is predicted occluded, with an optional short trail of the visible
positions. Drawing uses OpenCV (anti-aliased, sub-pixel positions); points
are raster (x, y) pixels (pixel ``i`` covers ``[i, i + 1)``, so OpenCV's
pixel-centre coordinate is ``x - 0.5``).
"""
import os
import os.path as osp
import tempfile
from typing import Iterable, Optional, Sequence

import cv2
import numpy as np

from .tracking_visualizer import track_colors

__all__ = ['draw_tap_frame', 'draw_tap_video', 'write_tap_video']

_SHIFT = 4  # sub-pixel bits of cv2 drawing


def _pt(x: float, y: float):
    s = 1 << _SHIFT
    return int(round((x - 0.5) * s)), int(round((y - 0.5) * s))


def draw_tap_frame(frame: np.ndarray, points: np.ndarray, occluded: np.ndarray,
                   colors: Optional[Sequence[Sequence[int]]] = None, radius: Optional[int] = None,
                   trail: Optional[np.ndarray] = None,
                   trail_visible: Optional[np.ndarray] = None) -> np.ndarray:
    """Draw one frame's points.

    Args:
        frame (np.ndarray): (H, W, 3) uint8 RGB (not modified).
        points (np.ndarray): (N, 2) raster (x, y).
        occluded (np.ndarray): (N,) bool, True = hollow circle.
        colors (list, optional): N RGB colours (default: :func:`track_colors`).
        radius (int, optional): Disc radius (default ``max(2, min(H, W) // 64)``).
        trail (np.ndarray, optional): (L, N, 2) earlier positions, oldest first.
        trail_visible (np.ndarray, optional): (L, N) bool.

    Returns:
        np.ndarray: The drawn copy.
    """
    img = np.ascontiguousarray(frame, dtype=np.uint8).copy()
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    occ = np.asarray(occluded, bool).reshape(-1)
    if len(occ) != len(pts):
        raise ValueError(f'{len(pts)} points but {len(occ)} occlusion flags')
    colors = track_colors(len(pts)) if colors is None else [tuple(int(v) for v in c)
                                                            for c in colors]
    if len(colors) != len(pts):
        raise ValueError(f'{len(colors)} colours for {len(pts)} points')
    r = int(radius or max(2, min(img.shape[:2]) // 64))
    if trail is not None and len(trail):
        tr = np.concatenate([np.asarray(trail, np.float64), pts[None]], 0)
        tv = np.concatenate([np.asarray(trail_visible, bool), ~occ[None]], 0)
        for t in range(1, len(tr)):
            for n in np.flatnonzero(tv[t - 1] & tv[t] & np.isfinite(tr[t - 1:t + 1, :]).all(
                    axis=(0, 2))):
                cv2.line(img, _pt(*tr[t - 1, n]), _pt(*tr[t, n]), colors[n], 1, cv2.LINE_AA,
                         _SHIFT)
    for n in range(len(pts)):
        if not np.isfinite(pts[n]).all():
            continue
        thickness = max(1, r // 2) if occ[n] else -1
        cv2.circle(img, _pt(*pts[n]), r << _SHIFT, colors[n], thickness, cv2.LINE_AA, _SHIFT)
    return img


def draw_tap_video(frames: Iterable[np.ndarray], tracks: np.ndarray, occluded: np.ndarray,
                   trail_length: int = 8, radius: Optional[int] = None) -> Iterable[np.ndarray]:
    """Yield the drawn frames of a video.

    Args:
        frames (Iterable[np.ndarray]): (H, W, 3) uint8 RGB frames.
        tracks (np.ndarray): (N, T, 2) raster (x, y) (TAP-Vid layout).
        occluded (np.ndarray): (N, T) bool predicted occlusion.
        trail_length (int): Earlier frames joined by a trail (0: none).
        radius (int, optional): Disc radius.
    """
    tracks = np.asarray(tracks, np.float64)
    occluded = np.asarray(occluded, bool)
    if tracks.ndim != 3 or tracks.shape[-1] != 2 or occluded.shape != tracks.shape[:2]:
        raise ValueError(f'tracks must be (N, T, 2) and occluded (N, T), got {tracks.shape} '
                         f'and {occluded.shape}')
    colors = track_colors(tracks.shape[0])
    for t, frame in enumerate(frames):
        if t >= tracks.shape[1]:
            raise ValueError(f'more frames than the {tracks.shape[1]} of the tracks')
        s = max(0, t - trail_length)
        yield draw_tap_frame(frame, tracks[:, t], occluded[:, t], colors, radius,
                             tracks[:, s:t].transpose(1, 0, 2), ~occluded[:, s:t].T)


def write_tap_video(path: str, frames: Iterable[np.ndarray], tracks: np.ndarray,
                    occluded: np.ndarray, fps: float = 10.0, trail_length: int = 8,
                    radius: Optional[int] = None) -> int:
    """Draw the tracks and write an mp4 (OpenCV ``mp4v``), atomically: the
    video goes to a temporary file in the destination folder, renamed over
    ``path`` when complete.

    Returns:
        int: Frames written.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp_', suffix=osp.splitext(path)[1] or '.mp4',
                               dir=folder)
    os.close(fd)
    writer, n = None, 0
    try:
        for img in draw_tap_video(frames, tracks, occluded, trail_length, radius):
            if writer is None:
                h, w = img.shape[:2]
                writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'mp4v'), float(fps),
                                         (w, h))
                if not writer.isOpened():
                    raise OSError(f'cannot open a video writer for {path}')
            writer.write(cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            n += 1
        if writer is None:
            raise ValueError(f'no frames to write to {path}')
        writer.release()
        writer = None
        os.replace(tmp, path)
    finally:
        if writer is not None:
            writer.release()
        if osp.exists(tmp):
            os.remove(tmp)
    return n
