"""Synthetic FlyingChairs-like optical-flow pairs with exact flow and
occlusion, written in the FlyingChairs and KITTI-2015 layouts.

A pair is a textured background under a small affine camera motion with
``num_shapes`` textured shapes (ellipses, boxes, diamonds) in front of it,
each under its own affine motion (translation, rotation, scale), as the
FlyingChairs recipe (Dosovitskiy et al., FlowNet, ICCV 2015: chairs pasted
over Flickr backgrounds, both under random affine motions). Every layer is
rendered by inverse mapping of its texture, so for a pixel ``x`` of frame 1
on layer ``L`` (the top-most shape covering it, else the background) with
frame transforms ``T1``, ``T2`` the flow is exactly
``T2(T1^-1(x)) - x``, and frame 2 shows at ``x + flow`` the same texture
point (up to the bilinear sampling of the texture). A pixel is occluded when
its point leaves the frame or another layer covers it in frame 2 (both
tested analytically at the continuous position).

Layouts::

    chairs: ROOT/data/{i:05d}_img1.ppm, {i:05d}_img2.ppm, {i:05d}_flow.flo
            ROOT/FlyingChairs_train_val.txt   (one line per pair: 1 train, 2 val)
    kitti:  ROOT/training/image_2/{i:06d}_10.png, {i:06d}_11.png
            ROOT/training/flow_occ/{i:06d}_10.png  (valid: ground truth exists)
            ROOT/training/flow_noc/{i:06d}_10.png  (valid also: not occluded)
            ROOT/testing/image_2/{i:06d}_10.png, {i:06d}_11.png

KITTI flow PNGs are 16-bit (``u * 64 + 2**15``, ``v * 64 + 2**15``, valid),
with ``kitti_density`` of the pixels carrying ground truth (KITTI's is
sparse, from LiDAR). Files are written atomically.
"""
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from mmdropmae.utils.fileio import atomic_open, atomic_write_text
from mmdropmae.utils.flow_io import write_flo as write_flo_atomic  # noqa: F401
from mmdropmae.utils.flow_io import write_kitti_flow as write_kitti_flow_png  # noqa: F401
from .renderer import random_texture

SeedLike = Union[int, Sequence[int], np.random.SeedSequence]
SHAPES = ('ellipse', 'box', 'diamond')

__all__ = [
    'SyntheticFlowPair', 'render_flow_pair', 'make_synthetic_chairs', 'make_synthetic_kitti',
    'write_image_atomic', 'write_flo_atomic', 'write_kitti_flow_png'
]


# --------------------------------------------------------------------- geometry
def _affine(angle: float, scale: float, centre: Sequence[float]) -> np.ndarray:
    """2x3 matrix ``x = s R u + c`` (texture coordinates ``u`` centred)."""
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    return np.array([[c, -s, centre[0]], [s, c, centre[1]]], np.float64)


def _inverse(m: np.ndarray) -> np.ndarray:
    a = m[:, :2]
    ai = np.linalg.inv(a)
    return np.concatenate([ai, -ai @ m[:, 2:]], 1)


def _apply(m: np.ndarray, x: np.ndarray, y: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    return m[0, 0] * x + m[0, 1] * y + m[0, 2], m[1, 0] * x + m[1, 1] * y + m[1, 2]


class _Layer:

    def __init__(self, texture: np.ndarray, shape: Optional[str], half: Tuple[float, float],
                 t1: np.ndarray, t2: np.ndarray):
        self.texture = texture
        self.shape = shape  # None: the background (covers everything)
        self.half = half  # half axes (a, b) in texture pixels
        self.t = (t1, t2)

    def local(self, frame: int, x: np.ndarray, y: np.ndarray):
        return _apply(_inverse(self.t[frame]), x, y)

    def inside(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        if self.shape is None:
            return np.ones(u.shape, bool)
        a, b = self.half
        if self.shape == 'ellipse':
            return (u / a)**2 + (v / b)**2 <= 1.0
        if self.shape == 'box':
            return (np.abs(u) <= a) & (np.abs(v) <= b)
        return np.abs(u) / a + np.abs(v) / b <= 1.0  # diamond

    def sample(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        th, tw = self.texture.shape[:2]
        mx = (u + (tw - 1) / 2.0).astype(np.float32)
        my = (v + (th - 1) / 2.0).astype(np.float32)
        return cv2.remap(self.texture, mx, my, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT_101)


class SyntheticFlowPair:
    """One deterministic FlyingChairs-like pair.

    Args:
        width (int): Image width.
        height (int): Image height.
        seed (int | Sequence[int]): Seed of everything random.
        num_shapes (int | tuple): Shapes in front of the background, or an
            inclusive range ``(lo, hi)``.
        max_translation (float): Largest shape translation (pixels, per
            axis) between the frames.
        max_bg_translation (float): Largest background translation.
        max_rotation (float): Largest shape rotation (degrees); the
            background rotates by at most a quarter of it.
        max_zoom (float): Largest relative shape scale change (0.1: x0.9 to
            x1.1); the background zooms by at most half of it.
        shape_size (tuple): Range of the shapes' size as a fraction of the
            image's short side.
        texture_detail (float): Standard deviation (grey levels) of a fine
            noise grain (white noise blurred with sigma 1.2 texels) added to
            every texture; it moves with its layer, so the flow stays exact.
            The detail makes motion observable inside the otherwise smooth,
            few-coloured textures. 0 (default): none.
    """

    def __init__(self,
                 width: int = 96,
                 height: int = 64,
                 seed: SeedLike = 0,
                 num_shapes: Union[int, Tuple[int, int]] = (2, 4),
                 max_translation: float = 6.0,
                 max_bg_translation: float = 4.0,
                 max_rotation: float = 10.0,
                 max_zoom: float = 0.1,
                 shape_size: Tuple[float, float] = (0.25, 0.5),
                 texture_detail: float = 0.0):
        if width < 8 or height < 8:
            raise ValueError(f'image size must be at least 8x8, got {width}x{height}')
        self.width, self.height = int(width), int(height)
        rng = np.random.default_rng(seed)
        if isinstance(num_shapes, (tuple, list)):
            num_shapes = int(rng.integers(num_shapes[0], num_shapes[1] + 1))
        w, h = self.width, self.height
        # the grain has its own stream: the scene and its motion do not
        # depend on texture_detail
        grain_rng = np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0])

        def texture(th: int, tw: int) -> np.ndarray:
            tex = random_texture(rng, th, tw)
            if texture_detail > 0:
                # noise blurred to a 2-3 px grain, which bilinear resampling
                # under sub-pixel motion keeps (per-texel noise it would not)
                noise = cv2.GaussianBlur(grain_rng.normal(0, 1, tex.shape).astype(np.float32),
                                         (0, 0), 1.2)
                noise *= texture_detail / max(float(noise.std()), 1e-6)
                tex = np.clip(tex + noise, 0, 255)
            return tex

        # background: a texture twice the image, under a small camera motion
        bg_tex = texture(2 * h, 2 * w)
        rot = math.radians(max_rotation) / 4
        centre = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
        a0 = rng.uniform(-rot, rot)
        s0 = 1.0
        t1 = _affine(a0, s0, centre)
        t2 = _affine(a0 + rng.uniform(-rot, rot), s0 * (1 + rng.uniform(-1, 1) * max_zoom / 2),
                     centre + rng.uniform(-max_bg_translation, max_bg_translation, 2))
        self.layers: List[_Layer] = [_Layer(bg_tex, None, (0, 0), t1, t2)]
        short = min(w, h)
        for _ in range(int(num_shapes)):
            size = rng.uniform(*shape_size) * short
            aspect = rng.uniform(0.6, 1.0)
            half = (size / 2.0, size / 2.0 * aspect)
            tex_side = int(math.ceil(size * 1.5)) + 4
            tex = texture(tex_side, tex_side)
            c1 = np.array([rng.uniform(0, w - 1), rng.uniform(0, h - 1)])
            ang = rng.uniform(-math.pi, math.pi)
            sc = rng.uniform(0.9, 1.1)
            m1 = _affine(ang, sc, c1)
            m2 = _affine(ang + math.radians(rng.uniform(-max_rotation, max_rotation)),
                         sc * (1 + rng.uniform(-max_zoom, max_zoom)),
                         c1 + rng.uniform(-max_translation, max_translation, 2))
            self.layers.append(_Layer(tex, str(rng.choice(SHAPES)), half, m1, m2))

    def _label(self, frame: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the top-most layer covering the (continuous) points."""
        label = np.zeros(x.shape, np.int64)
        for k, layer in enumerate(self.layers[1:], start=1):
            u, v = layer.local(frame, x, y)
            label[layer.inside(u, v)] = k
        return label

    def render(self) -> Dict[str, np.ndarray]:
        """The pair.

        Returns:
            dict: ``img1``, ``img2`` (H, W, 3) RGB ``uint8``; ``flow``
            (H, W, 2) ``float32`` exact forward flow of frame 1; ``occlusion``
            (H, W) bool (True: the point is not visible in frame 2);
            ``label1`` (H, W) layer index of frame 1.
        """
        h, w = self.height, self.width
        y, x = np.mgrid[0:h, 0:w].astype(np.float64)
        imgs, labels = [], []
        for frame in (0, 1):
            label = self._label(frame, x, y)
            img = np.zeros((h, w, 3), np.float32)
            for k, layer in enumerate(self.layers):
                sel = label == k
                if sel.any():
                    u, v = layer.local(frame, x, y)
                    img[sel] = layer.sample(u, v)[sel]
            imgs.append(np.clip(np.round(img), 0, 255).astype(np.uint8))
            labels.append(label)
        flow = np.zeros((h, w, 2), np.float64)
        x2, y2 = np.empty_like(x), np.empty_like(y)
        for k, layer in enumerate(self.layers):
            sel = labels[0] == k
            u, v = layer.local(0, x, y)
            px, py = _apply(layer.t[1], u, v)
            x2[sel], y2[sel] = px[sel], py[sel]
        flow[..., 0], flow[..., 1] = x2 - x, y2 - y
        inside = (x2 >= 0) & (x2 <= w - 1) & (y2 >= 0) & (y2 <= h - 1)
        occluded = ~inside | (self._label(1, x2, y2) != labels[0])
        return dict(img1=imgs[0], img2=imgs[1], flow=flow.astype(np.float32),
                    occlusion=occluded, label1=labels[0])


def render_flow_pair(width: int = 96, height: int = 64, seed: SeedLike = 0,
                     **kwargs) -> Dict[str, np.ndarray]:
    """:meth:`SyntheticFlowPair.render` of ``SyntheticFlowPair(width, height,
    seed, **kwargs)``."""
    return SyntheticFlowPair(width, height, seed, **kwargs).render()


# --------------------------------------------------------------------- writers
def write_image_atomic(path: str, rgb: np.ndarray) -> None:
    """RGB ``uint8`` image -> file (format from the ending: .ppm, .png)."""
    ext = osp.splitext(path)[1].lower()
    ok, buf = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f'could not encode {path}')
    with atomic_open(path, 'wb', suffix=ext) as f:
        f.write(buf.tobytes())


def _pairs(num: int, size: Tuple[int, int], seed: int, offset: int, kwargs: dict):
    for i in range(num):
        yield i, render_flow_pair(size[0], size[1], seed=[seed, offset + i], **kwargs)


def make_synthetic_chairs(root: str,
                          num_train: int = 8,
                          num_val: int = 2,
                          size: Tuple[int, int] = (96, 64),
                          seed: int = 0,
                          **pair_kwargs) -> Dict[str, int]:
    """Write pairs in the FlyingChairs layout (see the module docstring).

    Pairs ``1..num_train`` are training (split 1), the next ``num_val``
    validation (split 2).

    Args:
        root (str): Output folder (``FlyingChairs_release``-like).
        num_train (int): Training pairs.
        num_val (int): Validation pairs.
        size (tuple): ``(width, height)``.
        seed (int): Seed; pair ``i`` uses ``[seed, i]``.
        **pair_kwargs: :class:`SyntheticFlowPair` options.

    Returns:
        dict: Number of pairs per split.
    """
    total = num_train + num_val
    if total < 1:
        raise ValueError('make_synthetic_chairs needs at least one pair')
    data = osp.join(root, 'data')
    for i, pair in _pairs(total, size, seed, 0, pair_kwargs):
        stem = osp.join(data, f'{i + 1:05d}')
        write_image_atomic(stem + '_img1.ppm', pair['img1'])
        write_image_atomic(stem + '_img2.ppm', pair['img2'])
        write_flo_atomic(stem + '_flow.flo', pair['flow'])
    atomic_write_text(osp.join(root, 'FlyingChairs_train_val.txt'),
                      ''.join('1\n' if i < num_train else '2\n' for i in range(total)))
    return dict(train=num_train, val=num_val)


def make_synthetic_kitti(root: str,
                         num_train: int = 4,
                         num_test: int = 1,
                         size: Tuple[int, int] = (96, 64),
                         seed: int = 0,
                         kitti_density: float = 0.5,
                         **pair_kwargs) -> Dict[str, int]:
    """Write pairs in the KITTI-2015 layout (see the module docstring).

    Args:
        root (str): Output folder (holding ``training/`` and ``testing/``).
        num_train (int): Pairs with ground truth (``training``).
        num_test (int): Pairs without (``testing``).
        size (tuple): ``(width, height)``.
        seed (int): Seed; training pair ``i`` uses ``[seed, 1000 + i]``,
            test pair ``i`` ``[seed, 2000 + i]``.
        kitti_density (float): Share of the pixels with ground truth.
        **pair_kwargs: :class:`SyntheticFlowPair` options.

    Returns:
        dict: Number of pairs per split.
    """
    if not 0 < kitti_density <= 1:
        raise ValueError(f'kitti_density must be in (0, 1], got {kitti_density}')
    tr = osp.join(root, 'training')
    for i, pair in _pairs(num_train, size, seed, 1000, pair_kwargs):
        name = f'{i:06d}'
        write_image_atomic(osp.join(tr, 'image_2', f'{name}_10.png'), pair['img1'])
        write_image_atomic(osp.join(tr, 'image_2', f'{name}_11.png'), pair['img2'])
        rng = np.random.default_rng([seed, 3000 + i])
        valid = rng.random(pair['flow'].shape[:2]) < kitti_density
        write_kitti_flow_png(osp.join(tr, 'flow_occ', f'{name}_10.png'), pair['flow'], valid)
        write_kitti_flow_png(osp.join(tr, 'flow_noc', f'{name}_10.png'), pair['flow'],
                             valid & ~pair['occlusion'])
    te = osp.join(root, 'testing', 'image_2')
    for i, pair in _pairs(num_test, size, seed, 2000, pair_kwargs):
        write_image_atomic(osp.join(te, f'{i:06d}_10.png'), pair['img1'])
        write_image_atomic(osp.join(te, f'{i:06d}_11.png'), pair['img2'])
    return dict(training=num_train, testing=num_test)
