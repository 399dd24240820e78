"""Reading LiDAR point clouds: KITTI velodyne ``.bin``, nuScenes
``.pcd.bin`` and, through ``open3d.io``, ``.pcd`` / ``.ply``.

Every reader returns (N, 4) float32 ``x, y, z, reflectance``; errors are
:class:`PointCloudReadError` naming the file (and, where the caller says
it, the sequence and frame).
"""
import os
import os.path as osp
from typing import Optional

import numpy as np

__all__ = ['PointCloudReadError', 'load_points', 'POINT_EXTENSIONS']

#: File endings :func:`load_points` reads.
POINT_EXTENSIONS = ('.bin', '.pcd.bin', '.pcd', '.ply')


class PointCloudReadError(ValueError):
    """A missing, truncated or unreadable point-cloud file."""


def _where(path: str, where: Optional[str]) -> str:
    return f'{path} ({where})' if where else path


def _load_bin(path: str, where: Optional[str]) -> np.ndarray:
    size = os.path.getsize(path)
    if size % 16:
        raise PointCloudReadError(
            f'{_where(path, where)}: size {size} bytes is not a multiple of 16 (KITTI velodyne '
            'points are float32 x, y, z, reflectance): the file is truncated or corrupt')
    return np.fromfile(path, dtype=np.float32).reshape(-1, 4)


def _load_nuscenes_bin(path: str, where: Optional[str]) -> np.ndarray:
    """nuScenes LiDAR (``samples/LIDAR_TOP/*.pcd.bin``): float32 x, y, z,
    intensity, ring index, read as the devkit's ``LidarPointCloud.from_file``
    (the first four columns); the intensity (0-255) is divided by 255 to
    KITTI's 0-1 reflectance, the range the BEV intensity channel expects."""
    size = os.path.getsize(path)
    if size % 20:
        raise PointCloudReadError(
            f'{_where(path, where)}: size {size} bytes is not a multiple of 20 (nuScenes LiDAR '
            'points are float32 x, y, z, intensity, ring index): the file is truncated or corrupt')
    pts = np.fromfile(path, dtype=np.float32).reshape(-1, 5)[:, :4].copy()
    pts[:, 3] /= 255.
    return pts


def _load_open3d(path: str, where: Optional[str]) -> np.ndarray:
    import open3d as o3d
    try:
        pcd = o3d.t.io.read_point_cloud(path)
    except Exception as e:  # noqa: BLE001 - open3d raises plain RuntimeError
        raise PointCloudReadError(f'{_where(path, where)}: open3d cannot read it: {e}') from e
    if 'positions' not in pcd.point:
        if os.path.getsize(path) > 0 and _has_header(path):
            return np.zeros((0, 4), np.float32)
        raise PointCloudReadError(f'{_where(path, where)}: open3d read no points (empty or '
                                  'not a point cloud)')
    xyz = pcd.point['positions'].numpy().astype(np.float32).reshape(-1, 3)
    if 'intensity' in pcd.point:
        inten = pcd.point['intensity'].numpy().astype(np.float32).reshape(-1, 1)
    elif 'colors' in pcd.point:  # grey-coded reflectance
        col = pcd.point['colors'].numpy().astype(np.float32).reshape(-1, 3)
        inten = col[:, :1] / (255. if col.max(initial=0) > 1 else 1.)
    else:
        inten = np.zeros((len(xyz), 1), np.float32)
    return np.concatenate([xyz, inten], 1)


def _has_header(path: str) -> bool:
    with open(path, 'rb') as f:
        head = f.read(16)
    return head.startswith(b'ply') or head.startswith(b'#') or head.startswith(b'VERSION')


def load_points(path: str, where: Optional[str] = None) -> np.ndarray:
    """Read a point cloud.

    Args:
        path (str): ``.bin`` (KITTI velodyne: float32 x, y, z, reflectance,
            16 bytes a point), ``.pcd.bin`` (nuScenes: float32 x, y, z,
            intensity, ring, 20 bytes a point; intensity / 255), ``.pcd``
            or ``.ply`` (``open3d.io``; the ``intensity`` attribute, else
            the first colour channel, else 0, is the reflectance).
        where (str, optional): Where the file belongs (e.g. ``'scene 0003
            frame 12'``), added to error messages.

    Returns:
        np.ndarray: (N, 4) float32.

    Raises:
        PointCloudReadError: missing file, ``.bin`` size not a multiple of
            16 bytes (``.pcd.bin``: 20 bytes), unreadable ``.pcd``/``.ply``,
            unknown extension.
    """
    if not osp.isfile(path):
        raise PointCloudReadError(f'{_where(path, where)}: no such point-cloud file')
    ext = osp.splitext(path)[1].lower()
    if path.lower().endswith('.pcd.bin'):
        return _load_nuscenes_bin(path, where)
    if ext == '.bin':
        return _load_bin(path, where)
    if ext in ('.pcd', '.ply'):
        return _load_open3d(path, where)
    raise PointCloudReadError(f'{_where(path, where)}: unknown point-cloud extension {ext!r} '
                              f'(use one of {POINT_EXTENSIONS})')
