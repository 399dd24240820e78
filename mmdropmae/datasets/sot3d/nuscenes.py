"""nuScenes LiDAR data for 3D single-object tracking, read through the
nuScenes devkit (``nuscenes-devkit``, an optional extra) as Open3DSOT reads
it (Ghostish/Open3DSOT ``datasets/nuscenes_data.py``, ``NuScenesDataset``).

Layout (``data_root`` = the devkit's ``dataroot``)::

    v1.0-trainval/*.json            the 13 tables of ``NuScenes(version)``
    samples/LIDAR_TOP/*.pcd.bin     key-frame sweeps: float32 x, y, z,
                                    intensity, ring index (sensor frame)
    sweeps/LIDAR_TOP/*.pcd.bin      the sweeps between key frames (unused)
    maps/*.png                      the map masks the ``map`` table names

A tracklet is one ``instance`` of the category, its annotations in order
(``first_annotation_token`` then ``next``), each with the LIDAR_TOP
sample_data of its sample (annotations exist on key frames only, so the
tracklets are the 2 Hz key frames). As Open3DSOT's ``filter_instance``:
an instance belongs to the split of the scene of its *first* annotation
(``nuscenes.utils.splits.create_splits_scenes()``: ``train_track`` for
training, ``val`` for testing in Open3DSOT's configs, any devkit split name
works), and the category is Open3DSOT's ``tracking_to_general_class``
(``'Car'`` -> ``['vehicle.car']``, ``'Pedestrian'`` -> the four
``human.pedestrian.*`` classes, ...); at test time an instance whose first
annotation has fewer than ``min_points`` LiDAR points (``num_lidar_pts``;
Open3DSOT: 1 for the val / test splits, no filter for training) is left out.

Coordinate frame (``coord_frame``):

* ``'global'`` (the default, Open3DSOT's): the boxes stay in the global
  (map) frame of the annotations, and each item carries ``points_to_frame``,
  the 4x4 sensor -> global matrix of its sweep (``ego_pose`` @
  ``calibrated_sensor``: Open3DSOT's ``pc.rotate(cs.R); pc.translate(cs.t);
  pc.rotate(ego.R); pc.translate(ego.t)``) that ``LoadSOT3DPoints`` applies
  to the x, y, z of the loaded points. A static object keeps its box while
  the ego vehicle moves 2-5 m between key frames, so the search area
  (previous box + margin) sees the target's own motion only. nuScenes
  annotations are yaw-only (quaternion x = y = 0), so ``(cx, cy, cz, l, w,
  h, yaw)`` with ``yaw = atan2(R[1, 0], R[0, 0])`` is the annotation's Box
  exactly (the same corners; the same angle as Open3DSOT's
  ``orientation.radians * orientation.axis[-1]``).
* ``'lidar'``: boxes and points in each sweep's LIDAR_TOP sensor frame, the
  boxes moved as the devkit's ``NuScenes.get_sample_data`` does it: global
  -> ego (``ego_pose`` of the sample_data) -> sensor (its
  ``calibrated_sensor``); the yaw is the heading of the box's local x axis
  about the sensor's +z, and the roll / pitch that the ego pose and the
  calibration leave (about a degree) is dropped.

In both: nuScenes ``size`` is ``(w, l, h)`` (the length on the box's local x
axis), ``translation`` the geometric centre. Success and Precision of the
same track are nearly the same in both frames (3D overlap and centre
distance are invariant to a rigid motion about z; the ``'lidar'`` boxes
differ from one by the dropped tilt), but the tracker's search areas are not
(see docs/point_cloud_tracking.md).
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmdropmae.registry import DATASETS
from mmdropmae.utils.points import wrap_angle
from .base import BaseSOT3DDataset

__all__ = ['NuScenesDataError', 'NUSCENES_TABLES', 'NUSCENES_SOT_CATEGORIES',
           'TRACKING_TO_GENERAL_CLASS', 'GENERAL_TO_TRACKING_CLASS', 'nuscenes_general_classes',
           'NUSCENES_COORD_FRAMES', 'nuscenes_box_to_lidar', 'nuscenes_box_to_global',
           'nuscenes_sensor_to_global', 'load_nuscenes', 'build_nuscenes_tracklets',
           'NuScenesSOTDataset']

#: The tables ``nuscenes.nuscenes.NuScenes`` loads (``{version}/{table}.json``).
NUSCENES_TABLES = ('category', 'attribute', 'visibility', 'instance', 'sensor',
                   'calibrated_sensor', 'ego_pose', 'log', 'scene', 'sample', 'sample_data',
                   'sample_annotation', 'map')

#: Open3DSOT's ``tracking_to_general_class`` (the nuScenes tracking classes).
TRACKING_TO_GENERAL_CLASS: Dict[str, Tuple[str, ...]] = {
    'void / ignore': ('animal', 'human.pedestrian.personal_mobility',
                      'human.pedestrian.stroller', 'human.pedestrian.wheelchair',
                      'movable_object.barrier', 'movable_object.debris',
                      'movable_object.pushable_pullable', 'movable_object.trafficcone',
                      'static_object.bicycle_rack', 'vehicle.emergency.ambulance',
                      'vehicle.emergency.police', 'vehicle.construction'),
    'bicycle': ('vehicle.bicycle', ),
    'bus': ('vehicle.bus.bendy', 'vehicle.bus.rigid'),
    'car': ('vehicle.car', ),
    'motorcycle': ('vehicle.motorcycle', ),
    'pedestrian': ('human.pedestrian.adult', 'human.pedestrian.child',
                   'human.pedestrian.construction_worker', 'human.pedestrian.police_officer'),
    'trailer': ('vehicle.trailer', ),
    'truck': ('vehicle.truck', ),
}
#: Open3DSOT's ``general_to_tracking_class``.
GENERAL_TO_TRACKING_CLASS: Dict[str, str] = {
    g: t
    for t, gs in TRACKING_TO_GENERAL_CLASS.items() for g in gs
}
#: The category names of :class:`NuScenesSOTDataset` (Open3DSOT's
#: ``category_name.lower()`` keys, capitalised as in its configs).
NUSCENES_SOT_CATEGORIES = ('Car', 'Pedestrian', 'Truck', 'Trailer', 'Bus', 'Bicycle',
                           'Motorcycle')
#: ``coord_frame`` values: Open3DSOT's global (map) frame, each sweep's
#: LIDAR_TOP frame.
NUSCENES_COORD_FRAMES = ('global', 'lidar')

_INSTALL_HINT = ('nuScenes needs the optional nuscenes-devkit: pip install --no-deps '
                 'nuscenes-devkit==1.2.0 pyquaternion cachetools tqdm scikit-learn joblib '
                 'threadpoolctl (requirements/optional.txt)')


class NuScenesDataError(ValueError):
    """A missing or malformed nuScenes dataroot, table or record (the
    message names the folder / file / record)."""


def _devkit():
    try:
        from nuscenes.nuscenes import NuScenes
        from nuscenes.utils.splits import create_splits_scenes
    except ImportError as e:
        raise ImportError(f'{_INSTALL_HINT}; importing it failed: {e}') from e
    return NuScenes, create_splits_scenes


def nuscenes_general_classes(category_name: str) -> Tuple[str, ...]:
    """The nuScenes (general) categories of a tracking category.

    ``'Car'`` / ``'car'`` -> ``('vehicle.car',)`` (Open3DSOT's
    ``tracking_to_general_class[category_name.lower()]``); ``'All'`` -> every
    class of the seven tracking classes (not the void ones); a general class
    name (``'vehicle.car'``) -> itself.
    """
    key = str(category_name).lower()
    if key == 'all':
        return tuple(g for t, gs in TRACKING_TO_GENERAL_CLASS.items() if t != 'void / ignore'
                     for g in gs)
    if key in TRACKING_TO_GENERAL_CLASS:
        return TRACKING_TO_GENERAL_CLASS[key]
    if key in GENERAL_TO_TRACKING_CLASS:
        return (key, )
    raise ValueError(f'unknown nuScenes category {category_name!r}: use one of '
                     f'{list(NUSCENES_SOT_CATEGORIES)}, \'All\', or a nuScenes class name such '
                     "as 'vehicle.car'")


def _tracking_name(general: str) -> str:
    t = GENERAL_TO_TRACKING_CLASS.get(general, general)
    return general if t == 'void / ignore' else t.capitalize()


def nuscenes_box_to_lidar(annotation: dict, ego_pose: dict,
                          calibrated_sensor: dict) -> np.ndarray:
    """A ``sample_annotation`` (global frame) -> ``(cx, cy, cz, l, w, h,
    yaw)`` in the sensor frame of a sample_data with that ``ego_pose`` and
    ``calibrated_sensor`` record.

    The devkit's ``Box`` moved exactly as ``NuScenes.get_sample_data``:
    ``translate(-ego.t)``, ``rotate(ego.q.inverse)``, ``translate(-cs.t)``,
    ``rotate(cs.q.inverse)``. ``size`` ``(w, l, h)`` -> ``l, w, h``; ``yaw``
    = heading of the box's local x axis, ``atan2(R[1, 0], R[0, 0])``.
    """
    from nuscenes.utils.data_classes import Box
    from pyquaternion import Quaternion
    box = Box(annotation['translation'], annotation['size'], Quaternion(annotation['rotation']))
    box.translate(-np.asarray(ego_pose['translation'], np.float64))
    box.rotate(Quaternion(ego_pose['rotation']).inverse)
    box.translate(-np.asarray(calibrated_sensor['translation'], np.float64))
    box.rotate(Quaternion(calibrated_sensor['rotation']).inverse)
    rot = box.rotation_matrix
    yaw = float(wrap_angle(np.arctan2(rot[1, 0], rot[0, 0])))
    w, l, h = (float(v) for v in box.wlh)  # noqa: E741
    return np.array([box.center[0], box.center[1], box.center[2], l, w, h, yaw], np.float64)


def nuscenes_box_to_global(annotation: dict) -> np.ndarray:
    """A ``sample_annotation`` -> ``(cx, cy, cz, l, w, h, yaw)`` in the
    global frame (Open3DSOT's ``Box(translation, size, Quaternion(rotation))``,
    unmoved).

    ``size`` ``(w, l, h)`` -> ``l, w, h``; ``yaw = atan2(R[1, 0], R[0, 0])``,
    the heading of the box's local x axis about the global +z. nuScenes
    rotations are yaw-only, and then this is Open3DSOT's ``theta =
    orientation.radians * orientation.axis[-1]`` and the box has the Box's
    corners; a roll / pitch (none in nuScenes) would be dropped.
    """
    from nuscenes.utils.data_classes import Box
    from pyquaternion import Quaternion
    box = Box(annotation['translation'], annotation['size'], Quaternion(annotation['rotation']))
    rot = box.rotation_matrix
    yaw = float(wrap_angle(np.arctan2(rot[1, 0], rot[0, 0])))
    w, l, h = (float(v) for v in box.wlh)  # noqa: E741
    return np.array([box.center[0], box.center[1], box.center[2], l, w, h, yaw], np.float64)


def nuscenes_sensor_to_global(ego_pose: dict, calibrated_sensor: dict) -> np.ndarray:
    """The 4x4 sensor -> global matrix of a sample_data with that ``ego_pose``
    and ``calibrated_sensor`` record: ``p_G = R_ego (R_cs p + t_cs) + t_ego``
    (Open3DSOT's ``_get_frame_from_anno_data``: ``pc.rotate(cs.R)``,
    ``pc.translate(cs.t)``, ``pc.rotate(ego.R)``, ``pc.translate(ego.t)``).
    """
    from pyquaternion import Quaternion

    def rigid(record: dict) -> np.ndarray:
        m = np.eye(4)
        m[:3, :3] = Quaternion(record['rotation']).rotation_matrix
        m[:3, 3] = np.asarray(record['translation'], np.float64)
        return m

    return rigid(ego_pose) @ rigid(calibrated_sensor)


def _bad_json(table_root: str) -> Optional[str]:
    """The first table of ``table_root`` that is not valid JSON (or None)."""
    for t in NUSCENES_TABLES:
        path = osp.join(table_root, f'{t}.json')
        try:
            with open(path) as f:
                json.load(f)
        except (OSError, ValueError) as e:
            return f'{path}: not a valid JSON table ({e})'
    return None


def load_nuscenes(data_root: str, version: str):
    """``nuscenes.nuscenes.NuScenes(version, data_root)`` with clear errors.

    Raises:
        ImportError: the devkit is not installed (with the install line).
        NuScenesDataError: no ``data_root`` / ``{version}`` folder, missing
            tables (named), a table that is not valid JSON (named), or a
            record that refers to a missing one.
    """
    NuScenes, _ = _devkit()
    if not osp.isdir(data_root):
        raise NuScenesDataError(f'{data_root}: no such folder (the nuScenes dataroot: '
                                f'{version}/*.json, samples/LIDAR_TOP/, maps/)')
    table_root = osp.join(data_root, version)
    if not osp.isdir(table_root):
        found = sorted(d for d in os.listdir(data_root)
                       if osp.isfile(osp.join(data_root, d, 'scene.json')))
        raise NuScenesDataError(f'{table_root}: no such folder, the tables of version '
                                f'{version!r} (versions found in {data_root}: {found or "none"})')
    missing = [f'{t}.json' for t in NUSCENES_TABLES
               if not osp.isfile(osp.join(table_root, f'{t}.json'))]
    if missing:
        raise NuScenesDataError(f'{table_root}: missing tables {", ".join(missing)} (the '
                                f'devkit loads {", ".join(NUSCENES_TABLES)})')
    try:
        return NuScenes(version=version, dataroot=data_root, verbose=False)
    except ValueError as e:  # json.JSONDecodeError
        raise NuScenesDataError(_bad_json(table_root) or f'{table_root}: {e}') from e
    except KeyError as e:
        raise NuScenesDataError(f'{table_root}: a record refers to the missing token {e} '
                                '(inconsistent tables)') from e
    except Exception as e:  # noqa: BLE001 - the devkit asserts / raises plain Exception
        raise NuScenesDataError(f'{data_root}: the nuScenes devkit cannot load version '
                                f'{version!r}: {type(e).__name__}: {e}') from e


def _scene_frame_index(nusc, scene: dict) -> Dict[str, int]:
    """sample token -> index of the key frame in its scene."""
    out, tok = {}, scene['first_sample_token']
    while tok:
        out[tok] = len(out)
        tok = nusc.get('sample', tok)['next']
    return out


def build_nuscenes_tracklets(nusc,
                             scene_names: Sequence[str],
                             category_name: str = 'Car',
                             min_points: int = -1,
                             key_frame_only: bool = True,
                             lidar_channel: str = 'LIDAR_TOP',
                             coord_frame: str = 'global') -> List[dict]:
    """The tracklets of Open3DSOT's ``filter_instance`` /
    ``_build_tracklet_anno``, in the ``instance`` table's order.

    Each tracklet: ``name`` (``{scene}_{token[:12]}``), ``scene`` (scene
    name), ``track_id`` (instance token), ``category`` (``'Car'``, ...),
    ``nusc_category`` (``'vehicle.car'``), ``frames`` (key-frame indices in
    the scene), ``boxes`` (L, 7) boxes in ``coord_frame``,
    ``points_to_frame`` ((L, 4, 4) sensor -> global matrices with
    ``'global'``, None with ``'lidar'``), ``points_paths``,
    ``sample_tokens``, ``sample_data_tokens``, ``annotation_tokens``,
    ``num_lidar_pts``.

    Args:
        nusc: A loaded ``NuScenes``.
        scene_names (Sequence[str]): Scene names (``'scene-0103'``) of the
            split.
        category_name (str): See :func:`nuscenes_general_classes`.
        min_points (int): Keep instances whose first annotation has at least
            this many LiDAR points (``num_lidar_pts``). -1: all.
        key_frame_only (bool): Drop annotations whose LiDAR sample_data is
            not a key frame (Open3DSOT's option; annotations are on key
            frames only, so it never drops one).
        lidar_channel (str): The sample_data channel of the points.
        coord_frame (str): 'global' (Open3DSOT's: global boxes, points moved
            by ``points_to_frame``) or 'lidar' (boxes in each sweep's sensor
            frame, points as read). Defaults to 'global'.
    """
    if coord_frame not in NUSCENES_COORD_FRAMES:
        raise ValueError(f'coord_frame must be one of {NUSCENES_COORD_FRAMES}, got '
                         f'{coord_frame!r}')
    classes = set(nuscenes_general_classes(category_name))
    names = set(scene_names)
    frame_index: Dict[str, Dict[str, int]] = {}
    tracklets = []
    for inst in nusc.instance:
        first = nusc.get('sample_annotation', inst['first_annotation_token'])
        scene = nusc.get('scene', nusc.get('sample', first['sample_token'])['scene_token'])
        general = nusc.get('category', inst['category_token'])['name']
        if scene['name'] not in names or general not in classes or \
                first['num_lidar_pts'] < min_points:
            continue
        if scene['token'] not in frame_index:
            frame_index[scene['token']] = _scene_frame_index(nusc, scene)
        t = dict(name=f"{scene['name']}_{inst['token'][:12]}", scene=scene['name'],
                 track_id=inst['token'], category=_tracking_name(general),
                 nusc_category=general, frames=[], boxes=[], points_to_frame=[],
                 points_paths=[], sample_tokens=[], sample_data_tokens=[],
                 annotation_tokens=[], num_lidar_pts=[])
        tok = inst['first_annotation_token']
        while tok:
            ann = nusc.get('sample_annotation', tok)
            tok = ann['next']
            sample = nusc.get('sample', ann['sample_token'])
            if lidar_channel not in sample['data']:
                raise NuScenesDataError(f"{nusc.table_root}: sample {sample['token']} (scene "
                                        f"{scene['name']}) has no {lidar_channel} sample_data")
            sd = nusc.get('sample_data', sample['data'][lidar_channel])
            if key_frame_only and not sd['is_key_frame']:
                continue
            ego = nusc.get('ego_pose', sd['ego_pose_token'])
            cs = nusc.get('calibrated_sensor', sd['calibrated_sensor_token'])
            if coord_frame == 'global':
                t['boxes'].append(nuscenes_box_to_global(ann))
                t['points_to_frame'].append(nuscenes_sensor_to_global(ego, cs))
            else:
                t['boxes'].append(nuscenes_box_to_lidar(ann, ego, cs))
            t['frames'].append(frame_index[scene['token']][sample['token']])
            t['points_paths'].append(osp.join(nusc.dataroot, sd['filename']))
            t['sample_tokens'].append(sample['token'])
            t['sample_data_tokens'].append(sd['token'])
            t['annotation_tokens'].append(ann['token'])
            t['num_lidar_pts'].append(int(ann['num_lidar_pts']))
        if not t['frames']:
            continue
        t['boxes'] = np.stack(t['boxes']).astype(np.float64)
        t['points_to_frame'] = np.stack(t['points_to_frame']) if t['points_to_frame'] else None
        tracklets.append(t)
    return tracklets


@DATASETS.register_module()
class NuScenesSOTDataset(BaseSOT3DDataset):
    """nuScenes instances as 3D single-object tracking tracklets (LiDAR
    key frames; by default Open3DSOT's global frame: global boxes, and the
    points moved there by ``LoadSOT3DPoints`` with each item's
    ``points_to_frame``).

    The items and the ``VideoSampler`` API are those of
    :class:`~mmdropmae.datasets.sot3d.KittiTrackingSOTDataset`, so the same
    pipelines (``LoadSOT3DPoints`` reads the ``.pcd.bin`` files; a missing
    or corrupt one, size not a multiple of 20 bytes, becomes an empty cloud
    with a warning naming the file and the frame, and tracking keeps the
    last box), the same ``BEVTrack`` and ``SOT3DMetric`` apply.
    ``test_mode=True``: one item per frame of every tracklet: ``points_path``,
    ``gt_bbox_3d``, ``video_id``, ``video_name``, ``frame_id``,
    ``video_length``, ``scene``, ``track_id`` (instance token),
    ``kitti_frame`` (the key-frame index in the scene, the field the
    pipelines name frames by), ``category``, ``sample_token``,
    ``sample_data_token``, ``num_lidar_pts``, and with
    ``coord_frame='global'`` ``points_to_frame`` (4, 4) (sensor -> global).
    ``test_mode=False``: the first / previous / current training items of
    the KITTI dataset (each frame with its ``points_to_frame``).

    Args:
        data_root (str): The devkit's ``dataroot``.
        version (str): Table folder. Defaults to 'v1.0-trainval'.
        split (str): A split of ``create_splits_scenes()`` ('train', 'val',
            'test', 'mini_train', 'mini_val', 'train_detect',
            'train_track'). Defaults to 'val' (Open3DSOT's test split).
        category_name (str): 'Car', 'Pedestrian', 'Truck', 'Trailer', 'Bus',
            'Bicycle', 'Motorcycle', 'All' or a nuScenes class name.
            Defaults to 'Car'.
        scenes (Sequence[str], optional): Scene names instead of the split's.
        min_points (int, optional): Least ``num_lidar_pts`` of an instance's
            first box. Defaults to Open3DSOT's: 1 with ``test_mode``, else
            -1 (no filter).
        key_frame_only (bool): Open3DSOT's option (a no-op: only key frames
            are annotated). Defaults to True.
        min_length (int): Drop tracklets shorter than this (at least 2 for
            training). Defaults to 1.
        coord_frame (str): 'global' (Open3DSOT's: boxes in the global frame,
            points moved sensor -> ego -> global) or 'lidar' (boxes and
            points in each sweep's LIDAR_TOP frame). Defaults to 'global'.
        samples_per_epoch (int, optional): Random training items per epoch.
        pipeline (list): Transforms.
        test_mode (bool): Per-frame test items. Defaults to True.
    """

    METAINFO = dict(classes=NUSCENES_SOT_CATEGORIES)

    def __init__(self,
                 data_root: str,
                 version: str = 'v1.0-trainval',
                 split: str = 'val',
                 category_name: str = 'Car',
                 scenes: Optional[Sequence[str]] = None,
                 min_points: Optional[int] = None,
                 key_frame_only: bool = True,
                 min_length: int = 1,
                 coord_frame: str = 'global',
                 samples_per_epoch: Optional[int] = None,
                 pipeline: Sequence = (),
                 test_mode: bool = True,
                 **kwargs):
        nuscenes_general_classes(category_name)  # fail early on a bad name
        if coord_frame not in NUSCENES_COORD_FRAMES:
            raise ValueError(f'NuScenesSOTDataset: coord_frame must be one of '
                             f'{NUSCENES_COORD_FRAMES}, got {coord_frame!r}')
        self.coord_frame = coord_frame
        self.version = version
        self.split = split
        self.category_name = category_name
        self.scenes = [str(s) for s in scenes] if scenes is not None else None
        self.min_points = int(min_points) if min_points is not None else \
            (1 if test_mode else -1)
        self.key_frame_only = key_frame_only
        self.min_length = max(int(min_length), 1 if test_mode else 2)
        self.samples_per_epoch = samples_per_epoch
        kwargs.setdefault('serialize_data', False)
        super().__init__(data_root=data_root, pipeline=list(pipeline), test_mode=test_mode,
                         **kwargs)

    def _scene_names(self) -> List[str]:
        if self.scenes is not None:
            return self.scenes
        _, create_splits_scenes = _devkit()
        splits = create_splits_scenes()
        if self.split not in splits:
            raise NuScenesDataError(f'unknown nuScenes split {self.split!r}: the devkit\'s '
                                    f'create_splits_scenes() has {sorted(splits)}')
        return list(splits[self.split])

    def load_tracklets(self) -> List[dict]:
        names = self._scene_names()
        nusc = load_nuscenes(self.data_root, self.version)
        present = {s['name'] for s in nusc.scene}
        tracklets = [
            t for t in build_nuscenes_tracklets(nusc, names, self.category_name, self.min_points,
                                                self.key_frame_only,
                                                coord_frame=self.coord_frame)
            if len(t['frames']) >= self.min_length
        ]
        if not tracklets:
            where = f'split {self.split!r}' if self.scenes is None else f'scenes {self.scenes}'
            raise NuScenesDataError(
                f'{osp.join(self.data_root, self.version)}: no {self.category_name} tracklet of '
                f'at least {self.min_length} frames (first box with >= {self.min_points} LiDAR '
                f'points) in {where}; {len(present & set(names))} of the {len(present)} scenes '
                'of this version are in it')
        return tracklets  # the tables go with nusc (large for v1.0-trainval)

    def frame_extras(self, tracklet: dict, j: int) -> Dict:
        """The sample / sample_data tokens, ``num_lidar_pts`` and (global
        frame) the 4x4 ``points_to_frame`` of frame ``j``."""
        extras = dict(sample_token=tracklet['sample_tokens'][j],
                      sample_data_token=tracklet['sample_data_tokens'][j],
                      num_lidar_pts=tracklet['num_lidar_pts'][j])
        if tracklet['points_to_frame'] is not None:
            extras['points_to_frame'] = tracklet['points_to_frame'][j].copy()
        return extras
