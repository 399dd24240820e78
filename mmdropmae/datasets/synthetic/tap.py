"""Kubric-like synthetic point-tracking clips, written as TAP-Vid pickles.

A clip is a textured background seen by a panning camera (sub-pixel
translation) and textured sprites (discs, boxes, triangles, stars) that
translate, rotate and scale, drawn back to front: each sprite is in front of
the ones before it. Every quantity is analytic, so the tracks are exact:

- a background point at canvas position ``P`` is at ``P - c_t`` in frame
  ``t`` (``c_t``: the camera offset);
- a point ``q`` of sprite ``k`` (sprite raster coordinates) is at
  ``A_k(t) q + b_k(t)`` (rotation x scale, then translation);
- a point is occluded in frame ``t`` when it lies outside the frame or a
  sprite drawn in front of it covers its pixel (alpha > 0.5), as Kubric's
  point-tracking labels mark points outside the frame as occluded.

Coordinates are raster pixels (pixel ``i`` covers ``[i, i + 1)``; an OpenCV
pixel index ``i`` is raster ``i + 0.5``); the pickles hold them divided by
``(W, H)``, in [0, 1] for points in the frame, as the TAP-Vid files do.
Sprites may leave the frame (points leaving the frame) and come back, and
pass behind each other (occlusion).

Writers: :func:`make_synthetic_tapvid` in the DAVIS layout (dict name ->
entry), the RGB-Stacking layout (list) or the Kinetics layout (a folder of
``{i}_of_0010.pkl`` shards whose videos are lists of JPEG bytes).
"""
import io
import math
import os
import os.path as osp
import pickle
from typing import Dict, List, Sequence, Tuple, Union

import cv2
import numpy as np

from mmdropmae.utils.fileio import atomic_open
from .renderer import random_texture, shape_polygon

__all__ = ['render_tap_clip', 'make_synthetic_tapvid', 'TAP_LAYOUTS']

TAP_LAYOUTS = ('davis', 'rgb_stacking', 'kinetics')
_SPRITE_SHAPES = ('disc', 'box', 'triangle', 'star')


def _sprite(rng: np.random.Generator, size: int) -> Tuple[np.ndarray, np.ndarray]:
    """(texture float32 (S, S, 3), alpha float32 (S, S) in [0, 1])."""
    tex = random_texture(rng, size, size)
    shape = _SPRITE_SHAPES[int(rng.integers(0, len(_SPRITE_SHAPES)))]
    mask = np.zeros((size, size), np.uint8)
    poly = shape_polygon(shape, size, 0.0, float(rng.uniform(0.6, 1.0)))
    if poly is None:
        c = (size - 1) / 2.0
        cv2.ellipse(mask, ((c, c), (0.95 * size, 0.95 * size), 0.0), 255, -1,
                    lineType=cv2.LINE_AA)
    else:
        cv2.fillPoly(mask, [poly], 255, lineType=cv2.LINE_AA)
    return tex, mask.astype(np.float32) / 255.0


def _sprite_affine(scale: float, angle: float, pos: np.ndarray, size: int):
    """Raster map ``x = A q + b`` of a sprite (centre at its raster centre)."""
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    a = scale * rot
    b = pos - a @ np.array([size / 2.0, size / 2.0])
    return a, b


def _cv2_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """OpenCV index-space matrix of the raster map ``x = A q + b``
    (index = raster - 0.5 on both sides)."""
    half = np.array([0.5, 0.5])
    return np.concatenate([a, (a @ half + b - half)[:, None]], 1).astype(np.float64)


def render_tap_clip(width: int = 64,
                    height: int = 64,
                    num_frames: int = 24,
                    seed: Union[int, Sequence[int]] = 0,
                    num_objects: Union[int, Tuple[int, int]] = (2, 4),
                    num_points: int = 64,
                    object_point_frac: float = 0.5,
                    max_speed: float = 0.04,
                    camera_speed: float = 0.02) -> Dict[str, np.ndarray]:
    """Render one clip with exact tracks (see the module docstring).

    Args:
        width (int): Frame width.
        height (int): Frame height.
        num_frames (int): Frames.
        seed (int | Sequence[int]): Seed of everything random.
        num_objects (int | tuple): Sprites, or an inclusive range.
        num_points (int): Tracks (a share on sprites, the rest on the
            background), each visible in frame 0 or at its sampling frame.
        object_point_frac (float): Share of the tracks on sprites.
        max_speed (float): Largest sprite speed, in short sides per frame.
        camera_speed (float): Largest camera pan speed, short sides / frame.

    Returns:
        dict: ``video`` (T, H, W, 3) uint8, ``points`` (N, T, 2) float32
        (x, y) / (W, H), ``occluded`` (N, T) bool, and ``tracks_px`` (N, T,
        2) float64 raster pixels.
    """
    if width < 16 or height < 16 or num_frames < 1:
        raise ValueError(f'need frames of at least 16x16 and 1 frame, got {width}x{height} x '
                         f'{num_frames}')
    rng = np.random.default_rng(seed)
    short = min(width, height)
    t = np.arange(num_frames, dtype=np.float64)
    # camera: smooth pan, offset c_t of the view in the canvas
    margin = int(math.ceil(camera_speed * short * num_frames)) + 2
    canvas = np.clip(random_texture(rng, height + 2 * margin, width + 2 * margin), 0, 255)
    vel = rng.uniform(-1, 1, 2) * camera_speed * short
    wob = rng.uniform(0, 0.3, 2) * camera_speed * short
    phase = rng.uniform(0, 2 * math.pi, 2)
    cam = margin + vel[None] * t[:, None] + wob[None] * np.sin(
        2 * math.pi * t[:, None] / max(num_frames, 2) + phase[None])
    cam = np.clip(cam, 0, 2 * margin)  # (T, 2) offset (x, y)
    # sprites
    n_obj = num_objects if isinstance(num_objects, int) else int(
        rng.integers(num_objects[0], num_objects[1] + 1))
    sprites = []
    for _ in range(n_obj):
        size = int(rng.uniform(0.25, 0.45) * short)
        tex, alpha = _sprite(rng, size)
        p0 = rng.uniform([0.15 * width, 0.15 * height], [0.85 * width, 0.85 * height])
        v = rng.uniform(-1, 1, 2) * max_speed * short
        ang0, ang_v = rng.uniform(0, 2 * math.pi), rng.uniform(-0.04, 0.04)
        s_amp, s_freq = rng.uniform(0, 0.15), rng.uniform(0.5, 1.5) / max(num_frames, 2)
        maps = []
        for ti in range(num_frames):
            scale = 1 + s_amp * math.sin(2 * math.pi * s_freq * ti)
            maps.append(_sprite_affine(scale, ang0 + ang_v * ti, p0 + v * ti, size))
        sprites.append(dict(tex=tex, alpha=alpha, size=size, maps=maps))
    # frames and per-sprite coverage
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    cover = np.zeros((n_obj, num_frames, height, width), bool)
    for ti in range(num_frames):
        m = np.array([[1, 0, cam[ti, 0]], [0, 1, cam[ti, 1]]], np.float64)
        img = cv2.warpAffine(canvas, m, (width, height),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REFLECT101).astype(np.float32)
        for k, sp in enumerate(sprites):
            mat = _cv2_matrix(*sp['maps'][ti])
            a = cv2.warpAffine(sp['alpha'], mat, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            col = cv2.warpAffine(sp['tex'], mat, (width, height), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            img = img * (1 - a[..., None]) + col * a[..., None]
            cover[k, ti] = a > 0.5
        frames[ti] = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    # tracks: object points inside the opaque part of a sprite, background
    # points anywhere in frame 0's view
    n_objpts = int(round(num_points * object_point_frac)) if n_obj else 0
    tracks = np.zeros((num_points, num_frames, 2))
    layer = np.full(num_points, -1)  # -1: background, k: sprite k
    for i in range(num_points):
        if i < n_objpts:
            k = int(rng.integers(0, n_obj))
            sp = sprites[k]
            ys, xs = np.nonzero(sp['alpha'] > 0.99)
            j = int(rng.integers(0, len(ys)))
            q = np.array([xs[j], ys[j]], np.float64) + rng.uniform(0.25, 0.75, 2)
            tracks[i] = np.stack([a @ q + b for a, b in sp['maps']])
            layer[i] = k
        else:
            p = rng.uniform([0, 0], [width, height]) + cam[0]
            tracks[i] = p[None] - cam
    occluded = np.zeros((num_points, num_frames), bool)
    for i in range(num_points):
        x, y = tracks[i, :, 0], tracks[i, :, 1]
        out = (x < 0) | (x >= width) | (y < 0) | (y >= height)
        xi = np.clip(np.floor(x).astype(int), 0, width - 1)
        yi = np.clip(np.floor(y).astype(int), 0, height - 1)
        front = range(layer[i] + 1, n_obj)
        hidden = np.zeros(num_frames, bool)
        for k in front:
            hidden |= cover[k, np.arange(num_frames), yi, xi]
        occluded[i] = out | hidden
    points = (tracks / np.array([width, height], np.float64)).astype(np.float32)
    return dict(video=frames, points=points, occluded=occluded, tracks_px=tracks)


def _jpeg_bytes(frames: np.ndarray, quality: int = 95) -> List[bytes]:
    from PIL import Image
    out = []
    for f in frames:
        buf = io.BytesIO()
        Image.fromarray(f).save(buf, format='JPEG', quality=quality)
        out.append(buf.getvalue())
    return out


def make_synthetic_tapvid(out: str,
                          num_videos: int = 4,
                          layout: str = 'davis',
                          num_frames: Union[int, Tuple[int, int]] = 24,
                          size: Tuple[int, int] = (64, 64),
                          num_points: int = 64,
                          num_objects: Union[int, Tuple[int, int]] = (2, 4),
                          num_shards: int = 2,
                          seed: int = 0,
                          **clip_kwargs) -> List[str]:
    """Write synthetic clips as a TAP-Vid pickle (or Kinetics shards).

    Args:
        out (str): The pickle file (layouts 'davis' and 'rgb_stacking') or
            the folder of shards ('kinetics').
        num_videos (int): Clips.
        layout (str): 'davis' (dict ``synth_{i:03d}`` -> entry),
            'rgb_stacking' (list) or 'kinetics' (``{i}_of_0010.pkl`` shards
            of lists, frames as JPEG bytes).
        num_frames (int | tuple): Frames per clip, or an inclusive range.
        size (tuple): (w, h).
        num_points (int): Tracks per clip.
        num_objects (int | tuple): Sprites per clip.
        num_shards (int): Kinetics shards (at most 10).
        seed (int): Seed; clip ``i`` uses ``(seed, i)``.
        **clip_kwargs: More :func:`render_tap_clip` arguments.

    Returns:
        list[str]: The files written.
    """
    if layout not in TAP_LAYOUTS:
        raise ValueError(f'layout must be one of {TAP_LAYOUTS}, got {layout!r}')
    rng = np.random.default_rng([seed, 7919])
    entries = []
    for i in range(num_videos):
        n = num_frames if isinstance(num_frames, int) else int(
            rng.integers(num_frames[0], num_frames[1] + 1))
        clip = render_tap_clip(size[0], size[1], n, seed=[seed, i], num_objects=num_objects,
                               num_points=num_points, **clip_kwargs)
        clip.pop('tracks_px')
        entries.append(clip)

    def dump(path, obj):
        with atomic_open(path, 'wb', suffix='.pkl') as f:
            pickle.dump(obj, f, protocol=4)

    if layout == 'davis':
        dump(out, {f'synth_{i:03d}': e for i, e in enumerate(entries)})
        return [out]
    if layout == 'rgb_stacking':
        dump(out, entries)
        return [out]
    if not 1 <= num_shards <= 10:
        raise ValueError(f'num_shards must be in [1, 10], got {num_shards}')
    os.makedirs(out, exist_ok=True)
    files = []
    for s in range(num_shards):
        shard = [dict(e, video=_jpeg_bytes(e['video'])) for e in entries[s::num_shards]]
        path = osp.join(out, f'{s:04d}_of_0010.pkl')
        dump(path, shard)
        files.append(path)
    return files
