"""Transforms of 3D single-object tracking on LiDAR points.

Training (Open3DSOT ``datasets/sampler.py``, ``siamese_processing`` with the
``firstandprevious`` template of ``models/base_model.py``):
:class:`LoadSOT3DPoints` reads the first, previous and current frames,
:class:`SOT3DPairToBEV` crops the template (first + previous frame points
in their boxes x 1.25, in each box's frame) and the search area (current
points in the reference box x 1.25 + 2 m, in its frame), rasterises both to
3-channel BEV pseudo-images and computes the target (the current box in the
reference box frame), :class:`PackSOT3DInputs` packs them.

Testing: :class:`LoadSOT3DPoints` reads one frame (a missing or corrupt
file becomes an empty cloud with a warning naming the file and frame, so
that tracking goes on from the last box), :class:`PackSOT3DFrame` packs the
points and the metainfo; the tracker crops and rasterises itself.
"""
import warnings
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmdropmae.registry import TRANSFORMS
from mmdropmae.structures.data_sample import DataSample
from mmdropmae.utils.points import (bev_resolution, box_in_frame, crop_box_frame,
                                    rasterize_bev, voxel_downsample_open3d, wrap_angle)
from ..sot3d.points_io import PointCloudReadError, load_points

__all__ = ['LoadSOT3DPoints', 'SOT3DPairToBEV', 'PackSOT3DInputs', 'PackSOT3DFrame']


def _read(path: str, where: str, on_error: str, voxel_size: Optional[float]) -> tuple:
    try:
        pts = load_points(path, where)
        err = None
    except PointCloudReadError as e:
        if on_error == 'raise':
            raise
        warnings.warn(f'{e}; using an empty point cloud (tracking keeps the last box)')
        pts, err = np.zeros((0, 4), np.float32), str(e)
    if voxel_size and len(pts):
        pts = voxel_downsample_open3d(pts, voxel_size)
    return pts, err


@TRANSFORMS.register_module()
class LoadSOT3DPoints(BaseTransform):
    """Read the point cloud(s) of an item.

    Test items: ``points_path`` -> ``points`` (N, 4) and ``load_error`` (the
    message, or None). Training items: each of ``frames`` gets ``points``.

    An item (or training frame) with a ``points_to_frame`` (4, 4) rigid
    matrix (nuScenes' sensor -> global, Open3DSOT's frame) gets its points'
    x, y, z moved by it, ``p' = R p + t`` (in float64, stored as float32;
    the reflectance is kept), after the voxel down-sampling; without it (or
    None) the points stay as read.

    Args:
        on_error (str): 'warn' (an empty cloud and a warning naming the file
            and frame; Open3DSOT silently uses one point at the origin for
            the missing KITTI frames 0001/000177-000180) or 'raise'.
        voxel_size (float, optional): Open3D voxel down-sampling (metres).
    """

    def __init__(self, on_error: str = 'warn', voxel_size: Optional[float] = None):
        if on_error not in ('warn', 'raise'):
            raise ValueError(f"on_error must be 'warn' or 'raise', got {on_error!r}")
        self.on_error = on_error
        self.voxel_size = voxel_size

    def transform(self, results: dict) -> dict:
        if 'frames' in results:
            for fr in results['frames']:
                fr['points'], fr['load_error'] = _read(fr['points_path'], fr.get('where'),
                                                       self.on_error, self.voxel_size)
                fr['points'] = self._to_frame(fr['points'], fr.get('points_to_frame'),
                                              fr['points_path'], fr.get('where'))
            return results
        where = f"sequence {results.get('video_name')} frame {results.get('frame_id')}"
        if results.get('kitti_frame') is not None:
            where += f" (scene {results.get('scene')} frame {results['kitti_frame']})"
        results['points'], results['load_error'] = _read(results['points_path'], where,
                                                         self.on_error, self.voxel_size)
        results['points'] = self._to_frame(results['points'], results.get('points_to_frame'),
                                           results['points_path'], where)
        return results

    @staticmethod
    def _to_frame(points: np.ndarray, matrix, path: str, where: Optional[str]) -> np.ndarray:
        """``points`` with x, y, z moved by the 4x4 ``matrix`` (None: as is)."""
        if matrix is None:
            return points
        m = np.asarray(matrix, np.float64)
        if m.shape != (4, 4) or not np.all(np.isfinite(m)) or \
                not np.allclose(m[3], [0., 0., 0., 1.]) or \
                not np.allclose(m[:3, :3].T @ m[:3, :3], np.eye(3), atol=1e-6):
            raise ValueError(f'{path} ({where}): points_to_frame must be a finite 4x4 rigid '
                             f'matrix (a rotation, last row 0 0 0 1), got '
                             f'{np.array2string(m)}')
        out = np.array(points, np.float32, copy=True)
        out[:, :3] = np.asarray(points[:, :3], np.float64) @ m[:3, :3].T + m[:3, 3]
        return out


def _jitter(box: np.ndarray, rng: np.random.Generator, std: Sequence[float]) -> np.ndarray:
    """``box`` moved in its own frame by N(0, std) in (x, y, z) and yaw
    (Open3DSOT's ``getOffsetBB``: offsets in the box frame)."""
    b = np.asarray(box, np.float64).copy()
    dx, dy, dz, dyaw = rng.normal(0., 1., 4) * np.asarray(std, np.float64)
    c, s = np.cos(b[6]), np.sin(b[6])
    b[0] += c * dx - s * dy
    b[1] += s * dx + c * dy
    b[2] += dz
    b[6] = float(wrap_angle(b[6] + dyaw))
    return b


def template_points(points_list: Sequence[np.ndarray], boxes: Sequence[np.ndarray],
                    scale: float = 1.25, offset: float = 0.) -> np.ndarray:
    """Open3DSOT ``points_utils.getModel``: each cloud cropped around its
    box (x ``scale`` + ``offset``) in that box's frame, then concatenated."""
    crops = [crop_box_frame(p, b, scale, offset) for p, b in zip(points_list, boxes)]
    crops = [c for c in crops if len(c)]
    if not crops:
        return np.zeros((0, 4), np.float32)
    return np.concatenate(crops, 0)


def bev_pair(template_pts: np.ndarray, search_pts: np.ndarray, box: np.ndarray,
             template_size: int, search_size: int, search_scale: float, search_offset: float,
             z_range: Tuple[float, float]) -> Tuple[np.ndarray, np.ndarray, float]:
    """Template and search BEV images (H, W, 3) uint8 at one resolution
    (:func:`~mmdropmae.utils.points.bev_resolution` of ``box``)."""
    res = bev_resolution(box, search_size, search_scale, search_offset)
    return (rasterize_bev(template_pts, template_size, res, z_range),
            rasterize_bev(search_pts, search_size, res, z_range), res)


@TRANSFORMS.register_module()
class SOT3DPairToBEV(BaseTransform):
    """Template / search BEV pseudo-images and the regression target.

    The reference box of the search area is, with ``reference='previous'``
    (ours, the default), the previous ground-truth box moved by
    ``ref_jitter`` (std of x, y, z in metres and yaw in radians, in its own
    frame), so that the offsets to learn are the true inter-frame motion
    plus a drift, as at test time; ``reference='current'`` is Open3DSOT's
    ``siamese_processing``: the current box moved by Gaussian noise
    (``KalmanFiltering(bnd=[1, 1, 5 deg])``, i.e. std 1 m, 1 m and
    sqrt(5) deg: ``ref_jitter=(1, 1, 0, 0.039)``). The template boxes
    (first, previous) are jittered by ``template_jitter`` (Open3DSOT:
    uniform +-0.3 m and +-1.5 deg).

    Adds ``template_img`` (Ht, Wt, 3) and ``search_img`` (Hs, Ws, 3) uint8,
    ``gt_offset_3d`` (4,) = current box in the reference frame (dx, dy, dz,
    dyaw), ``bev_resolution`` (m / px) and ``ref_box``.

    Args:
        template_size (int): Template BEV side (px). Defaults to 128.
        search_size (int): Search BEV side (px). Defaults to 256.
        search_scale (float): Open3DSOT ``search_bb_scale``. Defaults to 1.25.
        search_offset (float): Open3DSOT ``search_bb_offset`` (m). Defaults
            to 2.
        template_scale (float): Open3DSOT ``model_bb_scale``. Defaults to 1.25.
        template_offset (float): Open3DSOT ``model_bb_offset``. Defaults to 0.
        ref_jitter (Sequence[float]): Std of the reference box. Defaults to
            (0.3, 0.3, 0.1, 0.087).
        template_jitter (Sequence[float]): Std of the template boxes.
            Defaults to (0.05, 0.05, 0.02, 0.03).
        z_range (tuple): Height range of the BEV height channel (box frame).
        reference (str): 'previous' or 'current' (see above).
        flip_prob (float): Probability to mirror both BEVs about the box's x
            axis (y -> -y, yaw -> -yaw). Defaults to 0.5.
    """

    def __init__(self,
                 template_size: int = 128,
                 search_size: int = 256,
                 search_scale: float = 1.25,
                 search_offset: float = 2.,
                 template_scale: float = 1.25,
                 template_offset: float = 0.,
                 ref_jitter: Sequence[float] = (0.3, 0.3, 0.1, 0.087),
                 template_jitter: Sequence[float] = (0.05, 0.05, 0.02, 0.03),
                 z_range: Tuple[float, float] = (-2., 2.),
                 reference: str = 'previous',
                 flip_prob: float = 0.5):
        if reference not in ('previous', 'current'):
            raise ValueError(f"reference must be 'previous' or 'current', got {reference!r}")
        self.reference = reference
        self.template_size = template_size
        self.search_size = search_size
        self.search_scale = search_scale
        self.search_offset = search_offset
        self.template_scale = template_scale
        self.template_offset = template_offset
        self.ref_jitter = tuple(ref_jitter)
        self.template_jitter = tuple(template_jitter)
        self.z_range = tuple(z_range)
        self.flip_prob = flip_prob

    def transform(self, results: dict) -> dict:
        rng = np.random.default_rng(np.random.randint(0, 2**31 - 1))
        first, prev, cur = results['frames']
        tboxes = [_jitter(first['box'], rng, self.template_jitter),
                  _jitter(prev['box'], rng, self.template_jitter)]
        tpl = template_points([first['points'], prev['points']], tboxes,
                              self.template_scale, self.template_offset)
        base = prev['box'] if self.reference == 'previous' else cur['box']
        ref = _jitter(base, rng, self.ref_jitter)
        search = crop_box_frame(cur['points'], ref, self.search_scale, self.search_offset)
        target = box_in_frame(cur['box'], ref)
        if rng.random() < self.flip_prob:
            tpl = tpl.copy()
            search = search.copy()
            tpl[:, 1] *= -1
            search[:, 1] *= -1
            target[1] *= -1
            target[6] = -target[6]
        t_img, s_img, res = bev_pair(tpl, search, first['box'], self.template_size,
                                     self.search_size, self.search_scale, self.search_offset,
                                     self.z_range)
        results.update(template_img=t_img, search_img=s_img, bev_resolution=res, ref_box=ref,
                       gt_offset_3d=np.array([target[0], target[1], target[2], target[6]],
                                             np.float32),
                       num_search_points=len(search), num_template_points=len(tpl))
        return results


def _chw(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackSOT3DInputs(BaseTransform):
    """Pack a training pair: ``inputs = dict(template, search)`` (3, H, W)
    uint8 tensors and a :class:`DataSample` with ``gt_offset_3d`` (4,) and
    metainfo ``bev_resolution``, ``video_name``, ``frame_id``."""

    def transform(self, results: dict) -> dict:
        sample = DataSample(metainfo=dict(
            bev_resolution=float(results['bev_resolution']),
            video_name=results.get('video_name'), frame_id=results.get('frame_id')))
        sample.gt_offset_3d = torch.from_numpy(results['gt_offset_3d'])
        return dict(inputs=dict(template=_chw(results['template_img']),
                                search=_chw(results['search_img'])),
                    data_samples=sample)


@TRANSFORMS.register_module()
class PackSOT3DFrame(BaseTransform):
    """Pack a test frame: ``inputs`` = the (N, 4) float32 points (numpy; the
    tracker crops them), a :class:`DataSample` with ``gt_bbox_3d`` and the
    metainfo (``video_id``, ``video_name``, ``frame_id``, ``video_length``,
    ``points_path``, ``scene``, ``kitti_frame``, ``category``,
    ``load_error``)."""

    META_KEYS = ('video_id', 'video_name', 'frame_id', 'video_length', 'points_path', 'scene',
                 'track_id', 'kitti_frame', 'category', 'load_error')

    def transform(self, results: dict) -> dict:
        meta = {k: results[k] for k in self.META_KEYS if k in results}
        sample = DataSample(metainfo=meta)
        if results.get('gt_bbox_3d') is not None:
            sample.gt_bbox_3d = np.asarray(results['gt_bbox_3d'], np.float32)
        return dict(inputs=np.asarray(results['points'], np.float32), data_samples=sample)
