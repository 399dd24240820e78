"""LiDAR point and 3D box geometry shared by the 3D SOT data sets and models.

Boxes are ``(cx, cy, cz, l, w, h, yaw)`` in LiDAR coordinates (x forward,
y left, z up), centre = geometric centre, ``l`` along the heading, ``yaw``
about +z from +x: the boxes of Open3DSOT (Ghostish/Open3DSOT
``datasets/kitti.py``, ``coordinate_mode='velodyne'``), whose ``Box`` has
``wlh = (w, l, h)`` with the length on its local x axis. Points are (N, C)
float arrays whose first three columns are x, y, z (KITTI: C = 4, the
fourth the reflectance).

The box frame of a box is the frame with the box centre at the origin and
its heading along +x; Open3DSOT builds its search areas and templates there
(``points_utils.generate_subwindow``, ``cropAndCenterPC``), and so do we.
Only numpy is imported here; Open3D is imported by the functions that use
it.
"""
from typing import Tuple

import numpy as np

__all__ = [
    'wrap_angle', 'rotz', 'kitti_label_to_lidar_box', 'lidar_box_to_kitti_label',
    'points_to_box_frame', 'box_frame_to_world', 'box_in_frame', 'box_from_frame',
    'crop_box_frame', 'points_in_box_mask', 'box3d_corners', 'rasterize_bev',
    'bev_resolution', 'crop_oriented_open3d', 'voxel_downsample_open3d'
]


def wrap_angle(a):
    """Angles wrapped to [-pi, pi)."""
    return (np.asarray(a, np.float64) + np.pi) % (2 * np.pi) - np.pi


def rotz(yaw: float) -> np.ndarray:
    """(3, 3) rotation about +z."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.], [s, c, 0.], [0., 0., 1.]])


def _velo_to_cam4(tr_velo_cam: np.ndarray) -> np.ndarray:
    m = np.asarray(tr_velo_cam, np.float64)
    if m.shape == (3, 4):
        m = np.vstack([m, [0., 0., 0., 1.]])
    if m.shape != (4, 4):
        raise ValueError(f'Tr_velo_cam must be 3x4 or 4x4, got {m.shape}')
    return m


def kitti_label_to_lidar_box(x: float, y: float, z: float, h: float, w: float,
                             length: float, rotation_y: float,
                             tr_velo_cam: np.ndarray) -> np.ndarray:
    """A KITTI tracking label box (camera coordinates) -> LiDAR box.

    As Open3DSOT ``kittiDataset._get_frame_from_anno`` in velodyne mode: the
    label's bottom-centre ``(x, y, z)`` is lifted by ``h / 2`` (camera y
    points down) to the geometric centre, which is mapped by
    ``inv([Tr_velo_cam; 0 0 0 1])`` (``R_rect`` is *not* applied: the
    reference's calib parser drops it, see docs/point_cloud_tracking.md);
    the heading is ``Quaternion(axis=(0, 0, -1), rotation_y) *
    Quaternion(axis=(0, 0, -1), 90 deg)``, i.e. ``yaw = -rotation_y - pi/2``
    about +z (wrapped to [-pi, pi)); size ``(l, w, h)``.
    """
    velo_to_cam = _velo_to_cam4(tr_velo_cam)
    center_cam = np.array([x, y - h / 2., z, 1.])
    center = np.linalg.inv(velo_to_cam) @ center_cam
    yaw = float(wrap_angle(-rotation_y - np.pi / 2))
    return np.array([center[0], center[1], center[2], length, w, h, yaw])


def lidar_box_to_kitti_label(box, tr_velo_cam: np.ndarray) -> Tuple[float, ...]:
    """The inverse of :func:`kitti_label_to_lidar_box`: ``(h, w, l, x, y, z,
    rotation_y)`` of the label line (bottom centre in camera coordinates)."""
    cx, cy, cz, l, w, h, yaw = np.asarray(box, np.float64)
    c = _velo_to_cam4(tr_velo_cam) @ np.array([cx, cy, cz, 1.])
    ry = float(wrap_angle(-yaw - np.pi / 2))
    return h, w, l, c[0], c[1] + h / 2., c[2], ry


def points_to_box_frame(points: np.ndarray, box) -> np.ndarray:
    """Points (N, C) -> the box frame of ``box`` (extra columns kept)."""
    box = np.asarray(box, np.float64)
    out = np.array(points, dtype=np.float32, copy=True).reshape(-1, np.shape(points)[-1])
    xyz = out[:, :3].astype(np.float64) - box[:3]
    out[:, :3] = xyz @ rotz(box[6])  # R^T applied to row vectors
    return out


def box_frame_to_world(points: np.ndarray, box) -> np.ndarray:
    """Box-frame points (N, C) of ``box`` -> world (the inverse)."""
    box = np.asarray(box, np.float64)
    out = np.array(points, dtype=np.float32, copy=True).reshape(-1, np.shape(points)[-1])
    out[:, :3] = out[:, :3].astype(np.float64) @ rotz(box[6]).T + box[:3]
    return out


def box_in_frame(box, ref_box) -> np.ndarray:
    """``box`` expressed in the box frame of ``ref_box``
    (``points_utils.transform_box``)."""
    box, ref = np.asarray(box, np.float64), np.asarray(ref_box, np.float64)
    c = (box[:3] - ref[:3]) @ rotz(ref[6])
    return np.array([c[0], c[1], c[2], box[3], box[4], box[5],
                     float(wrap_angle(box[6] - ref[6]))])


def box_from_frame(local_box, ref_box) -> np.ndarray:
    """A box given in the frame of ``ref_box`` -> world (the inverse of
    :func:`box_in_frame`)."""
    lb, ref = np.asarray(local_box, np.float64), np.asarray(ref_box, np.float64)
    c = rotz(ref[6]) @ lb[:3] + ref[:3]
    return np.array([c[0], c[1], c[2], lb[3], lb[4], lb[5],
                     float(wrap_angle(lb[6] + ref[6]))])


def crop_box_frame(points: np.ndarray, box, scale: float = 1., offset: float = 0.
                   ) -> np.ndarray:
    """The points around ``box``, in its box frame.

    Open3DSOT ``points_utils.generate_subwindow(oriented=True)`` (search
    areas: ``scale=1.25, offset=2``) and ``cropAndCenterPC`` (templates:
    ``scale=1.25, offset=0``): points are moved to the box frame, then kept
    where ``|x| < l * scale / 2 + offset``, ``|y| < w * scale / 2 +
    offset`` and ``|z| < h * scale / 2 + offset`` (strict, every axis,
    the offset in metres on each side).

    Returns:
        np.ndarray: (M, C) float32 box-frame points.
    """
    box = np.asarray(box, np.float64)
    half = box[3:6] * scale / 2. + offset
    pts = np.asarray(points)
    # cheap superset first (the box's bounding circle and z slab), then the
    # exact test in the box frame
    dx = pts[:, 0] - box[0]
    dy = pts[:, 1] - box[1]
    near = (dx * dx + dy * dy < half[0] ** 2 + half[1] ** 2) & \
        (np.abs(pts[:, 2] - box[2]) < half[2])
    local = points_to_box_frame(pts[near], box)
    keep = np.all(np.abs(local[:, :3]) < half, axis=1)
    return local[keep]


def points_in_box_mask(points: np.ndarray, box, scale: float = 1.) -> np.ndarray:
    """Mask of the points strictly inside the (scaled) oriented box
    (``points_utils.get_in_box_mask``)."""
    if len(points) == 0:
        return np.zeros(0, bool)
    local = points_to_box_frame(np.asarray(points)[:, :3], box)
    half = np.asarray(box, np.float64)[3:6] * scale / 2.
    return np.all(np.abs(local[:, :3]) < half, axis=1)


def box3d_corners(box) -> np.ndarray:
    """The eight corners (8, 3) of a box: the four top corners (z + h/2),
    then the four bottom ones, each set counter-clockwise from front-left."""
    cx, cy, cz, l, w, h, yaw = np.asarray(box, np.float64)
    xs = np.array([1, -1, -1, 1, 1, -1, -1, 1]) * l / 2
    ys = np.array([1, 1, -1, -1, 1, 1, -1, -1]) * w / 2
    zs = np.array([1, 1, 1, 1, -1, -1, -1, -1]) * h / 2
    return np.stack([xs, ys, zs], 1) @ rotz(yaw).T + np.array([cx, cy, cz])


def bev_resolution(box, search_size: int, scale: float = 1.25, offset: float = 2.) -> float:
    """Metres per BEV pixel of the square search image of ``box``: the
    image spans ``2 * (max(l, w) * scale / 2 + offset)`` (it holds
    Open3DSOT's whole search area)."""
    box = np.asarray(box, np.float64)
    half = max(box[3], box[4]) * scale / 2. + offset
    return 2. * half / search_size


def rasterize_bev(local_points: np.ndarray, size: int, resolution: float,
                  z_range: Tuple[float, float] = (-2., 2.),
                  density_norm: float = 16.,
                  intensity_range: Tuple[float, float] = (0., 1.)) -> np.ndarray:
    """A 3-channel bird's-eye-view pseudo-image of box-frame points.

    The image is centred on the box-frame origin, ``size`` x ``size`` pixels
    of ``resolution`` metres; column j covers ``x`` in ``[-size/2 + j,
    -size/2 + j + 1) * resolution`` (x forward = right), row i the same
    for ``y`` (y left = down). Channels, each on 0-255 so the ViT's RGB
    patch embedding and the ImageNet normalisation apply unchanged:

    0. height: the highest point of the cell, ``z`` mapped linearly from
       ``z_range`` to 1-255 (0 = empty cell);
    1. density: ``log(1 + n) / log(1 + density_norm)`` of the cell's count
       ``n``, clipped to 1;
    2. intensity: the mean reflectance of the cell mapped from
       ``intensity_range``.

    Returns:
        np.ndarray: (size, size, 3) uint8.
    """
    img = np.zeros((size, size, 3), np.float32)
    pts = np.asarray(local_points, np.float32)
    if len(pts):
        col = np.floor(pts[:, 0] / resolution + size / 2.).astype(np.int64)
        row = np.floor(pts[:, 1] / resolution + size / 2.).astype(np.int64)
        ok = (col >= 0) & (col < size) & (row >= 0) & (row < size)
        col, row, pts = col[ok], row[ok], pts[ok]
        if len(pts):
            flat = row * size + col
            z0, z1 = z_range
            zn = np.clip((pts[:, 2] - z0) / (z1 - z0), 0., 1.) * 254. + 1.
            height = np.zeros(size * size, np.float32)
            np.maximum.at(height, flat, zn)
            count = np.bincount(flat, minlength=size * size).astype(np.float32)
            inten = pts[:, 3] if pts.shape[1] > 3 else np.zeros(len(pts), np.float32)
            i0, i1 = intensity_range
            inten = np.clip((inten - i0) / (i1 - i0), 0., 1.)
            isum = np.bincount(flat, weights=inten, minlength=size * size)
            img[..., 0] = height.reshape(size, size)
            dens = np.minimum(np.log1p(count) / np.log1p(density_norm), 1.)
            img[..., 1] = (dens * 255.).reshape(size, size)
            mean_i = np.where(count > 0, isum / np.maximum(count, 1), 0.)
            img[..., 2] = (mean_i * 255.).reshape(size, size)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def crop_oriented_open3d(points: np.ndarray, box, scale: float = 1., offset: float = 0.
                         ) -> np.ndarray:
    """Indices of the points inside the (scaled, enlarged) oriented box,
    with Open3D's ``OrientedBoundingBox.get_point_indices_within_bounding_box``
    (same region as :func:`crop_box_frame`; Open3D includes the faces)."""
    import open3d as o3d
    box = np.asarray(box, np.float64)
    extent = box[3:6] * scale + 2. * offset
    obb = o3d.geometry.OrientedBoundingBox(box[:3], rotz(box[6]), extent)
    pcd = o3d.geometry.PointCloud(
        o3d.utility.Vector3dVector(np.asarray(points, np.float64)[:, :3]))
    return np.asarray(obb.get_point_indices_within_bounding_box(pcd.points), np.int64)


def voxel_downsample_open3d(points: np.ndarray, voxel_size: float) -> np.ndarray:
    """Open3D voxel down-sampling (one averaged point per occupied voxel;
    the reflectance, carried as a grey colour, is averaged too)."""
    import open3d as o3d
    pts = np.asarray(points, np.float64)
    if len(pts) == 0:
        return np.zeros((0, pts.shape[1] if pts.ndim == 2 else 4), np.float32)
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts[:, :3]))
    if pts.shape[1] > 3:
        pcd.colors = o3d.utility.Vector3dVector(np.repeat(np.clip(pts[:, 3:4], 0, 1), 3, 1))
    down = pcd.voxel_down_sample(float(voxel_size))
    xyz = np.asarray(down.points)
    if pts.shape[1] > 3:
        return np.concatenate([xyz, np.asarray(down.colors)[:, :1]], 1).astype(np.float32)
    return xyz.astype(np.float32)
