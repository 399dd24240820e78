"""KITTI tracking LiDAR data for 3D single-object tracking, as Open3DSOT
reads it (Ghostish/Open3DSOT ``datasets/kitti.py``, ``kittiDataset``).

Layout (``data_root`` = the KITTI tracking ``training`` folder)::

    velodyne/SSSS/FFFFFF.bin    float32 x, y, z, reflectance (LiDAR frame)
    label_02/SSSS.txt           frame track_id type truncated occluded alpha
                                x1 y1 x2 y2 h w l x y z rotation_y [score]
    calib/SSSS.txt              P0..P3, R_rect, Tr_velo_cam, Tr_imu_velo

A tracklet is one (scene, track_id) of the category (``'Car'``,
``'Pedestrian'``, ``'Van'``, ``'Cyclist'``, ... or ``'All'`` = those four),
its annotated frames in frame order (gaps in the frame numbers are kept as
Open3DSOT does: the tracklet simply skips them). Splits are Open3DSOT's
``_build_scene_list``: ``train`` scenes 0-16, ``val`` 17-18, ``test``
19-20 (``'tiny'`` in the name: 0, 18, 19); ``scenes=`` overrides.

Boxes go to LiDAR coordinates with
:func:`mmdropmae.utils.points.kitti_label_to_lidar_box` (Open3DSOT's
velodyne mode: ``Tr_velo_cam`` only, ``yaw = -rotation_y - pi/2``).
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from mmdropmae.registry import DATASETS
from mmdropmae.utils.points import kitti_label_to_lidar_box
from .base import BaseSOT3DDataset

__all__ = ['KittiAnnotationError', 'read_kitti_calib', 'read_kitti_tracking_labels',
           'kitti_scene_list', 'build_tracklets', 'KittiTrackingSOTDataset',
           'SOT3D_CATEGORIES']

#: Open3DSOT's 'All' category.
SOT3D_CATEGORIES = ('Car', 'Pedestrian', 'Van', 'Cyclist')
_KITTI_TYPES = ('Car', 'Van', 'Truck', 'Pedestrian', 'Person_sitting', 'Cyclist', 'Tram',
                'Misc')


class KittiAnnotationError(ValueError):
    """A missing or malformed KITTI label / calib file (the message names the
    file and the line)."""


def read_kitti_calib(path: str) -> Dict[str, np.ndarray]:
    """Parse a KITTI tracking ``calib/SSSS.txt``.

    Returns ``Tr_velo_cam`` (3, 4) and, when present, ``R_rect`` (3, 3),
    ``P2`` (3, 4) (keys with or without the trailing colon; ``Tr_velo_to_cam``
    is accepted for ``Tr_velo_cam``).
    """
    if not osp.isfile(path):
        raise KittiAnnotationError(f'{path}: no such calib file')
    out: Dict[str, np.ndarray] = {}
    with open(path) as f:
        for i, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            key = parts[0].rstrip(':')
            key = 'Tr_velo_cam' if key == 'Tr_velo_to_cam' else key
            try:
                vals = np.array([float(v) for v in parts[1:]])
            except ValueError:
                continue  # dates and the like, as Open3DSOT
            if key in ('Tr_velo_cam', 'Tr_imu_velo') or key.startswith('P'):
                if vals.size != 12:
                    raise KittiAnnotationError(f'{path}, line {i}: {key} needs 12 values, got '
                                               f'{vals.size}')
                out[key] = vals.reshape(3, 4)
            elif key in ('R_rect', 'R0_rect'):
                if vals.size != 9:
                    raise KittiAnnotationError(f'{path}, line {i}: R_rect needs 9 values, got '
                                               f'{vals.size}')
                out['R_rect'] = vals.reshape(3, 3)
    if 'Tr_velo_cam' not in out:
        raise KittiAnnotationError(f'{path}: no Tr_velo_cam line')
    return out


def read_kitti_tracking_labels(path: str) -> List[dict]:
    """Parse a KITTI tracking ``label_02/SSSS.txt`` (17 columns, an 18th
    score column allowed); ``DontCare`` rows are kept (type ``DontCare``)."""
    if not osp.isfile(path):
        raise KittiAnnotationError(f'{path}: no such label file')
    rows = []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) not in (17, 18):
                raise KittiAnnotationError(
                    f'{path}, line {i}: expected 17 columns (frame track_id type truncated '
                    'occluded alpha x1 y1 x2 y2 h w l x y z rotation_y), got '
                    f'{len(parts)}')
            try:
                frame, track_id = int(parts[0]), int(parts[1])
                vals = [float(v) for v in parts[3:17]]
            except ValueError:
                raise KittiAnnotationError(f'{path}, line {i}: not a number in '
                                           f'{line.strip()!r}') from None
            rows.append(dict(frame=frame, track_id=track_id, type=parts[2],
                             truncated=vals[0], occluded=vals[1], alpha=vals[2],
                             bbox=vals[3:7], height=vals[7], width=vals[8], length=vals[9],
                             x=vals[10], y=vals[11], z=vals[12], rotation_y=vals[13]))
    return rows


def kitti_scene_list(split: str) -> List[str]:
    """Open3DSOT ``kittiDataset._build_scene_list``."""
    s = split.upper()
    if 'TRAIN' in s:
        ids = [0] if 'TINY' in s else list(range(0, 17))
    elif 'VALID' in s or s == 'VAL':
        ids = [18] if 'TINY' in s else list(range(17, 19))
    elif 'TEST' in s:
        ids = [19] if 'TINY' in s else list(range(19, 21))
    else:
        ids = list(range(21))
    return [f'{i:04d}' for i in ids]


def _type_ok(t: str, category: str) -> bool:
    if category in _KITTI_TYPES:
        return t == category
    if category == 'All':
        return t in SOT3D_CATEGORIES
    return t != 'DontCare'


def build_tracklets(data_root: str, scenes: Sequence[str], category: str,
                    use_r_rect: bool = False) -> List[dict]:
    """The tracklets of ``scenes`` (in scene order, then track-id order of
    first appearance, as Open3DSOT's ``df.track_id.unique()``).

    Each tracklet: ``name`` (``SSSS_TTTT``), ``scene``, ``track_id``,
    ``category``, ``frames`` (KITTI frame numbers), ``boxes`` (L, 7) LiDAR
    boxes, ``points_paths``.

    Args:
        use_r_rect (bool): Also apply ``R_rect`` (the exact KITTI transform
            ``inv(R_rect @ Tr_velo_cam)``); False (default) is Open3DSOT's.
    """
    tracklets = []
    for scene in scenes:
        label_file = osp.join(data_root, 'label_02', f'{scene}.txt')
        calib_file = osp.join(data_root, 'calib', f'{scene}.txt')
        rows = [r for r in read_kitti_tracking_labels(label_file) if _type_ok(r['type'], category)]
        if not rows:
            continue
        calib = read_kitti_calib(calib_file)
        tr = np.vstack([calib['Tr_velo_cam'], [0., 0., 0., 1.]])
        if use_r_rect:
            rect = np.eye(4)
            rect[:3, :3] = calib.get('R_rect', np.eye(3))
            tr = rect @ tr
        order: List[int] = []
        by_id: Dict[int, List[dict]] = {}
        for r in rows:
            if r['track_id'] not in by_id:
                order.append(r['track_id'])
                by_id[r['track_id']] = []
            by_id[r['track_id']].append(r)
        for tid in order:
            annos = sorted(by_id[tid], key=lambda r: r['frame'])
            frames = [a['frame'] for a in annos]
            if len(set(frames)) != len(frames):
                raise KittiAnnotationError(f'{label_file}: track {tid} has two boxes in one '
                                           'frame')
            boxes = np.stack([
                kitti_label_to_lidar_box(a['x'], a['y'], a['z'], a['height'], a['width'],
                                         a['length'], a['rotation_y'], tr) for a in annos
            ]).astype(np.float64)
            tracklets.append(dict(
                name=f'{scene}_{tid:04d}', scene=scene, track_id=tid,
                category=annos[0]['type'], frames=frames, boxes=boxes,
                points_paths=[osp.join(data_root, 'velodyne', scene, f'{fr:06d}.bin')
                              for fr in frames]))
    return tracklets


@DATASETS.register_module()
class KittiTrackingSOTDataset(BaseSOT3DDataset):
    """KITTI tracking tracklets for 3D single-object tracking (items and
    training draws: :class:`~mmdropmae.datasets.sot3d.base.BaseSOT3DDataset`).

    Args:
        data_root (str): The KITTI tracking ``training`` folder (or a folder
            in that layout, e.g. from ``make_synthetic_lidar.py``).
        split (str): 'train', 'val', 'test' (Open3DSOT's scene lists) or
            anything else for all 21 scenes. Defaults to 'test'.
        category_name (str): KITTI type, or 'All'. Defaults to 'Car'.
        scenes (Sequence, optional): Scene ids (int or 'SSSS') instead of
            the split's.
        min_length (int): Drop tracklets shorter than this. Defaults to 1
            (test), and 2 is the least for training.
        samples_per_epoch (int, optional): Random training items per epoch.
        use_r_rect (bool): Apply ``R_rect`` too (not Open3DSOT's). Defaults
            to False.
        pipeline (list): Transforms.
        test_mode (bool): Per-frame test items. Defaults to True.
    """

    METAINFO = dict(classes=SOT3D_CATEGORIES)

    def __init__(self,
                 data_root: str,
                 split: str = 'test',
                 category_name: str = 'Car',
                 scenes: Optional[Sequence[Union[int, str]]] = None,
                 min_length: int = 1,
                 samples_per_epoch: Optional[int] = None,
                 use_r_rect: bool = False,
                 pipeline: Sequence = (),
                 test_mode: bool = True,
                 **kwargs):
        self.split = split
        self.category_name = category_name
        self.scenes = [f'{int(s):04d}' for s in scenes] if scenes is not None else \
            kitti_scene_list(split)
        self.min_length = max(int(min_length), 1 if test_mode else 2)
        self.samples_per_epoch = samples_per_epoch
        self.use_r_rect = use_r_rect
        kwargs.setdefault('serialize_data', False)
        super().__init__(data_root=data_root, pipeline=list(pipeline), test_mode=test_mode,
                         **kwargs)

    def load_tracklets(self) -> List[dict]:
        root = self.data_root
        if not osp.isdir(osp.join(root, 'label_02')):
            raise KittiAnnotationError(f'{root}: no label_02/ folder (KITTI tracking layout: '
                                       'velodyne/, label_02/, calib/)')
        tracklets = [t for t in build_tracklets(root, self.scenes, self.category_name,
                                                self.use_r_rect)
                     if len(t['frames']) >= self.min_length]
        if not tracklets:
            raise KittiAnnotationError(f'{root}: no {self.category_name} tracklet of at least '
                                       f'{self.min_length} frames in scenes {self.scenes}')
        return tracklets
