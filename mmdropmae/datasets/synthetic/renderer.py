"""Deterministic renderer of synthetic videos.

A synthetic video is a textured background seen through a moving, zooming
camera, with several textured objects (discs, ellipses, boxes, triangles,
stars) that translate, bounce off the frame borders, rotate and change size.
Everything is drawn from one seed, so the same arguments give the same frames
bit for bit. The frames are RGB ``uint8`` arrays of shape ``(H, W, 3)``.
"""
import math
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

SeedLike = Union[int, Sequence[int], np.random.SeedSequence]

SHAPES = ('disc', 'ellipse', 'box', 'triangle', 'star')


def _rng(seed: SeedLike) -> np.random.Generator:
    return np.random.default_rng(seed)


def smooth_noise(rng: np.random.Generator, height: int, width: int,
                 octaves: int = 4, base_cell: int = 64) -> np.ndarray:
    """Multi-octave value noise in ``[0, 1]``.

    Args:
        rng (np.random.Generator): Random generator.
        height (int): Output height.
        width (int): Output width.
        octaves (int): Number of octaves; each one halves the cell size and
            the amplitude.
        base_cell (int): Cell size in pixels of the coarsest octave.

    Returns:
        np.ndarray: ``float32`` array of shape ``(height, width)``.
    """
    out = np.zeros((height, width), np.float32)
    amp, total, cell = 1.0, 0.0, float(base_cell)
    for _ in range(octaves):
        gh = max(2, int(math.ceil(height / cell)) + 1)
        gw = max(2, int(math.ceil(width / cell)) + 1)
        grid = rng.random((gh, gw), dtype=np.float32)
        out += amp * cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
        cell = max(2.0, cell / 2)
    out /= total
    lo, hi = float(out.min()), float(out.max())
    return (out - lo) / max(hi - lo, 1e-6)


def stripes(rng: np.random.Generator, height: int, width: int,
            min_period: float = 6.0, max_period: float = 40.0) -> np.ndarray:
    """Oriented sinusoidal grating in ``[0, 1]`` with a random angle/period."""
    theta = rng.uniform(0, math.pi)
    period = rng.uniform(min_period, max_period)
    phase = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    proj = xx * math.cos(theta) + yy * math.sin(theta)
    return 0.5 + 0.5 * np.sin(2 * math.pi * proj / period + phase).astype(np.float32)


def checker(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Checkerboard in ``{0, 1}`` with a random cell size and offset."""
    cell = int(rng.integers(4, 17))
    oy, ox = rng.integers(0, cell, size=2)
    yy, xx = np.mgrid[0:height, 0:width]
    return ((((yy + oy) // cell) + ((xx + ox) // cell)) % 2).astype(np.float32)


def gradient(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Linear ramp in ``[0, 1]`` along a random direction."""
    theta = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    proj = xx * math.cos(theta) + yy * math.sin(theta)
    lo, hi = float(proj.min()), float(proj.max())
    return (proj - lo) / max(hi - lo, 1e-6)


def colorize(rng: np.random.Generator, tex: np.ndarray, num_colors: int = 3) -> np.ndarray:
    """Map a scalar texture in ``[0, 1]`` to RGB through a random palette.

    Returns:
        np.ndarray: ``float32`` RGB image in ``[0, 255]``.
    """
    palette = rng.uniform(0, 255, size=(num_colors, 3)).astype(np.float32)
    pos = np.clip(tex, 0, 1) * (num_colors - 1)
    i0 = np.clip(np.floor(pos).astype(np.int64), 0, num_colors - 2)
    frac = (pos - i0)[..., None]
    return palette[i0] * (1 - frac) + palette[i0 + 1] * frac


def random_texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """An RGB ``float32`` texture mixing noise, stripes, checkers, gradients."""
    kind = rng.integers(0, 4)
    noise = smooth_noise(rng, height, width, octaves=3,
                         base_cell=max(4, min(height, width) // 3))
    if kind == 0:
        tex = noise
    elif kind == 1:
        tex = 0.6 * stripes(rng, height, width) + 0.4 * noise
    elif kind == 2:
        tex = 0.7 * checker(rng, height, width) + 0.3 * noise
    else:
        tex = 0.5 * gradient(rng, height, width) + 0.5 * stripes(rng, height, width)
    return colorize(rng, tex, num_colors=int(rng.integers(2, 5)))


def shape_polygon(shape: str, size: int, angle: float,
                  aspect: float) -> Optional[np.ndarray]:
    """Vertices (int32, Nx2) of a polygonal shape centred in a size x size box,
    or ``None`` for shapes drawn with ``cv2.ellipse``."""
    c = (size - 1) / 2.0
    r = size / 2.0 * 0.95
    if shape == 'box':
        pts = np.array([[-1, -aspect], [1, -aspect], [1, aspect], [-1, aspect]],
                       np.float64) * r / max(1.0, aspect)
    elif shape == 'triangle':
        t = np.array([-90, 30, 150]) * math.pi / 180
        pts = np.stack([np.cos(t), np.sin(t)], 1) * r
    elif shape == 'star':
        t = np.arange(10) * math.pi / 5 - math.pi / 2
        rad = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
        pts = np.stack([np.cos(t) * rad, np.sin(t) * rad], 1)
    else:
        return None
    rot = np.array([[math.cos(angle), -math.sin(angle)],
                    [math.sin(angle), math.cos(angle)]])
    return np.round(pts @ rot.T + c).astype(np.int32)


@dataclass
class _Object:
    shape: str
    texture: np.ndarray  # float32 RGB, square, rendered at max size
    base_size: float  # pixels
    pos: np.ndarray  # centre (x, y) at frame 0
    vel: np.ndarray  # pixels / frame
    scale_amp: float
    scale_freq: float
    scale_phase: float
    angle0: float
    ang_vel: float
    aspect: float


class SyntheticVideoRenderer:
    """Render a deterministic synthetic video frame by frame.

    Args:
        width (int): Frame width in pixels.
        height (int): Frame height in pixels.
        num_frames (int): Number of frames.
        seed (int | Sequence[int]): Seed of everything random in the video.
        num_objects (int | tuple[int, int]): Number of moving objects, or an
            inclusive range to draw it from. Defaults to (3, 6).
        camera_motion (bool): Whether the camera pans and zooms.
        max_zoom (float): Largest camera zoom factor (>= 1).
        grain (int): Amplitude of the per-frame uniform pixel noise (film
            grain / sensor noise) added to every frame, 0 for none. Real
            footage has some; it makes the bitrate and decoding cost closer to
            real videos.
    """

    def __init__(self,
                 width: int,
                 height: int,
                 num_frames: int,
                 seed: SeedLike = 0,
                 num_objects: Union[int, Tuple[int, int]] = (3, 6),
                 camera_motion: bool = True,
                 max_zoom: float = 1.25,
                 grain: int = 2) -> None:
        if width < 8 or height < 8:
            raise ValueError(f'frame size must be at least 8x8, got {width}x{height}')
        if num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        self.width, self.height, self.num_frames = int(width), int(height), int(num_frames)
        self.seed = seed
        self.grain = int(grain)
        rng = _rng(seed)
        self._grain_seed = int(rng.integers(0, 2**31))
        # Background canvas larger than the view so the camera can move.
        self._margin = 0.25
        ch = int(math.ceil(height * (1 + 2 * self._margin)))
        cw = int(math.ceil(width * (1 + 2 * self._margin)))
        noise = smooth_noise(rng, ch, cw, octaves=5, base_cell=max(8, min(ch, cw) // 4))
        bg = 0.55 * noise + 0.3 * stripes(rng, ch, cw, 10, 80) + 0.15 * gradient(rng, ch, cw)
        self._canvas = np.clip(colorize(rng, bg, 4), 0, 255).astype(np.uint8)
        # Camera: smooth pan (sinusoids) and zoom within the canvas margin.
        self._camera_motion = camera_motion
        self._cam_amp = rng.uniform(0.3, 1.0, size=2) * self._margin * np.array([width, height])
        self._cam_freq = rng.uniform(0.2, 1.0, size=2) / max(num_frames, 2)
        self._cam_phase = rng.uniform(0, 2 * math.pi, size=2)
        self._zoom_amp = rng.uniform(0.0, max(0.0, max_zoom - 1.0))
        self._zoom_freq = rng.uniform(0.3, 1.0) / max(num_frames, 2)
        # Objects.
        if isinstance(num_objects, int):
            n_obj = num_objects
        else:
            n_obj = int(rng.integers(num_objects[0], num_objects[1] + 1))
        short = min(width, height)
        self._objects: List[_Object] = []
        for _ in range(n_obj):
            base = rng.uniform(0.12, 0.3) * short
            scale_amp = rng.uniform(0.0, 0.35)
            tex_size = max(4, int(math.ceil(base * (1 + scale_amp))) + 2)
            speed = rng.uniform(0.005, 0.03) * short
            direction = rng.uniform(0, 2 * math.pi)
            self._objects.append(
                _Object(
                    shape=SHAPES[int(rng.integers(0, len(SHAPES)))],
                    texture=random_texture(rng, tex_size, tex_size),
                    base_size=base,
                    pos=rng.uniform([0, 0], [width, height]),
                    vel=speed * np.array([math.cos(direction), math.sin(direction)]),
                    scale_amp=scale_amp,
                    scale_freq=rng.uniform(0.5, 2.0) / max(num_frames, 2),
                    scale_phase=rng.uniform(0, 2 * math.pi),
                    angle0=rng.uniform(0, 2 * math.pi),
                    ang_vel=rng.uniform(-0.05, 0.05),
                    aspect=rng.uniform(0.5, 1.0)))

    def __len__(self) -> int:
        return self.num_frames

    def camera(self, t: int) -> Tuple[float, float, float]:
        """Camera centre (x, y) in canvas pixels and zoom at frame ``t``."""
        ch, cw = self._canvas.shape[:2]
        cx, cy = cw / 2.0, ch / 2.0
        zoom = 1.0
        if self._camera_motion:
            off = self._cam_amp * np.sin(2 * math.pi * self._cam_freq * t + self._cam_phase)
            cx, cy = cx + off[0], cy + off[1]
            zoom = 1.0 + self._zoom_amp * 0.5 * (1 - math.cos(2 * math.pi * self._zoom_freq * t))
        return float(cx), float(cy), float(zoom)

    def _background(self, t: int) -> np.ndarray:
        cx, cy, zoom = self.camera(t)
        s = 1.0 / zoom
        # Maps output pixel (u, v) to canvas (x, y): x = s * (u - W/2) + cx.
        mat = np.array([[s, 0, cx - s * self.width / 2.0],
                        [0, s, cy - s * self.height / 2.0]], np.float64)
        return cv2.warpAffine(self._canvas, mat, (self.width, self.height),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REFLECT101)

    @staticmethod
    def _bounce(p: float, lo: float, hi: float) -> float:
        span = hi - lo
        if span <= 0:
            return lo
        q = (p - lo) % (2 * span)
        return lo + (q if q <= span else 2 * span - q)

    def object_state(self, obj: _Object, t: int) -> Tuple[float, float, int, float]:
        """Centre x, centre y, size (px) and angle of ``obj`` at frame ``t``."""
        size = obj.base_size * (1 + obj.scale_amp *
                                math.sin(2 * math.pi * obj.scale_freq * t + obj.scale_phase))
        p = obj.pos + obj.vel * t
        x = self._bounce(p[0], 0.0, float(self.width))
        y = self._bounce(p[1], 0.0, float(self.height))
        return x, y, max(3, int(round(size))), obj.angle0 + obj.ang_vel * t

    def _draw_object(self, frame: np.ndarray, obj: _Object, t: int) -> None:
        x, y, size, angle = self.object_state(obj, t)
        patch = cv2.resize(obj.texture, (size, size), interpolation=cv2.INTER_LINEAR)
        mask = np.zeros((size, size), np.uint8)
        poly = shape_polygon(obj.shape, size, angle, obj.aspect)
        c = ((size - 1) / 2.0)
        if poly is not None:
            cv2.fillPoly(mask, [poly], 255, lineType=cv2.LINE_AA)
        else:
            axes = (size / 2.0 * 0.95, size / 2.0 * 0.95 *
                    (obj.aspect if obj.shape == 'ellipse' else 1.0))
            cv2.ellipse(mask, ((c, c), (2 * axes[0], 2 * axes[1]), math.degrees(angle)),
                        255, -1, lineType=cv2.LINE_AA)
        x0, y0 = int(round(x - size / 2.0)), int(round(y - size / 2.0))
        fx0, fy0 = max(0, x0), max(0, y0)
        fx1, fy1 = min(self.width, x0 + size), min(self.height, y0 + size)
        if fx1 <= fx0 or fy1 <= fy0:
            return
        px0, py0 = fx0 - x0, fy0 - y0
        sub_patch = patch[py0:py0 + fy1 - fy0, px0:px0 + fx1 - fx0]
        alpha = mask[py0:py0 + fy1 - fy0, px0:px0 + fx1 - fx0, None].astype(np.float32) / 255
        region = frame[fy0:fy1, fx0:fx1].astype(np.float32)
        frame[fy0:fy1, fx0:fx1] = np.clip(region * (1 - alpha) + sub_patch * alpha + 0.5,
                                          0, 255).astype(np.uint8)

    def render(self, t: int) -> np.ndarray:
        """Render frame ``t`` as an RGB ``uint8`` array of shape (H, W, 3)."""
        if not 0 <= t < self.num_frames:
            raise IndexError(f'frame {t} out of range [0, {self.num_frames})')
        frame = self._background(t)
        for obj in self._objects:
            self._draw_object(frame, obj, t)
        if self.grain > 0:
            noise = np.random.default_rng([self._grain_seed, t]).integers(
                -self.grain, self.grain + 1, size=frame.shape, dtype=np.int16)
            frame = np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        return frame

    def __iter__(self) -> Iterator[np.ndarray]:
        for t in range(self.num_frames):
            yield self.render(t)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(width={self.width}, height={self.height}, '
                f'num_frames={self.num_frames}, seed={self.seed!r}, '
                f'num_objects={len(self._objects)})')
