"""Synthetic video object segmentation sequences with exact masks, written in
the DAVIS and YouTube-VOS layouts.

A sequence is a textured background seen by a panning camera with several
textured objects (discs, ellipses, boxes, triangles, stars) drawn with hard
(not anti-aliased) edges, so the object-id map of every frame is exact: each
pixel shows the texture of exactly the object (or background) its id names.

Events every sequence can contain, all fully determined by the seed:

- **occlusion**: objects 1 and 2 travel along crossing paths and meet in
  the middle of the video; objects are drawn in a fixed depth order, so the
  one behind loses pixels (``info['objects'][k]['visible_area'] <
  ['amodal_area']``);
- **entering**: ``num_entering`` objects (the highest ids) appear at a frame
  in ``[1, T // 2]``, drawn in front of everything, so they are visible from
  their first frame;
- **vanishing**: ``num_vanishing`` objects stop being drawn from a frame in
  ``[T // 2 + 1, T - 1]`` on.

The first appearance of an object is the first frame where it has visible
pixels (what the data set loaders and the metrics use).
"""
import json
import math
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from mmdropmae.utils.fileio import write_palette_mask
from mmdropmae.utils.image import write_rgb_image
from .renderer import (SHAPES, colorize, gradient, random_texture, shape_polygon, smooth_noise,
                       stripes)

SeedLike = Union[int, Sequence[int], np.random.SeedSequence]

__all__ = [
    'SyntheticVOSSequence', 'make_synthetic_davis', 'make_synthetic_youtube_vos',
    'write_davis_sequence'
]


@dataclass
class _VOSObject:
    obj_id: int
    shape: str
    texture: np.ndarray  # float32 RGB square texture
    base_size: float
    start: np.ndarray  # centre (x, y) at s = 0
    end: np.ndarray  # centre (x, y) at s = 1
    wobble: np.ndarray  # amplitude (x, y)
    wobble_freq: float
    wobble_phase: float
    scale_amp: float
    scale_phase: float
    angle0: float
    ang_vel: float
    aspect: float
    t_start: int
    t_end: int  # exclusive
    depth: float

    @property
    def category(self) -> str:
        return self.shape


class SyntheticVOSSequence:
    """One deterministic multi-object VOS sequence.

    Args:
        width (int): Frame width.
        height (int): Frame height.
        num_frames (int): Number of frames (>= 4).
        seed (int | Sequence[int]): Seed of everything random.
        num_objects (int): Objects in total (ids ``1..num_objects``), at least
            ``1 + num_entering``.
        num_entering (int): Objects that appear after the first frame.
        num_vanishing (int): Objects that disappear before the last frame.
        shapes (Sequence[str]): Shapes (= categories) to draw from.
        camera_motion (bool): Pan the background.
        shape_overrides (dict[int, str], optional): Fixed shape of some
            object ids (the others are drawn from ``shapes``).
    """

    def __init__(self,
                 width: int,
                 height: int,
                 num_frames: int,
                 seed: SeedLike = 0,
                 num_objects: int = 3,
                 num_entering: int = 0,
                 num_vanishing: int = 0,
                 shapes: Sequence[str] = SHAPES,
                 camera_motion: bool = True,
                 shape_overrides: Optional[Dict[int, str]] = None) -> None:
        if width < 16 or height < 16:
            raise ValueError(f'frame size must be at least 16x16, got {width}x{height}')
        if num_frames < 4:
            raise ValueError(f'num_frames must be >= 4, got {num_frames}')
        if num_objects < 1 + num_entering:
            raise ValueError(f'num_objects ({num_objects}) must exceed num_entering '
                             f'({num_entering}): the first frame needs an object')
        if num_vanishing > num_objects - num_entering:
            raise ValueError('num_vanishing cannot exceed the number of objects present from '
                             'the first frame')
        shape_overrides = dict(shape_overrides or {})
        unknown = (set(shapes) | set(shape_overrides.values())) - set(SHAPES)
        if unknown or not shapes:
            raise ValueError(f'shapes must be a non-empty subset of {SHAPES}, got {shapes}')
        self.width, self.height, self.num_frames = int(width), int(height), int(num_frames)
        rng = np.random.default_rng(seed)
        # Background canvas (larger than the view) and camera pan.
        margin = 0.2
        ch, cw = int(math.ceil(height * (1 + 2 * margin))), int(math.ceil(width * (1 + 2 * margin)))
        bg = (0.55 * smooth_noise(rng, ch, cw, octaves=4, base_cell=max(8, min(ch, cw) // 3)) +
              0.3 * stripes(rng, ch, cw, 6, 30) + 0.15 * gradient(rng, ch, cw))
        self._canvas = np.clip(colorize(rng, bg, 4), 0, 255).astype(np.uint8)
        self._cam_start = rng.uniform(-1, 1, size=2) * margin * np.array([width, height]) * 0.8
        self._cam_end = rng.uniform(-1, 1, size=2) * margin * np.array([width, height]) * 0.8
        self._camera_motion = camera_motion

        T = self.num_frames
        short = min(width, height)
        ids = list(range(1, num_objects + 1))
        entering = ids[num_objects - num_entering:]
        stable = ids[:num_objects - num_entering]
        # Vanishing objects: prefer the second object of the crossing pair
        # (it vanishes after the crossing), then the others from the end.
        vanish_order = ([2] if 2 in stable else []) + [i for i in reversed(stable) if i != 2]
        vanishing = set(vanish_order[:num_vanishing])
        depths = rng.permutation(len(stable)).astype(np.float64)
        self.objects: List[_VOSObject] = []
        for k, oid in enumerate(ids):
            base = rng.uniform(0.28, 0.42) * short
            scale_amp = rng.uniform(0.0, 0.15)
            tex = max(4, int(math.ceil(base * (1 + scale_amp))) + 2)
            r = base * (1 + scale_amp) / 2
            lo = np.array([r, r]) + 1
            hi = np.array([width - r, height - r]) - 1
            hi = np.maximum(hi, lo)
            if oid in (1, 2) and oid in stable and len(stable) >= 2:
                # Crossing paths: 1 goes left -> right, 2 right -> left, same
                # y endpoints, so both centres coincide at s = 0.5.
                y0, y1 = rng.uniform(lo[1], hi[1], size=2)
                xl, xr = lo[0], hi[0]
                start, end = ((np.array([xl, y0]), np.array([xr, y1])) if oid == 1 else
                              (np.array([xr, y0]), np.array([xl, y1])))
                wobble = np.zeros(2)
            else:
                start = rng.uniform(lo, hi)
                end = rng.uniform(lo, hi)
                wobble = rng.uniform(0, 0.05, size=2) * short
            if oid in entering:
                t_start = int(rng.integers(1, max(2, T // 2 + 1)))
                depth = 1000.0 + k  # in front of everything
            else:
                t_start = 0
                depth = float(depths[stable.index(oid)])
            t_end = int(rng.integers(T // 2 + 1, T)) if oid in vanishing else T
            shape = str(shapes[int(rng.integers(0, len(shapes)))])
            self.objects.append(
                _VOSObject(
                    obj_id=oid,
                    shape=shape_overrides.get(oid, shape),
                    texture=random_texture(rng, tex, tex),
                    base_size=base,
                    start=start,
                    end=end,
                    wobble=wobble,
                    wobble_freq=rng.uniform(0.5, 1.5),
                    wobble_phase=rng.uniform(0, 2 * math.pi),
                    scale_amp=scale_amp,
                    scale_phase=rng.uniform(0, 2 * math.pi),
                    angle0=rng.uniform(0, 2 * math.pi),
                    ang_vel=rng.uniform(-0.15, 0.15),
                    aspect=rng.uniform(0.55, 1.0),
                    t_start=t_start,
                    t_end=t_end,
                    depth=depth))
        self._draw_order = sorted(self.objects, key=lambda o: o.depth)
        self._cache: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]] = None

    def __len__(self) -> int:
        return self.num_frames

    def _background(self, t: int) -> np.ndarray:
        ch, cw = self._canvas.shape[:2]
        s = t / max(self.num_frames - 1, 1)
        off = (self._cam_start + (self._cam_end - self._cam_start) * s
               if self._camera_motion else np.zeros(2))
        x0 = (cw - self.width) / 2.0 + off[0]
        y0 = (ch - self.height) / 2.0 + off[1]
        mat = np.array([[1, 0, x0], [0, 1, y0]], np.float64)
        return cv2.warpAffine(self._canvas, mat, (self.width, self.height),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REFLECT101)

    def _object_mask(self, obj: _VOSObject, t: int) -> Tuple[np.ndarray, np.ndarray]:
        """Full-frame boolean mask and RGB patch of ``obj`` at frame ``t``
        (ignoring the other objects)."""
        s = t / max(self.num_frames - 1, 1)
        c = obj.start + (obj.end - obj.start) * s + obj.wobble * math.sin(
            2 * math.pi * obj.wobble_freq * s + obj.wobble_phase)
        size = max(4, int(round(obj.base_size * (1 + obj.scale_amp * math.sin(
            2 * math.pi * s + obj.scale_phase)))))
        angle = obj.angle0 + obj.ang_vel * t
        local = np.zeros((size, size), np.uint8)
        poly = shape_polygon(obj.shape, size, angle, obj.aspect)
        if poly is not None:
            cv2.fillPoly(local, [poly], 1, lineType=cv2.LINE_8)
        else:
            cc = (size - 1) / 2.0
            axes = (size / 2.0 * 0.95, size / 2.0 * 0.95 *
                    (obj.aspect if obj.shape == 'ellipse' else 1.0))
            cv2.ellipse(local, ((cc, cc), (2 * axes[0], 2 * axes[1]), math.degrees(angle)), 1,
                        -1, lineType=cv2.LINE_8)
        patch = cv2.resize(obj.texture, (size, size), interpolation=cv2.INTER_LINEAR)
        mask = np.zeros((self.height, self.width), bool)
        rgb = np.zeros((self.height, self.width, 3), np.float32)
        x0, y0 = int(round(c[0] - size / 2.0)), int(round(c[1] - size / 2.0))
        fx0, fy0 = max(0, x0), max(0, y0)
        fx1, fy1 = min(self.width, x0 + size), min(self.height, y0 + size)
        if fx1 > fx0 and fy1 > fy0:
            sl = (slice(fy0 - y0, fy1 - y0), slice(fx0 - x0, fx1 - x0))
            mask[fy0:fy1, fx0:fx1] = local[sl] > 0
            rgb[fy0:fy1, fx0:fx1] = patch[sl]
        return mask, rgb

    def render(self, t: int) -> Tuple[np.ndarray, np.ndarray, Dict[int, int]]:
        """Frame ``t``.

        Returns:
            tuple: RGB ``uint8`` ``(H, W, 3)`` frame, ``uint8`` ``(H, W)``
            object-id map (exact), and ``{obj_id: amodal area}`` (pixels the
            object would cover without occlusion; 0 when not present).
        """
        if not 0 <= t < self.num_frames:
            raise IndexError(f'frame {t} out of range [0, {self.num_frames})')
        frame = self._background(t).astype(np.float32)
        ids = np.zeros((self.height, self.width), np.uint8)
        amodal = {}
        for obj in self._draw_order:
            if not obj.t_start <= t < obj.t_end:
                amodal[obj.obj_id] = 0
                continue
            mask, rgb = self._object_mask(obj, t)
            amodal[obj.obj_id] = int(mask.sum())
            frame[mask] = rgb[mask]
            ids[mask] = obj.obj_id
        return np.clip(frame + 0.5, 0, 255).astype(np.uint8), ids, amodal

    def render_all(self) -> Tuple[np.ndarray, np.ndarray, Dict]:
        """All frames.

        Returns:
            tuple: frames ``(T, H, W, 3)`` uint8, id maps ``(T, H, W)`` uint8
            and an info dict: ``objects`` = list of dicts with ``id``,
            ``category``, ``t_start``, ``t_end`` (scheduled, end exclusive),
            ``first_frame`` / ``last_frame`` (first / last frame with visible
            pixels, -1 if never visible), ``visible_area`` and
            ``amodal_area`` (per-frame lists); ``occluded`` = True when some
            object lost pixels to another one in some frame.
        """
        if self._cache is None:
            frames, masks, amodals = [], [], []
            for t in range(self.num_frames):
                f, m, a = self.render(t)
                frames.append(f)
                masks.append(m)
                amodals.append(a)
            self._cache = (np.stack(frames), np.stack(masks), amodals)
        frames, masks, amodals = self._cache
        objs = []
        occluded = False
        for obj in self.objects:
            vis = [int((m == obj.obj_id).sum()) for m in masks]
            am = [a[obj.obj_id] for a in amodals]
            present = [t for t, v in enumerate(vis) if v > 0]
            occluded |= any(v < a for v, a in zip(vis, am))
            objs.append(
                dict(id=obj.obj_id, category=obj.category, t_start=obj.t_start, t_end=obj.t_end,
                     first_frame=present[0] if present else -1,
                     last_frame=present[-1] if present else -1, visible_area=vis,
                     amodal_area=am))
        return frames.copy(), masks.copy(), dict(objects=objs, occluded=occluded)


def _sequence_plan(index: int, num_objects: Union[int, Tuple[int, int]],
                   rng: np.random.Generator, events: str) -> Tuple[int, int, int]:
    n = num_objects if isinstance(num_objects, int) else int(
        rng.integers(num_objects[0], num_objects[1] + 1))
    if events == 'all' or (events == 'alternate' and index % 2 == 0):
        return max(n, 3), 1, 1
    if events in ('none', 'alternate'):
        return n, 0, 0
    raise ValueError(f"events must be 'alternate', 'all' or 'none', got {events!r}")


def _write_jpeg(path: str, rgb: np.ndarray, quality: int) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    write_rgb_image(path, rgb, quality)


def write_davis_sequence(root: str, name: str, frames: np.ndarray, masks: np.ndarray,
                         resolution: str = '480p', jpeg_quality: int = 95,
                         annotated: Optional[Sequence[int]] = None) -> None:
    """Write one sequence in the DAVIS layout (frames ``%05d.jpg``, palette
    PNG annotations ``%05d.png``; only frames in ``annotated`` if given)."""
    for t, (f, m) in enumerate(zip(frames, masks)):
        _write_jpeg(osp.join(root, 'JPEGImages', resolution, name, f'{t:05d}.jpg'), f,
                    jpeg_quality)
        if annotated is None or t in annotated:
            write_palette_mask(osp.join(root, 'Annotations', resolution, name, f'{t:05d}.png'), m)


def make_synthetic_davis(root: str,
                         num_sequences: Optional[Dict[str, int]] = None,
                         num_frames: int = 10,
                         size: Tuple[int, int] = (64, 48),
                         num_objects: Union[int, Tuple[int, int]] = (2, 3),
                         events: str = 'alternate',
                         seed: int = 0,
                         resolution: str = '480p',
                         jpeg_quality: int = 95) -> Dict[str, List[Dict]]:
    """Write a synthetic DAVIS data set.

    ``root/JPEGImages/{resolution}/{seq}/00000.jpg``, ``root/Annotations/
    {resolution}/{seq}/00000.png`` (every frame, palette PNGs),
    ``root/ImageSets/2017/{split}.txt`` (all sequences of the split) and
    ``root/ImageSets/2016/{split}.txt`` (the sequences without an entering
    object, since DAVIS 2016 merges the objects into one; all if none).

    Args:
        root (str): Output folder.
        num_sequences (dict): Sequences per split, default
            ``{'train': 2, 'val': 2}``. Names are ``{split}-{i:03d}``.
        num_frames (int): Frames per sequence.
        size (tuple): ``(width, height)``.
        num_objects (int | tuple): Objects per sequence (or inclusive range).
        events (str): ``'alternate'``: even-numbered sequences of each split
            get one entering and one vanishing object (and >= 3 objects), odd
            ones none; ``'all'``; ``'none'``.
        seed (int): Seed.
        resolution (str): Resolution folder name.
        jpeg_quality (int): JPEG quality of the frames.

    Returns:
        dict: ``{split: [info per sequence]}``; each info is the
        :meth:`SyntheticVOSSequence.render_all` info plus ``name``.
    """
    num_sequences = dict(train=2, val=2) if num_sequences is None else num_sequences
    width, height = size
    out: Dict[str, List[Dict]] = {}
    for s_idx, (split, count) in enumerate(sorted(num_sequences.items())):
        infos = []
        for i in range(count):
            ss = [seed, s_idx, i]
            rng = np.random.default_rng(ss + [1])
            n, n_in, n_out = _sequence_plan(i, num_objects, rng, events)
            seq = SyntheticVOSSequence(width, height, num_frames, seed=ss, num_objects=n,
                                       num_entering=n_in, num_vanishing=n_out)
            frames, masks, info = seq.render_all()
            name = f'{split}-{i:03d}'
            write_davis_sequence(root, name, frames, masks, resolution, jpeg_quality)
            info['name'] = name
            infos.append(info)
        out[split] = infos
        names17 = [i['name'] for i in infos]
        names16 = [i['name'] for i in infos
                   if all(o['first_frame'] <= 0 for o in i['objects'])] or names17
        for year, names in (('2017', names17), ('2016', names16)):
            d = osp.join(root, 'ImageSets', year)
            os.makedirs(d, exist_ok=True)
            with open(osp.join(d, f'{split}.txt'), 'w') as f:
                f.write(''.join(n + '\n' for n in names))
    return out


def make_synthetic_youtube_vos(root: str,
                               num_videos: Optional[Dict[str, int]] = None,
                               num_frames: int = 10,
                               size: Tuple[int, int] = (64, 48),
                               num_objects: Union[int, Tuple[int, int]] = (2, 3),
                               events: str = 'alternate',
                               unseen_categories: Sequence[str] = ('star', ),
                               frame_step: int = 5,
                               seed: int = 0,
                               jpeg_quality: int = 95,
                               dense_valid_subdir: Optional[str] = 'Annotations_dense'
                               ) -> Dict[str, List[Dict]]:
    """Write a synthetic YouTube-VOS data set.

    Per split (``train``, ``valid``)::

        root/{split}/JPEGImages/{video}/00000.jpg, 00005.jpg, ...
        root/{split}/Annotations/{video}/*.png
        root/{split}/meta.json

    Frames are named by ``frame_step`` x index, as YouTube-VOS names its
    6 fps frames by their 30 fps index. ``train`` is annotated in every frame
    and its meta lists, per object, its ``category`` and the frames where it
    is visible. ``valid`` is annotated like the real one: only at the frame
    where an object first appears, and that PNG holds only the objects that
    first appear there; its meta lists every frame from the first appearance
    on. Unlike the real ``valid/meta.json`` (whose categories are secret), the
    synthetic one also gives each object's ``category``, so the seen/unseen
    split can be evaluated; the dense ground truth of ``valid`` is written to
    ``root/valid/{dense_valid_subdir}/`` (load it with
    ``YouTubeVOSDataset(ann_subdir=dense_valid_subdir)``). Categories
    (= shapes) in ``unseen_categories`` occur only in ``valid``, whose first
    video's last object always has the first unseen category.

    Args:
        root (str): Output folder.
        num_videos (dict): Videos per split, default
            ``{'train': 3, 'valid': 2}``. Names are ``{split}{i:04d}``.
        num_frames, size, num_objects, events, seed, jpeg_quality: As in
            :func:`make_synthetic_davis`.
        unseen_categories (Sequence[str]): Shapes kept out of ``train``.
        frame_step (int): Step between frame numbers in file names.
        dense_valid_subdir (str, optional): Where to write the dense valid
            ground truth; None to skip.

    Returns:
        dict: ``{split: [info per video]}`` (info as in
        :func:`make_synthetic_davis`, plus ``name`` and ``frame_names``).
    """
    num_videos = dict(train=3, valid=2) if num_videos is None else num_videos
    width, height = size
    out: Dict[str, List[Dict]] = {}
    seen_shapes = tuple(s for s in SHAPES if s not in set(unseen_categories))
    if not seen_shapes:
        raise ValueError('unseen_categories leaves no shape for train')
    for s_idx, (split, count) in enumerate(sorted(num_videos.items())):
        split_root = osp.join(root, split)
        sparse = split != 'train'
        shapes = seen_shapes if split == 'train' else SHAPES
        meta: Dict = {'videos': {}}
        infos = []
        for i in range(count):
            ss = [seed, 100 + s_idx, i]
            rng = np.random.default_rng(ss + [1])
            n, n_in, n_out = _sequence_plan(i, num_objects, rng, events)
            overrides = ({n: tuple(unseen_categories)[0]}
                         if split != 'train' and i == 0 and unseen_categories else None)
            seq = SyntheticVOSSequence(width, height, num_frames, seed=ss, num_objects=n,
                                       num_entering=n_in, num_vanishing=n_out, shapes=shapes,
                                       shape_overrides=overrides)
            frames, masks, info = seq.render_all()
            name = f'{split}{i:04d}'
            fnames = [f'{frame_step * t:05d}' for t in range(num_frames)]
            objects = {}
            for o in info['objects']:
                if o['first_frame'] < 0:
                    continue  # never visible: not annotated
                if sparse:
                    frames_listed = fnames[o['first_frame']:]
                else:
                    frames_listed = [fnames[t] for t, v in enumerate(o['visible_area']) if v > 0]
                objects[str(o['id'])] = dict(category=o['category'], frames=frames_listed)
            meta['videos'][name] = dict(objects=objects)
            for t in range(num_frames):
                _write_jpeg(osp.join(split_root, 'JPEGImages', name, fnames[t] + '.jpg'),
                            frames[t], jpeg_quality)
                m = masks[t]
                if sparse:
                    starting = [o['id'] for o in info['objects'] if o['first_frame'] == t]
                    if starting:
                        write_palette_mask(
                            osp.join(split_root, 'Annotations', name, fnames[t] + '.png'),
                            np.where(np.isin(m, starting), m, 0))
                    if dense_valid_subdir:
                        write_palette_mask(
                            osp.join(split_root, dense_valid_subdir, name, fnames[t] + '.png'),
                            m)
                else:
                    write_palette_mask(osp.join(split_root, 'Annotations', name,
                                                fnames[t] + '.png'), m)
            info.update(name=name, frame_names=fnames)
            infos.append(info)
        os.makedirs(split_root, exist_ok=True)
        with open(osp.join(split_root, 'meta.json'), 'w') as f:
            json.dump(meta, f, indent=1, sort_keys=True)
        out[split] = infos
    return out
