"""Synthetic LiDAR scenes written in the nuScenes layout (the devkit's
``NuScenes(version, dataroot)`` loads them), ray-cast with the scenes of
:class:`~mmdropmae.datasets.synthetic.lidar.SyntheticLidarScene`.

Written under ``root``::

    {version}/*.json                 the 13 tables (category, attribute,
                                     visibility, instance, sensor,
                                     calibrated_sensor, ego_pose, log, scene,
                                     sample, sample_data, sample_annotation,
                                     map)
    samples/LIDAR_TOP/*.pcd.bin      key frames: float32 x, y, z, intensity
                                     (0-255), ring index, in the LIDAR_TOP
                                     frame
    sweeps/LIDAR_TOP/*.pcd.bin       the frames between key frames
    maps/*.png                       a 1-pixel map mask (the devkit checks it
                                     exists)

Frames: every ``key_interval``-th simulated frame is a key frame (a
``sample`` with one ``sample_annotation`` per object, boxes in the global
frame as nuScenes annotates them: yaw about the global +z), the others are
non-key sweeps. The frames are chained so that the devkit's transforms are
exercised in full:

* the LiDAR frame L is the simulation's sensor frame turned about z by
  ``theta(t) = -pi/2 + 0.08 sin(0.25 t)`` (the ego vehicle's heading
  wavers; the spinning LiDAR sees the same scene, its points are rotated);
* ``calibrated_sensor`` (ego <- L): ``rotz(-pi/2) rotx(0.012) roty(-0.009)``
  and ``(0.94, 0.02, 1.84)`` m, like the real LIDAR_TOP;
* ``ego_pose`` (global <- ego): whatever makes global <- ego <- L equal
  ``G <- W <- L``, with the simulation world W placed in the map frame G by
  ``rotz(0.7)`` and ``(411.3, 1180.9, 0)`` m. The ego pose therefore has a
  small roll and pitch (compensating the sensor's tilt), and the boxes in L
  are exactly yaw-only: :class:`~mmdropmae.datasets.sot3d.NuScenesSOTDataset`
  must give back ``summary[scene]['global_boxes']`` (its default
  ``coord_frame='global'``; the points moved by its ``points_to_frame`` are
  the simulation's world points in G) and, with ``coord_frame='lidar'``,
  ``summary[scene]['sensor_boxes']``.

``num_lidar_pts`` is the target's point count
(:func:`~mmdropmae.datasets.synthetic.lidar.target_point_count`).
``empty_first`` hides objects in the first key frame (their first box has no
points: Open3DSOT's test-time ``min_points`` filter drops them). ``static``
objects stand still in the world (their box of frame 0 in every frame,
annotated parked / standing): their global box is the same in every key
frame, their LIDAR_TOP box moves with the ego vehicle.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np

from mmdropmae.datasets.sot3d.nuscenes import GENERAL_TO_TRACKING_CLASS
from mmdropmae.utils.fileio import atomic_open, atomic_write_text
from mmdropmae.utils.points import rotz, wrap_angle
from .lidar import SENSOR_HEIGHT, SyntheticLidarScene, target_point_count

__all__ = ['NUSCENES_SYNTHETIC_SCENES', 'SYNTHETIC_TO_NUSCENES', 'make_synthetic_nuscenes',
           'write_corrupt_pcd_bin', 'rotation_to_quaternion', 'sensor_heading']

#: Default scene names: the devkit puts scene-0655 in mini_train, train and
#: train_track, scene-0061 in mini_train, train and train_detect, scene-0103
#: and scene-0916 in mini_val and val.
NUSCENES_SYNTHETIC_SCENES = ('scene-0655', 'scene-0061', 'scene-0103', 'scene-0916')
#: Synthetic object category -> nuScenes class.
SYNTHETIC_TO_NUSCENES = {
    'Car': 'vehicle.car',
    'Van': 'vehicle.truck',
    'Pedestrian': 'human.pedestrian.adult',
    'Cyclist': 'vehicle.bicycle',
}
_ATTRIBUTES = ('vehicle.moving', 'vehicle.stopped', 'vehicle.parked', 'cycle.with_rider',
               'cycle.without_rider', 'pedestrian.sitting_lying_down', 'pedestrian.standing',
               'pedestrian.moving')
_ATTRIBUTE_OF = {'vehicle.car': 'vehicle.moving', 'vehicle.truck': 'vehicle.moving',
                 'human.pedestrian.adult': 'pedestrian.moving',
                 'vehicle.bicycle': 'cycle.with_rider'}
_STATIC_ATTRIBUTE_OF = {'vehicle.car': 'vehicle.parked', 'vehicle.truck': 'vehicle.parked',
                        'human.pedestrian.adult': 'pedestrian.standing',
                        'vehicle.bicycle': 'cycle.without_rider'}
_VISIBILITY = (('1', 'v0-40'), ('2', 'v40-60'), ('3', 'v60-80'), ('4', 'v80-100'))
#: Map frame G <- simulation world W.
WORLD_YAW = 0.7
WORLD_OFFSET = np.array([411.3, 1180.9, 0.])
#: ego <- LIDAR_TOP calibration.
CALIB_TRANSLATION = np.array([0.94, 0.02, 1.84])
FRAME_PERIOD_US = 50_000  # 20 Hz sweeps


def _rotx(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1., 0., 0.], [0., c, -s], [0., s, c]])


def _roty(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0., s], [0., 1., 0.], [-s, 0., c]])


CALIB_ROTATION = rotz(-np.pi / 2) @ _rotx(0.012) @ _roty(-0.009)


def rotation_to_quaternion(rot: np.ndarray) -> List[float]:
    """A rotation matrix -> the nuScenes ``[w, x, y, z]`` quaternion (w >= 0)."""
    from scipy.spatial.transform import Rotation
    x, y, z, w = Rotation.from_matrix(np.asarray(rot, np.float64)).as_quat()
    q = np.array([w, x, y, z])
    return [float(v) for v in (q if w >= 0 else -q)]


def _token(*parts) -> str:
    return hashlib.md5('/'.join(str(p) for p in parts).encode()).hexdigest()


def sensor_heading(t: int) -> float:
    """``theta(t)``: the LiDAR frame L of frame ``t`` is the simulation's
    sensor frame turned by this about z."""
    return float(-np.pi / 2 + 0.08 * np.sin(0.25 * t))


def write_corrupt_pcd_bin(path: str, num_points: int = 10) -> None:
    """A nuScenes ``.pcd.bin`` truncated mid-point (size not a multiple of
    20 bytes)."""
    data = np.random.default_rng(0).normal(size=(num_points, 5)).astype(np.float32).tobytes()
    with atomic_open(path, 'wb', suffix='.bin') as f:
        f.write(data[:-6])


def _ring_index(points_s: np.ndarray, fov, beams: int) -> np.ndarray:
    """The beam of each sensor-frame point (nearest ring elevation)."""
    elev = np.rad2deg(np.arctan2(points_s[:, 2], np.hypot(points_s[:, 0], points_s[:, 1])))
    rings = np.linspace(fov[0], fov[1], beams)
    return np.abs(elev[:, None] - rings[None]).argmin(1).astype(np.float32)


def _write_table(root: str, version: str, name: str, rows: list) -> None:
    atomic_write_text(osp.join(root, version, f'{name}.json'), json.dumps(rows, indent=0))


def make_synthetic_nuscenes(root: str,
                            version: str = 'v1.0-mini',
                            scenes: Sequence[str] = NUSCENES_SYNTHETIC_SCENES,
                            num_frames: int = 21,
                            key_interval: int = 2,
                            categories: Sequence[str] = ('Car', 'Car', 'Pedestrian'),
                            seed: int = 0,
                            empty_first: Sequence[int] = (),
                            static: Sequence[int] = (),
                            **scene_kwargs) -> Dict[str, dict]:
    """Write synthetic scenes in the nuScenes layout under ``root``.

    Args:
        root (str): The dataroot.
        version (str): Table folder. Defaults to 'v1.0-mini'.
        scenes (Sequence[str]): Scene names (use names of the devkit's
            splits, e.g. :data:`NUSCENES_SYNTHETIC_SCENES`).
        num_frames (int): Simulated frames per scene (key frames and
            sweeps).
        key_interval (int): Every ``key_interval``-th frame (0, k, 2k, ...)
            is a key frame. Defaults to 2.
        categories (Sequence[str]): Objects of every scene
            (:data:`SYNTHETIC_TO_NUSCENES` keys).
        seed (int): Base seed (the i-th scene uses ``seed + i``).
        empty_first (Sequence[int]): Objects (indices into ``categories``)
            left out of the scene's first key frame.
        static (Sequence[int]): Objects (indices into ``categories``) that
            do not move (their first box in every frame). ValueError if one
            then overlaps the ego vehicle or another object (choose another
            ``seed``).
        **scene_kwargs: :class:`SyntheticLidarScene` options.

    Returns:
        dict: per scene name: ``sensor_boxes`` (K, S, 7) the exact boxes of
        the S key frames in their LIDAR_TOP frames, ``global_boxes`` (K, S,
        7), ``points_per_object`` (K, S) (``num_lidar_pts``), ``hidden`` (K,
        S), ``categories`` (nuScenes classes), ``instance_tokens``,
        ``sample_tokens``, ``lidar_tokens`` (key-frame sample_data),
        ``lidar_files`` (absolute paths), ``sweep_files``, ``key_frames``
        (the simulated frame of each key frame).
    """
    for c in categories:
        if c not in SYNTHETIC_TO_NUSCENES:
            raise ValueError(f'unknown category {c!r}; choose from {sorted(SYNTHETIC_TO_NUSCENES)}')
    bad = [k for k in list(empty_first) + list(static) if not 0 <= k < len(categories)]
    if bad:
        raise ValueError(f'empty_first / static indices {bad} are not objects of categories '
                         f'{list(categories)}')
    if key_interval < 1 or num_frames < 1:
        raise ValueError(f'need num_frames >= 1 and key_interval >= 1, got {num_frames}, '
                         f'{key_interval}')
    beams = int(scene_kwargs.get('beams', 32))
    fov = scene_kwargs.get('fov', (-24.8, 2.))
    for sub in ('samples', 'sweeps'):
        os.makedirs(osp.join(root, sub, 'LIDAR_TOP'), exist_ok=True)
    os.makedirs(osp.join(root, version), exist_ok=True)
    os.makedirs(osp.join(root, 'maps'), exist_ok=True)

    t_category = {g: _token('category', g) for g in sorted(GENERAL_TO_TRACKING_CLASS)}
    t_attribute = {a: _token('attribute', a) for a in _ATTRIBUTES}
    sensor_token = _token('sensor', 'LIDAR_TOP')
    tables: Dict[str, list] = {k: [] for k in (
        'log', 'scene', 'sample', 'sample_data', 'sample_annotation', 'instance', 'ego_pose',
        'calibrated_sensor')}
    r_gw = rotz(WORLD_YAW)
    summary = {}
    for si, name in enumerate(scenes):
        rng = np.random.default_rng(seed + si)
        sim = SyntheticLidarScene(num_frames, categories, rng, **scene_kwargs)
        for k in empty_first:
            sim.hidden[k, 0] = True
        for k in static:
            sim.boxes[k] = sim.boxes[k, :1]
        if len(static) and not all(sim._clear(k) for k in range(len(categories))):
            raise ValueError(f'scene {name} (seed {seed + si}): a static object {list(static)} '
                             'overlaps the ego path or another object; choose another seed')
        log_token = _token('log', name)
        logfile = f'n015-2018-07-{11 + si:02d}-11-22-45+0800'
        tables['log'].append(dict(token=log_token, logfile=logfile, vehicle='n015',
                                  date_captured=logfile[5:15], location='singapore-onenorth'))
        cs_token = _token('calibrated_sensor', name)
        tables['calibrated_sensor'].append(dict(
            token=cs_token, sensor_token=sensor_token,
            translation=[float(v) for v in CALIB_TRANSLATION],
            rotation=rotation_to_quaternion(CALIB_ROTATION), camera_intrinsic=[]))
        keys = list(range(0, num_frames, key_interval))
        sample_tok = [_token('sample', name, t) for t in keys]
        sd_tok = [_token('sample_data', name, t) for t in range(num_frames)]
        inst_tok = [_token('instance', name, k) for k in range(len(categories))]
        ann_tok = [[_token('ann', name, k, s) for s in range(len(keys))]
                   for k in range(len(categories))]
        t0 = 1531281439000000 + si * 100_000_000
        nusc_cats = [SYNTHETIC_TO_NUSCENES[c] for c in categories]
        K, S = len(categories), len(keys)
        sensor_boxes = np.zeros((K, S, 7))
        global_boxes = np.zeros((K, S, 7))
        counts = np.zeros((K, S), np.int64)
        lidar_files, sweep_files = [], []
        for t in range(num_frames):
            stamp = t0 + t * FRAME_PERIOD_US
            key = t % key_interval == 0
            s = t // key_interval
            # ---- the frame chain: L -> ego -> global
            theta = sensor_heading(t)
            r_wl = rotz(theta)
            origin = np.array([sim.ego[t, 0], sim.ego[t, 1], SENSOR_HEIGHT])
            r_ge = r_gw @ r_wl @ CALIB_ROTATION.T
            t_ge = r_gw @ origin + WORLD_OFFSET - r_ge @ CALIB_TRANSLATION
            tables['ego_pose'].append(dict(token=sd_tok[t], timestamp=stamp,
                                           rotation=rotation_to_quaternion(r_ge),
                                           translation=[float(v) for v in t_ge]))
            # ---- the points, in L
            pts_s = sim.render(t)
            pts_l = pts_s.copy()
            pts_l[:, :3] = pts_s[:, :3] @ r_wl  # = r_wl.T @ p
            data = np.concatenate([pts_l[:, :3], pts_s[:, 3:4] * 255.,
                                   _ring_index(pts_s, fov, beams)[:, None]], 1)
            sub = 'samples' if key else 'sweeps'
            fname = f'{sub}/LIDAR_TOP/{logfile}__LIDAR_TOP__{stamp}.pcd.bin'
            with atomic_open(osp.join(root, fname), 'wb', suffix='.bin') as f:
                f.write(data.astype(np.float32).tobytes())
            (lidar_files if key else sweep_files).append(osp.join(root, fname))
            nxt_key = min(s + (0 if key else 1), S - 1)
            tables['sample_data'].append(dict(
                token=sd_tok[t], sample_token=sample_tok[nxt_key], ego_pose_token=sd_tok[t],
                calibrated_sensor_token=cs_token, timestamp=stamp, fileformat='pcd',
                is_key_frame=bool(key), height=0, width=0, filename=fname,
                prev=sd_tok[t - 1] if t > 0 else '',
                next=sd_tok[t + 1] if t + 1 < num_frames else ''))
            if not key:
                continue
            tables['sample'].append(dict(token=sample_tok[s], timestamp=stamp,
                                         prev=sample_tok[s - 1] if s > 0 else '',
                                         next=sample_tok[s + 1] if s + 1 < S else '',
                                         scene_token=_token('scene', name)))
            for k in range(K):
                box_s = sim.sensor_box(k, t)
                counts[k, s] = target_point_count(pts_s, box_s) if not sim.hidden[k, t] else 0
                box_l = box_s.copy()
                box_l[:3] = r_wl.T @ box_s[:3]
                box_l[6] = float(wrap_angle(box_s[6] - theta))
                sensor_boxes[k, s] = box_l
                box_w = sim.boxes[k, t]
                box_g = box_w.copy()
                box_g[:3] = r_gw @ box_w[:3] + WORLD_OFFSET
                box_g[6] = float(wrap_angle(box_w[6] + WORLD_YAW))
                global_boxes[k, s] = box_g
                n = int(counts[k, s])
                vis = '1' if n == 0 else '4'
                tables['sample_annotation'].append(dict(
                    token=ann_tok[k][s], sample_token=sample_tok[s], instance_token=inst_tok[k],
                    visibility_token=vis, attribute_tokens=[t_attribute[(
                        _STATIC_ATTRIBUTE_OF if k in static else _ATTRIBUTE_OF)[
                            nusc_cats[k]]]], translation=[float(v) for v in box_g[:3]],
                    size=[float(box_g[4]), float(box_g[3]), float(box_g[5])],  # w, l, h
                    rotation=rotation_to_quaternion(rotz(box_g[6])),
                    prev=ann_tok[k][s - 1] if s > 0 else '',
                    next=ann_tok[k][s + 1] if s + 1 < S else '', num_lidar_pts=n,
                    num_radar_pts=0))
        for k in range(K):
            tables['instance'].append(dict(
                token=inst_tok[k], category_token=t_category[nusc_cats[k]], nbr_annotations=S,
                first_annotation_token=ann_tok[k][0], last_annotation_token=ann_tok[k][-1]))
        tables['scene'].append(dict(token=_token('scene', name), log_token=log_token,
                                    nbr_samples=S, first_sample_token=sample_tok[0],
                                    last_sample_token=sample_tok[-1], name=name,
                                    description='synthetic LiDAR (Open3D ray casting)'))
        summary[name] = dict(sensor_boxes=sensor_boxes, global_boxes=global_boxes,
                             points_per_object=counts, hidden=sim.hidden[:, keys].copy(),
                             categories=nusc_cats, instance_tokens=inst_tok,
                             sample_tokens=sample_tok, lidar_tokens=[sd_tok[t] for t in keys],
                             lidar_files=lidar_files, sweep_files=sweep_files, key_frames=keys)

    map_token = _token('map', root)
    map_file = f'maps/{map_token}.png'
    import cv2
    cv2.imwrite(osp.join(root, map_file), np.zeros((1, 1), np.uint8))
    fixed_tables = dict(
        category=[dict(token=t, name=g, description=g) for g, t in t_category.items()],
        attribute=[dict(token=t, name=a, description=a) for a, t in t_attribute.items()],
        visibility=[dict(token=tok, level=lv, description=f'visibility of the instance {lv}')
                    for tok, lv in _VISIBILITY],
        sensor=[dict(token=sensor_token, channel='LIDAR_TOP', modality='lidar')],
        map=[dict(category='semantic_prior', token=map_token, filename=map_file,
                  log_tokens=[r['token'] for r in tables['log']])])
    for name, rows in list(fixed_tables.items()) + list(tables.items()):
        _write_table(root, version, name, rows)
    return summary
