"""Transforms of the tracking-any-point task (TAP-Vid pickles).

Test (one whole video per item, TAP-Vid protocol of google-deepmind/tapnet
``tapnet/tapvid/evaluation_datasets.py``)::

    LoadTAPVidVideo(resolution=(256, 256))   frames, PIL Lanczos resize
    TAPVidSampleQueries()                    points * (W, H), tapnet queries
    PackTAPInputs()

Training (clips of a synthetic Kubric-like pickle)::

    LoadTAPVidVideo(resolution=(64, 64))
    TAPClipSample(clip_len=8, num_points=64)
    TAPClipRandomFlip(prob=0.5, temporal_prob=0.5)
    PackTAPInputs()

Coordinates are raster pixels of the resized frames: a point ``(x, y)`` in
[0, 1] becomes ``(x * W, y * H)`` (pixel ``i`` covers ``[i, i + 1)``), as the
reference scales ``target_points * [W, H]``.
"""
from typing import Optional, Sequence

import numpy as np
import torch

from mmdropmae.registry import TRANSFORMS
from mmdropmae.structures.data_sample import DataSample
from ..tap.query_sampling import sample_queries
from ..tap.tapvid import decode_tapvid_frames, get_tapvid_entry

__all__ = ['resize_tapvid_video', 'LoadTAPVidVideo', 'TAPVidSampleQueries', 'TAPClipSample',
           'TAPClipRandomFlip', 'PackTAPInputs']


def resize_tapvid_video(frames: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """Resize (T, H, W, 3) uint8 frames to ``size`` = (h, w) with PIL's
    Lanczos filter, as ``mediapy.resize_video`` (what tapnet's
    ``resize_video`` calls) does for uint8 frames."""
    from PIL import Image
    h, w = int(size[0]), int(size[1])
    if frames.shape[1:3] == (h, w):
        return frames
    return np.stack([
        np.asarray(Image.fromarray(f).resize((w, h), resample=Image.Resampling.LANCZOS))
        for f in frames
    ])


@TRANSFORMS.register_module()
class LoadTAPVidVideo:
    """Read the frames of a :class:`~mmdropmae.datasets.TAPVidDataset` entry.

    Adds ``frames`` ((T, h, w, 3) uint8 RGB at ``resolution``), ``ori_shape``
    ((H, W) as stored) and ``img_shape`` ((h, w)).

    Args:
        resolution (tuple, optional): (h, w) to resize to; TAP-Vid: (256,
            256). None keeps the stored size.
    """

    def __init__(self, resolution: Optional[Sequence[int]] = (256, 256)):
        self.resolution = None if resolution is None else tuple(int(v) for v in resolution)

    def __call__(self, results: dict) -> dict:
        where = f'{results["pickle_path"]} [{results["key"]!r}]'
        entry = get_tapvid_entry(results['pickle_path'], results['key'])
        frames = decode_tapvid_frames(entry['video'], where)
        results['ori_shape'] = frames.shape[1:3]
        if self.resolution is not None:
            frames = resize_tapvid_video(frames, self.resolution)
        results['frames'] = frames
        results['img_shape'] = frames.shape[1:3]
        results['height'], results['width'] = (int(v) for v in results['ori_shape'])
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(resolution={self.resolution})'


def _raster_points(results: dict) -> np.ndarray:
    h, w = results['frames'].shape[1:3]
    return np.asarray(results['points'], np.float64) * np.array([w, h], np.float64)


@TRANSFORMS.register_module()
class TAPVidSampleQueries:
    """Scale the tracks to raster pixels of the loaded frames and sample the
    queries of the TAP-Vid protocol (``sample_queries_first`` /
    ``sample_queries_strided`` of tapnet).

    Adds ``query_points`` ((n, 3) (t, y, x)), ``gt_tracks`` ((n, T, 2)
    (x, y)), ``gt_occluded`` ((n, T)) and ``trackgroup`` ((n,)).

    Args:
        query_mode (str, optional): Overrides the entry's ``query_mode``.
        query_stride (int, optional): Overrides the entry's stride.
    """

    def __init__(self, query_mode: Optional[str] = None, query_stride: Optional[int] = None):
        self.query_mode = query_mode
        self.query_stride = query_stride

    def __call__(self, results: dict) -> dict:
        mode = self.query_mode or results.get('query_mode', 'strided')
        stride = self.query_stride or results.get('query_stride', 5)
        q = sample_queries(np.asarray(results['occluded'], bool), _raster_points(results),
                           mode, stride)
        results.update(query_points=q['query_points'], gt_tracks=q['target_points'],
                       gt_occluded=q['occluded'], trackgroup=q['trackgroup'], query_mode=mode)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(query_mode={self.query_mode}, '
                f'query_stride={self.query_stride})')


@TRANSFORMS.register_module()
class TAPClipSample:
    """A random training clip with a fixed number of queries.

    Picks ``clip_len`` consecutive frames (the whole video when shorter is
    an error), keeps the tracks visible on at least ``min_visible`` frames of
    the clip, draws ``num_points`` of them (with replacement when fewer) and
    queries each at a random visible frame of the clip (TAPIR / CoTracker
    train on queries sampled uniformly among visible points). Adds the same
    keys as :class:`TAPVidSampleQueries`, restricted to the clip; ``frames``
    is cut to the clip.

    Args:
        clip_len (int): Frames per clip.
        num_points (int): Queries per clip.
        min_visible (int): Least visible frames of a kept track.
        first_frame_prob (float): Probability that a query is put at the
            track's first visible frame of the clip (the 'first' protocol).
    """

    def __init__(self, clip_len: int = 8, num_points: int = 64, min_visible: int = 2,
                 first_frame_prob: float = 0.5):
        self.clip_len = int(clip_len)
        self.num_points = int(num_points)
        self.min_visible = int(min_visible)
        self.first_frame_prob = float(first_frame_prob)

    def __call__(self, results: dict) -> dict:
        frames = results['frames']
        t_all = frames.shape[0]
        if t_all < self.clip_len:
            raise ValueError(f'{results.get("video_name")}: {t_all} frames, fewer than '
                             f'clip_len={self.clip_len}')
        rng = np.random
        s = int(rng.randint(0, t_all - self.clip_len + 1))
        sl = slice(s, s + self.clip_len)
        pts = _raster_points(results)[:, sl]
        occ = np.asarray(results['occluded'], bool)[:, sl]
        keep = np.nonzero((~occ).sum(1) >= self.min_visible)[0]
        if not len(keep):
            keep = np.nonzero((~occ).sum(1) >= 1)[0]
        if not len(keep):
            raise ValueError(f'{results.get("video_name")}: no visible track in frames '
                             f'{s}..{s + self.clip_len - 1}')
        idx = rng.choice(keep, self.num_points, replace=len(keep) < self.num_points)
        pts, occ = pts[idx], occ[idx]
        qt = np.empty(len(idx), np.int64)
        for i in range(len(idx)):
            vis = np.nonzero(~occ[i])[0]
            qt[i] = vis[0] if rng.rand() < self.first_frame_prob else rng.choice(vis)
        rows = np.arange(len(idx))
        query = np.stack([qt.astype(np.float64), pts[rows, qt, 1], pts[rows, qt, 0]], -1)
        results.update(frames=frames[sl], query_points=query, gt_tracks=pts, gt_occluded=occ,
                       trackgroup=idx, clip_start=s, num_frames=self.clip_len)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(clip_len={self.clip_len}, '
                f'num_points={self.num_points}, min_visible={self.min_visible})')


@TRANSFORMS.register_module()
class TAPClipRandomFlip:
    """Horizontal flip (x -> W - x) and time reversal of a training clip.

    Args:
        prob (float): Probability of the horizontal flip.
        temporal_prob (float): Probability of reversing time (the query
            frame t becomes T - 1 - t), so that the tracker learns to track
            backward as well (it does so at test time for points before a
            strided query).
    """

    def __init__(self, prob: float = 0.5, temporal_prob: float = 0.5):
        self.prob = prob
        self.temporal_prob = temporal_prob

    def __call__(self, results: dict) -> dict:
        w = results['frames'].shape[2]
        t = results['frames'].shape[0]
        if np.random.rand() < self.prob:
            results['frames'] = results['frames'][:, :, ::-1].copy()
            tracks = results['gt_tracks'].copy()
            tracks[..., 0] = w - tracks[..., 0]
            query = results['query_points'].copy()
            query[:, 2] = w - query[:, 2]
            results.update(gt_tracks=tracks, query_points=query)
        if np.random.rand() < self.temporal_prob:
            results['frames'] = results['frames'][::-1].copy()
            query = results['query_points'].copy()
            query[:, 0] = t - 1 - query[:, 0]
            results.update(gt_tracks=results['gt_tracks'][:, ::-1].copy(),
                           gt_occluded=results['gt_occluded'][:, ::-1].copy(),
                           query_points=query)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob}, temporal_prob={self.temporal_prob})'


@TRANSFORMS.register_module()
class PackTAPInputs:
    """``inputs``: (T, 3, H, W) uint8 frames; ``data_samples``: a
    :class:`DataSample` with ``query_points`` (float32), ``gt_tracks``
    (float32), ``gt_occluded`` (bool) and the metainfo (``video_name``,
    ``query_mode``, ``num_frames``, ``img_shape``, ``ori_shape``,
    ``trackgroup``, ...)."""

    META_KEYS = ('video_name', 'query_mode', 'query_stride', 'num_frames', 'img_shape',
                 'ori_shape', 'height', 'width', 'trackgroup', 'clip_start', 'key')

    def __call__(self, results: dict) -> dict:
        frames = np.ascontiguousarray(results['frames'])
        meta = {k: results[k] for k in self.META_KEYS if k in results}
        meta['num_frames'] = int(frames.shape[0])
        sample = DataSample(metainfo=meta)
        sample.query_points = torch.as_tensor(np.asarray(results['query_points'], np.float32))
        sample.gt_tracks = torch.as_tensor(np.asarray(results['gt_tracks'], np.float32))
        sample.gt_occluded = torch.as_tensor(np.asarray(results['gt_occluded'], bool))
        inputs = torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'
