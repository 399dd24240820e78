"""Synthetic LiDAR sequences in the KITTI tracking layout, ray-cast with
Open3D's ``RaycastingScene``.

A scene is a ground plane, two long walls (20 m to each side) and box-shaped
objects (Car, Van, Pedestrian, Cyclist sizes) moving with constant speed and a slowly turning
heading, seen by a spinning multi-beam LiDAR (``beams`` rings between
``fov`` degrees of elevation, one ray every ``azimuth_step`` degrees,
``max_range`` metres, Gaussian range noise) mounted 1.73 m above the ground
on a moving ego vehicle. Every frame is written as KITTI tracking data
(``velodyne/SSSS/FFFFFF.bin`` in the sensor frame, ``label_02/SSSS.txt``
camera-frame boxes through ``calib/SSSS.txt``'s ``Tr_velo_cam``), so the
boxes read back by :class:`~mmdropmae.datasets.sot3d.KittiTrackingSOTDataset`
are the exact ones of the simulation. ``R_rect`` is the identity, so the
Open3DSOT conversion (which ignores it) is exact here.

Hard cases on purpose: a *sparse* object far from the sensor (few points),
and *dropout* spans where an object's mesh is left out of the scene (the
box is labelled, but no ray hits it: frames where the target has no
points).
"""
import math
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np

from mmdropmae.utils.fileio import atomic_open, atomic_write_text
from mmdropmae.utils.points import (box3d_corners, lidar_box_to_kitti_label,
                                    points_in_box_mask, rotz)

__all__ = ['OBJECT_SIZES', 'default_kitti_calib', 'target_point_count', 'write_kitti_calib',
           'SyntheticLidarScene',
           'make_synthetic_kitti_tracking', 'write_corrupt_bin']

#: (l, w, h) metres and speed range (m / frame at 10 Hz) per category.
OBJECT_SIZES = {
    'Car': ((4.0, 1.7, 1.5), (0.3, 0.9)),
    'Van': ((5.0, 2.0, 2.1), (0.3, 0.8)),
    'Pedestrian': ((0.8, 0.6, 1.75), (0.05, 0.15)),
    'Cyclist': ((1.8, 0.6, 1.7), (0.15, 0.4)),
}
SENSOR_HEIGHT = 1.73  # KITTI's Velodyne above the ground
IMAGE_SIZE = (1242, 375)


def default_kitti_calib() -> Dict[str, np.ndarray]:
    """A KITTI-like calibration: ``Tr_velo_cam`` maps LiDAR (x fwd, y left,
    z up) to camera (x right, y down, z fwd) with a small offset;
    ``R_rect`` is the identity; ``P0``..``P3`` a 721.5 px pinhole."""
    tr = np.array([[0., -1., 0., 0.0], [0., 0., -1., -0.08], [1., 0., 0., -0.27]])
    p = np.array([[721.5, 0., 609.6, 0.], [0., 721.5, 172.9, 0.], [0., 0., 1., 0.]])
    return dict(P0=p, P1=p, P2=p, P3=p, R_rect=np.eye(3), Tr_velo_cam=tr,
                Tr_imu_velo=np.hstack([np.eye(3), np.zeros((3, 1))]))


def write_kitti_calib(path: str, calib: Dict[str, np.ndarray]) -> None:
    """Write a calib file in the KITTI tracking layout."""
    lines = []
    for key in ('P0', 'P1', 'P2', 'P3'):
        lines.append(f'{key}: ' + ' '.join(f'{v:.12e}' for v in calib[key].ravel()))
    lines.append('R_rect ' + ' '.join(f'{v:.12e}' for v in calib['R_rect'].ravel()))
    lines.append('Tr_velo_cam ' + ' '.join(f'{v:.12e}' for v in calib['Tr_velo_cam'].ravel()))
    lines.append('Tr_imu_velo ' + ' '.join(f'{v:.12e}' for v in calib['Tr_imu_velo'].ravel()))
    atomic_write_text(path, '\n'.join(lines) + '\n')


def write_corrupt_bin(path: str, num_points: int = 10) -> None:
    """A velodyne ``.bin`` truncated mid-point (size not a multiple of 16)."""
    data = np.random.default_rng(0).normal(size=(num_points, 4)).astype(np.float32).tobytes()
    with atomic_open(path, 'wb', suffix='.bin') as f:
        f.write(data[:-6])


def target_point_count(points: np.ndarray, box: np.ndarray, ground_margin: float = 0.1) -> int:
    """Points of a sensor-frame cloud inside the oriented ``box`` and more
    than ``ground_margin`` above the ground (ground returns, noisy by
    ``noise`` along the ray, never count)."""
    if len(points) == 0:
        return 0
    above = points[:, 2] > -SENSOR_HEIGHT + ground_margin
    return int((points_in_box_mask(points, box) & above).sum())


def _box_mesh(box: np.ndarray):
    import open3d as o3d
    cx, cy, cz, l, w, h, yaw = box
    mesh = o3d.geometry.TriangleMesh.create_box(float(l), float(w), float(h))
    mesh.translate((-l / 2, -w / 2, -h / 2))
    mesh.rotate(rotz(yaw), center=(0., 0., 0.))
    mesh.translate((cx, cy, cz))
    return o3d.t.geometry.TriangleMesh.from_legacy(mesh)


class SyntheticLidarScene:
    """One simulated scene: objects, ego motion and the LiDAR.

    Args:
        num_frames (int): Frames.
        categories (Sequence[str]): One object per entry.
        rng (np.random.Generator): Randomness.
        beams (int): LiDAR rings. Defaults to 32.
        fov (tuple): Elevation range (degrees). Defaults to (-24.8, 2).
        azimuth_step (float): Degrees between rays of a ring. Defaults to 0.5.
        max_range (float): Metres. Defaults to 60.
        noise (float): Range noise std (m). Defaults to 0.02.
        ego_speed (float): Ego motion (m / frame) along +x. Defaults to 0.3.
        sparse (bool): Put the last object far away (30-45 m). Defaults to
            True.
        dropout (bool): Leave the first object out of 1-3 spans of 2-4
            frames (labelled, no points). Defaults to True.
    """

    def __init__(self,
                 num_frames: int,
                 categories: Sequence[str],
                 rng: np.random.Generator,
                 beams: int = 32,
                 fov: Tuple[float, float] = (-24.8, 2.),
                 azimuth_step: float = 0.5,
                 max_range: float = 60.,
                 noise: float = 0.02,
                 ego_speed: float = 0.3,
                 sparse: bool = True,
                 dropout: bool = True):
        for c in categories:
            if c not in OBJECT_SIZES:
                raise ValueError(f'unknown category {c!r}; choose from {sorted(OBJECT_SIZES)}')
        self.num_frames = num_frames
        self.categories = list(categories)
        self.max_range = max_range
        self.noise = noise
        self.rng = rng
        elev = np.deg2rad(np.linspace(fov[0], fov[1], beams))
        azim = np.deg2rad(np.arange(-180., 180., azimuth_step))
        el, az = np.meshgrid(elev, azim, indexing='ij')
        self.dirs = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)],
                             -1).reshape(-1, 3).astype(np.float32)
        self.ego = np.stack([np.arange(num_frames) * ego_speed, np.zeros(num_frames)], 1)
        self.boxes = np.zeros((len(categories), num_frames, 7))
        self.reflectance = rng.uniform(0.5, 0.95, len(categories))
        self.hidden = np.zeros((len(categories), num_frames), bool)
        for k, cat in enumerate(self.categories):
            # redraw the track until it stays clear of the sensor and of the
            # objects placed before it (footprint circles), in every frame
            for _ in range(100):
                self.boxes[k] = self._draw_track(cat, k, sparse)
                if self._clear(k):
                    break
            if dropout and k == 0 and num_frames >= 8:
                for _ in range(int(rng.integers(1, 4))):
                    s = int(rng.integers(2, num_frames - 4))
                    self.hidden[k, s:s + int(rng.integers(2, 5))] = True

    def _draw_track(self, cat: str, k: int, sparse: bool) -> np.ndarray:
        rng = self.rng
        (l, w, h), (v0, v1) = OBJECT_SIZES[cat]
        size = np.array([l, w, h]) * rng.uniform(0.9, 1.1, 3)
        far = sparse and k == len(self.categories) - 1 and len(self.categories) > 1
        x0 = rng.uniform(30., 45.) if far else rng.uniform(6., 22.)
        y0 = rng.choice([-1., 1.]) * rng.uniform(2.5, 9.)
        yaw = rng.uniform(-0.35, 0.35) + (np.pi if rng.random() < 0.3 else 0.)
        if cat == 'Pedestrian':
            yaw = rng.uniform(-np.pi, np.pi)
        speed = rng.uniform(v0, v1)
        yaw_rate = rng.uniform(-0.02, 0.02)
        pos = np.array([x0, y0])
        track = np.zeros((self.num_frames, 7))
        for t in range(self.num_frames):
            track[t] = [pos[0], pos[1], size[2] / 2, size[0], size[1], size[2], yaw]
            pos = pos + speed * np.array([np.cos(yaw), np.sin(yaw)])
            yaw = float((yaw + yaw_rate + np.pi) % (2 * np.pi) - np.pi)
        return track

    def _clear(self, k: int) -> bool:
        b = self.boxes[k]
        r = np.hypot(b[:, 3], b[:, 4]) / 2
        if (np.hypot(b[:, 0] - self.ego[:, 0], b[:, 1] - self.ego[:, 1]) < r + 1.5).any():
            return False
        if (np.abs(b[:, 1]) + r > 19.).any():  # inside a wall
            return False
        for j in range(k):
            o = self.boxes[j]
            ro = np.hypot(o[:, 3], o[:, 4]) / 2
            if (np.hypot(b[:, 0] - o[:, 0], b[:, 1] - o[:, 1]) < r + ro + 0.3).any():
                return False
        return True

    def sensor_box(self, k: int, t: int) -> np.ndarray:
        """Box ``k`` at frame ``t`` in the sensor (LiDAR) frame."""
        b = self.boxes[k, t].copy()
        b[0] -= self.ego[t, 0]
        b[1] -= self.ego[t, 1]
        b[2] -= SENSOR_HEIGHT
        return b

    def render(self, t: int) -> np.ndarray:
        """Ray-cast frame ``t``: (N, 4) float32 points in the sensor frame."""
        import open3d as o3d
        scene = o3d.t.geometry.RaycastingScene()
        ex, ey = self.ego[t]
        ground = o3d.geometry.TriangleMesh.create_box(400., 400., 0.01)
        ground.translate((ex - 200., ey - 200., -0.01))
        refl = {}
        refl[scene.add_triangles(o3d.t.geometry.TriangleMesh.from_legacy(ground))] = 0.15
        for side in (-1, 1):
            wall = _box_mesh(np.array([ex, ey + side * 20., 1.5, 400., 0.5, 3., 0.]))
            refl[scene.add_triangles(wall)] = 0.35
        for k in range(len(self.categories)):
            if not self.hidden[k, t]:
                refl[scene.add_triangles(_box_mesh(self.boxes[k, t]))] = self.reflectance[k]
        origin = np.array([ex, ey, SENSOR_HEIGHT], np.float32)
        rays = np.concatenate([np.broadcast_to(origin, self.dirs.shape), self.dirs], 1)
        ans = scene.cast_rays(o3d.core.Tensor(rays.astype(np.float32)))
        dist = ans['t_hit'].numpy()
        gid = ans['geometry_ids'].numpy()
        ok = np.isfinite(dist) & (dist < self.max_range)
        dist = dist[ok] + self.rng.normal(0., self.noise, int(ok.sum()))
        xyz = self.dirs[ok] * dist[:, None] + origin - np.array([ex, ey, SENSOR_HEIGHT])
        inten = np.array([refl.get(int(g), 0.) for g in gid[ok]], np.float32)
        inten = np.clip(inten + self.rng.normal(0., 0.03, len(inten)), 0., 1.)
        return np.concatenate([xyz, inten[:, None]], 1).astype(np.float32)


def _label_line(frame: int, tid: int, cat: str, box: np.ndarray, calib: dict) -> str:
    h, w, l, x, y, z, ry = lidar_box_to_kitti_label(box, calib['Tr_velo_cam'])
    alpha = ry - math.atan2(x, z)
    bbox = [0., 0., 0., 0.]
    if z > 0.5:  # 2D box of the corners in front of the camera
        cam = np.vstack([calib['Tr_velo_cam'], [0, 0, 0, 1]]) @ np.hstack(
            [box3d_corners(box), np.ones((8, 1))]).T
        front = cam[2] > 0.1
        if front.any():
            uv = calib['P2'] @ cam[:, front]
            uv = uv[:2] / uv[2]
            bbox = [float(np.clip(uv[0].min(), 0, IMAGE_SIZE[0] - 1)),
                    float(np.clip(uv[1].min(), 0, IMAGE_SIZE[1] - 1)),
                    float(np.clip(uv[0].max(), 0, IMAGE_SIZE[0] - 1)),
                    float(np.clip(uv[1].max(), 0, IMAGE_SIZE[1] - 1))]
    vals = [0, 0, alpha] + bbox + [h, w, l, x, y, z, ry]
    return f'{frame} {tid} {cat} ' + ' '.join(
        str(int(v)) if i < 2 else f'{v:.6f}' for i, v in enumerate(vals))


def make_synthetic_kitti_tracking(root: str,
                                  scenes: Sequence[int] = (0, 1, 2, 19),
                                  num_frames: int = 40,
                                  categories: Sequence[str] = ('Car', 'Car', 'Pedestrian'),
                                  seed: int = 0,
                                  **scene_kwargs) -> Dict[str, dict]:
    """Write scenes in the KITTI tracking layout under ``root``.

    Args:
        root (str): Output folder (``velodyne/``, ``label_02/``, ``calib/``).
        scenes (Sequence[int]): Scene ids (``SSSS``).
        num_frames (int): Frames per scene.
        categories (Sequence[str]): Objects of every scene (track ids 0..).
        seed (int): Base seed (scene s uses ``seed + s``).
        **scene_kwargs: :class:`SyntheticLidarScene` options (``beams``,
            ``azimuth_step``, ``max_range``, ``noise``, ``ego_speed``,
            ``sparse``, ``dropout``).

    Returns:
        dict: per scene ``SSSS``: ``points_per_object`` (K, T) target point
        counts (:func:`target_point_count`), ``hidden`` (K, T) dropout flags,
        ``categories``.
    """
    calib = default_kitti_calib()
    summary = {}
    for s in scenes:
        name = f'{int(s):04d}'
        rng = np.random.default_rng(seed + int(s))
        scene = SyntheticLidarScene(num_frames, categories, rng, **scene_kwargs)
        write_kitti_calib(osp.join(root, 'calib', f'{name}.txt'), calib)
        os.makedirs(osp.join(root, 'velodyne', name), exist_ok=True)
        counts = np.zeros((len(categories), num_frames), np.int64)
        lines: List[str] = []
        for t in range(num_frames):
            pts = scene.render(t)
            with atomic_open(osp.join(root, 'velodyne', name, f'{t:06d}.bin'), 'wb',
                             suffix='.bin') as f:
                f.write(pts.astype(np.float32).tobytes())
            for k, cat in enumerate(categories):
                box = scene.sensor_box(k, t)
                counts[k, t] = target_point_count(pts, box)
                lines.append(_label_line(t, k, cat, box, calib))
        atomic_write_text(osp.join(root, 'label_02', f'{name}.txt'), '\n'.join(lines) + '\n')
        summary[name] = dict(points_per_object=counts, hidden=scene.hidden.copy(),
                             categories=list(categories))
    return summary
