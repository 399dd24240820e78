"""nuScenes for 3D SOT: the synthetic nuScenes-layout generator, the devkit
loading its tables, the global-frame boxes and the sensor -> global point
transform of the default ``coord_frame='global'`` (against the generator's
exact boxes, Open3DSOT's own point transform, a numpy-only count of the
target's points and a hand-worked ``LoadSOT3DPoints`` case; a static object
stays put), the sensor-frame boxes of ``coord_frame='lidar'`` (against the
generator, an independent numpy transform, the devkit's own
``get_sample_data`` and a hand-worked case), Open3DSOT's split / category /
``min_points`` rules, ``.pcd.bin`` reading and its corrupt-file message, and
the items going through the shared 3D SOT pipelines."""
import json
import math
import os
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from mmdropmae.datasets.sot3d import PointCloudReadError, load_points
from mmdropmae.datasets.synthetic.lidar import target_point_count
from mmdropmae.datasets.synthetic.nuscenes import (NUSCENES_SYNTHETIC_SCENES,
                                                   make_synthetic_nuscenes,
                                                   rotation_to_quaternion, write_corrupt_pcd_bin)
from mmdropmae.datasets.transforms.sot3d_transforms import LoadSOT3DPoints, PackSOT3DFrame
from mmdropmae.utils import register_all_modules
from mmdropmae.utils.points import points_in_box_mask, rotz, wrap_angle

register_all_modules()

CFG = str(Path(__file__).resolve().parents[2] / 'configs' / 'sot3d' /
          'bevtrack_vit-b16_nuscenes_car.py')
VERSION = 'v1.0-mini'
#: objects of every synthetic scene; object 1 (a car) has no points in the
#: first key frame (``empty_first``), object 2 (a pedestrian) stands still
#: (``static``)
CATS = ('Car', 'Car', 'Pedestrian')
STATIC = 2
NUM_FRAMES, KEY_INTERVAL = 11, 2  # key frames 0, 2, ..., 10: 6 samples a scene


def quat_to_matrix(q) -> np.ndarray:
    """[w, x, y, z] -> rotation matrix (the textbook formula, no devkit)."""
    w, x, y, z = np.asarray(q, np.float64) / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def global_to_sensor_numpy(ann, ego, cs) -> np.ndarray:
    """A global annotation -> sensor-frame (cx, cy, cz, l, w, h, yaw), numpy
    only: p_L = R_cs^T (R_ego^T (p_G - t_ego) - t_cs)."""
    r_ego, r_cs = quat_to_matrix(ego['rotation']), quat_to_matrix(cs['rotation'])
    c = r_cs.T @ (r_ego.T @ (np.asarray(ann['translation']) - ego['translation']) -
                  cs['translation'])
    rot = r_cs.T @ r_ego.T @ quat_to_matrix(ann['rotation'])
    w, l, h = ann['size']  # noqa: E741
    return np.array([c[0], c[1], c[2], l, w, h, math.atan2(rot[1, 0], rot[0, 0])])


def _sensor_to_global_numpy(xyz, ego, cs) -> np.ndarray:
    """p_G = R_ego (R_cs p + t_cs) + t_ego, numpy only."""
    xyz = np.asarray(xyz, np.float64) @ quat_to_matrix(cs['rotation']).T + cs['translation']
    return xyz @ quat_to_matrix(ego['rotation']).T + ego['translation']


def _count_in_box_numpy(xyz, box, ground_z: float = 0.1) -> int:
    """Points strictly inside the yaw-only ``box`` and above ``ground_z``
    (the generator's ``num_lidar_pts`` rule; the synthetic ground is the
    global z = 0 plane), numpy only."""
    cx, cy, cz, l, w, h, yaw = box  # noqa: E741
    d = np.asarray(xyz, np.float64) - [cx, cy, cz]
    c, s = math.cos(yaw), math.sin(yaw)
    x, y = c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]
    inside = (np.abs(x) < l / 2) & (np.abs(y) < w / 2) & (np.abs(d[:, 2]) < h / 2)
    return int((inside & (np.asarray(xyz)[:, 2] > ground_z)).sum())


@pytest.fixture(scope='module')
def synth(tmp_path_factory):
    root = tmp_path_factory.mktemp('nuscenes')
    summary = make_synthetic_nuscenes(str(root), VERSION, NUSCENES_SYNTHETIC_SCENES, NUM_FRAMES,
                                      KEY_INTERVAL, CATS, seed=0, empty_first=(1, ),
                                      static=(STATIC, ), beams=16, azimuth_step=1.0)
    return str(root), summary


@pytest.fixture(scope='module')
def devkit():
    return pytest.importorskip('nuscenes')


def _tables(root):
    out = {}
    for name in os.listdir(os.path.join(root, VERSION)):
        with open(os.path.join(root, VERSION, name)) as f:
            out[name[:-5]] = {r['token']: r for r in json.load(f)}
    return out


def _dataset(root, **kw):
    from mmdropmae.datasets.sot3d import NuScenesSOTDataset
    kw.setdefault('version', VERSION)
    return NuScenesSOTDataset(root, **kw)


def _object_index(summary, tracklet):
    return summary[tracklet['scene']]['instance_tokens'].index(tracklet['track_id'])


# ------------------------------------------------------------- no devkit
def test_generator_layout_and_frame_chain(synth):
    """The written files: .pcd.bin x5 float32 in the LIDAR_TOP frame, and the
    ego pose / calibration chain mapping them to the global frame where the
    global boxes hold the same points as the sensor-frame boxes."""
    root, summary = synth
    tab = _tables(root)
    assert set(tab) == {'category', 'attribute', 'visibility', 'instance', 'sensor',
                        'calibrated_sensor', 'ego_pose', 'log', 'scene', 'sample',
                        'sample_data', 'sample_annotation', 'map'}
    assert len(tab['scene']) == 4 and len(tab['sample']) == 4 * 6
    assert len(tab['sample_data']) == 4 * NUM_FRAMES  # 6 key frames + 5 sweeps a scene
    assert sum(sd['is_key_frame'] for sd in tab['sample_data'].values()) == 24
    assert all(sd['filename'].startswith('samples/' if sd['is_key_frame'] else 'sweeps/') and
               sd['filename'].endswith('.pcd.bin') for sd in tab['sample_data'].values())
    cs = next(iter(tab['calibrated_sensor'].values()))
    assert not np.allclose(quat_to_matrix(cs['rotation']), np.eye(3))  # a real rotation
    sc = summary['scene-0103']
    poses = [tab['ego_pose'][tab['sample_data'][t]['ego_pose_token']] for t in sc['lidar_tokens']]
    assert np.ptp([p['translation'][0] for p in poses]) > 1.  # the ego moves
    assert abs(quat_to_matrix(poses[0]['rotation'])[2, 0]) > 1e-3  # a tilted ego pose
    for s, path in enumerate(sc['lidar_files']):
        raw = np.fromfile(path, np.float32)
        assert raw.size % 5 == 0
        raw = raw.reshape(-1, 5)
        assert raw[:, 3].max() > 1. and raw[:, 3].max() <= 255.  # nuScenes intensity 0-255
        assert set(np.unique(raw[:, 4])) <= set(range(16))  # ring index
        pts = load_points(path)
        np.testing.assert_allclose(pts, raw[:, :4] * [1, 1, 1, 1 / 255.], rtol=1e-6)
        # sensor -> ego -> global (as Open3DSOT moves the points) ...
        pose = poses[s]
        xyz = pts[:, :3].astype(np.float64) @ quat_to_matrix(cs['rotation']).T + \
            cs['translation']
        xyz = xyz @ quat_to_matrix(pose['rotation']).T + pose['translation']
        for k in range(len(CATS)):
            n_l = target_point_count(pts, sc['sensor_boxes'][k, s])
            assert abs(n_l - sc['points_per_object'][k, s]) <= 1
            # ... and the global box holds the same points as the sensor box
            in_l = points_in_box_mask(pts, sc['sensor_boxes'][k, s])
            in_g = points_in_box_mask(xyz, sc['global_boxes'][k, s])
            assert (in_l != in_g).sum() <= 1
    assert sc['points_per_object'][1, 0] == 0 and sc['points_per_object'][1, 1:].max() > 0


def test_pcd_bin_reader_and_corrupt_message(tmp_path):
    path = tmp_path / 'samples' / 'LIDAR_TOP' / 'n015__LIDAR_TOP__1531281439800000.pcd.bin'
    path.parent.mkdir(parents=True)
    data = np.arange(3 * 5, dtype=np.float32).reshape(3, 5)
    data[:, 3] = [0., 127.5, 255.]
    data.tofile(str(path))
    np.testing.assert_allclose(load_points(str(path)), data[:, :4] / [1, 1, 1, 255.])
    write_corrupt_pcd_bin(str(path))
    assert os.path.getsize(path) % 20
    with pytest.raises(PointCloudReadError, match=r'1531281439800000\.pcd\.bin \(scene '
                       r'scene-0103 frame 4\): size \d+ bytes is not a multiple of 20 '
                       r'\(nuScenes LiDAR'):
        load_points(str(path), 'scene scene-0103 frame 4')
    # 48 bytes: a whole number of KITTI points (16 bytes), not of nuScenes ones
    np.zeros(12, np.float32).tofile(str(path))
    with pytest.raises(PointCloudReadError, match='48 bytes is not a multiple of 20'):
        load_points(str(path))
    kitti = tmp_path / '000000.bin'  # the same 48 bytes as KITTI points: 3 of them
    np.zeros(12, np.float32).tofile(str(kitti))
    assert load_points(str(kitti)).shape == (3, 4)


def test_hand_worked_transform(devkit):
    """Ego pose: 90 deg about z, at (10, 5, 0); LIDAR_TOP: -90 deg about z, at
    (1, 0, 2) on the ego. A box at (10, 8, 1.5), w 2, l 4, h 1.5, heading
    global +y (yaw 90 deg):
    ego frame: rotz(-90) (0, 3, 1.5) = (3, 0, 1.5), yaw 0;
    sensor:    rotz(+90) ((3, 0, 1.5) - (1, 0, 2)) = (0, 2, -0.5), yaw 90."""
    from mmdropmae.datasets.sot3d import nuscenes_box_to_lidar
    h45 = math.sqrt(.5)
    ego = dict(translation=[10., 5., 0.], rotation=[h45, 0., 0., h45])
    cs = dict(translation=[1., 0., 2.], rotation=[h45, 0., 0., -h45])
    ann = dict(translation=[10., 8., 1.5], size=[2., 4., 1.5], rotation=[h45, 0., 0., h45])
    box = nuscenes_box_to_lidar(ann, ego, cs)
    np.testing.assert_allclose(box, [0., 2., -0.5, 4., 2., 1.5, math.pi / 2], atol=1e-12)
    np.testing.assert_allclose(global_to_sensor_numpy(ann, ego, cs), box, atol=1e-12)
    # a tilted sensor: the centre still follows the full 3D chain, the yaw is
    # the heading of the box's x axis projected on the sensor's xy plane
    r_cs = rotz(-0.4) @ np.array([[1, 0, 0], [0, math.cos(.1), -math.sin(.1)],
                                  [0, math.sin(.1), math.cos(.1)]])
    cs2 = dict(translation=[0.5, -0.2, 1.8], rotation=rotation_to_quaternion(r_cs))
    np.testing.assert_allclose(nuscenes_box_to_lidar(ann, ego, cs2),
                               global_to_sensor_numpy(ann, ego, cs2), atol=1e-12)


# --------------------------------------------------------------- devkit
def test_devkit_loads_tables_and_key_frames(synth, devkit):
    from nuscenes.nuscenes import NuScenes
    from nuscenes.utils.data_classes import LidarPointCloud
    root, summary = synth
    nusc = NuScenes(VERSION, root, verbose=False)
    assert sorted(s['name'] for s in nusc.scene) == sorted(NUSCENES_SYNTHETIC_SCENES)
    sc = summary['scene-0916']
    for s, tok in enumerate(sc['sample_tokens']):
        sample = nusc.get('sample', tok)
        assert sample['data']['LIDAR_TOP'] == sc['lidar_tokens'][s]
        assert len(sample['anns']) == len(CATS)
        path = nusc.get_sample_data_path(sample['data']['LIDAR_TOP'])
        assert path == sc['lidar_files'][s]
        pc = LidarPointCloud.from_file(path)  # the devkit's reader
        np.testing.assert_allclose(load_points(path), pc.points.T / [1, 1, 1, 255.], rtol=1e-6)
        # the devkit's own sensor-frame boxes (get_sample_data) are ours
        _, boxes, _ = nusc.get_sample_data(sample['data']['LIDAR_TOP'])
        for b in boxes:
            k = sc['instance_tokens'].index(nusc.get('sample_annotation', b.token)[
                'instance_token'])
            exact = sc['sensor_boxes'][k, s]
            np.testing.assert_allclose(b.center, exact[:3], atol=1e-9)
            np.testing.assert_allclose(b.wlh, exact[[4, 3, 5]], atol=1e-9)
            assert abs(wrap_angle(b.orientation.yaw_pitch_roll[0] - exact[6])) < 1e-9
    inst = nusc.get('instance', sc['instance_tokens'][2])
    assert nusc.get('category', inst['category_token'])['name'] == 'human.pedestrian.adult'


def test_sensor_frame_boxes_equal_generator_and_numpy(synth, devkit):
    root, summary = synth
    tab = _tables(root)
    ds = _dataset(root, split='val', category_name='Car', min_points=-1, coord_frame='lidar')
    assert ds.num_videos == 2 * 2  # two cars in each of the two val scenes
    assert all(t['points_to_frame'] is None for t in ds.tracklets)
    assert 'points_to_frame' not in ds.get_data_info(0)  # points stay as read
    for t in ds.tracklets:
        k = _object_index(summary, t)
        sc = summary[t['scene']]
        np.testing.assert_allclose(t['boxes'], sc['sensor_boxes'][k], atol=1e-9)
        assert t['frames'] == list(range(6))
        assert t['points_paths'] == sc['lidar_files']  # key frames only, never sweeps
        assert t['num_lidar_pts'] == list(sc['points_per_object'][k])
        for i, ann_tok in enumerate(t['annotation_tokens']):
            ann = tab['sample_annotation'][ann_tok]
            sd = tab['sample_data'][t['sample_data_tokens'][i]]
            ref = global_to_sensor_numpy(ann, tab['ego_pose'][sd['ego_pose_token']],
                                         tab['calibrated_sensor'][sd['calibrated_sensor_token']])
            np.testing.assert_allclose(t['boxes'][i, :6], ref[:6], atol=1e-9)
            assert abs(wrap_angle(t['boxes'][i, 6] - ref[6])) < 1e-9
    # the boxes move in the sensor frame with the ego too
    assert np.ptp(ds.tracklets[0]['boxes'][:, 0]) + np.ptp(ds.tracklets[0]['boxes'][:, 1]) > 1.


def test_global_boxes_equal_generator_and_open3dsot_box(synth, devkit):
    """The default frame: the annotations' global boxes unmoved (the
    generator's exact ones); the 7-vector is the devkit Box exactly (same
    corners, Open3DSOT's ``radians * axis[-1]`` angle); ``points_to_frame``
    is ego_pose @ calibrated_sensor (numpy-only check)."""
    from nuscenes.utils.data_classes import Box
    from pyquaternion import Quaternion
    root, summary = synth
    tab = _tables(root)
    ds = _dataset(root, split='val', category_name='Car', min_points=-1)
    assert ds.coord_frame == 'global' and ds.num_videos == 4
    for t in ds.tracklets:
        k = _object_index(summary, t)
        np.testing.assert_allclose(t['boxes'], summary[t['scene']]['global_boxes'][k],
                                   atol=1e-9)
        assert t['points_to_frame'].shape == (6, 4, 4)
        for i, ann_tok in enumerate(t['annotation_tokens']):
            ann = tab['sample_annotation'][ann_tok]
            bb = Box(ann['translation'], ann['size'], Quaternion(ann['rotation']))
            cx, cy, cz, l, w, h, yaw = t['boxes'][i]  # noqa: E741
            local = np.array([[l / 2] * 4 + [-l / 2] * 4,
                              np.array([1, -1, -1, 1, 1, -1, -1, 1]) * w / 2,
                              np.array([1, 1, -1, -1, 1, 1, -1, -1]) * h / 2])
            corners = rotz(yaw) @ local + np.array([[cx], [cy], [cz]])
            np.testing.assert_allclose(corners, bb.corners(), atol=1e-9)
            theta = bb.orientation.radians * bb.orientation.axis[-1]  # Open3DSOT's sampler
            assert abs(wrap_angle(theta - yaw)) < 1e-9
            sd = tab['sample_data'][t['sample_data_tokens'][i]]
            ego, cs = tab['ego_pose'][sd['ego_pose_token']], \
                tab['calibrated_sensor'][sd['calibrated_sensor_token']]
            m = t['points_to_frame'][i]
            np.testing.assert_allclose(m[3], [0, 0, 0, 1])
            probe = np.array([[0., 0., 0.], [1., 0., 0.], [0., 2., -1.], [-3., 4., 5.]])
            np.testing.assert_allclose(probe @ m[:3, :3].T + m[:3, 3],
                                       _sensor_to_global_numpy(probe, ego, cs), atol=1e-9)
        info = ds.get_data_info(ds.video_frame_range(ds.tracklets.index(t))[2])
        np.testing.assert_array_equal(info['points_to_frame'], t['points_to_frame'][2])
    with pytest.raises(ValueError, match=r"coord_frame must be one of \('global', 'lidar'\), "
                       r"got 'sensor'"):
        _dataset(root, coord_frame='sensor')


def test_global_points_as_open3dsot_and_inside_target_box(synth, devkit):
    """LoadSOT3DPoints with the item's points_to_frame gives Open3DSOT's
    global points (its own devkit calls), reflectance kept, and the target's
    points fall in its global box (a numpy count = num_lidar_pts); the raw,
    twice-moved or inversely-moved points do not."""
    from nuscenes.utils.data_classes import LidarPointCloud
    from pyquaternion import Quaternion
    root, summary = synth
    tab = _tables(root)
    ds = _dataset(root, split='val', category_name='Car', min_points=-1)
    load = LoadSOT3DPoints()
    checked = 0
    for idx in range(len(ds)):
        info = ds.get_data_info(idx)
        out = load(dict(info))
        pts = out['points']
        assert pts.dtype == np.float32 and out['load_error'] is None
        # Open3DSOT's _get_frame_from_anno_data, verbatim devkit calls
        sd = tab['sample_data'][info['sample_data_token']]
        cs = tab['calibrated_sensor'][sd['calibrated_sensor_token']]
        ego = tab['ego_pose'][sd['ego_pose_token']]
        pc = LidarPointCloud.from_file(info['points_path'])
        pc.rotate(Quaternion(cs['rotation']).rotation_matrix)
        pc.translate(np.array(cs['translation']))
        pc.rotate(Quaternion(ego['rotation']).rotation_matrix)
        pc.translate(np.array(ego['translation']))
        np.testing.assert_allclose(pts[:, :3], pc.points[:3].T, rtol=0, atol=2e-4)
        raw = load_points(info['points_path'])
        np.testing.assert_array_equal(pts[:, 3], raw[:, 3])  # reflectance untouched
        n = info['num_lidar_pts']
        box = info['gt_bbox_3d']
        assert abs(_count_in_box_numpy(pts[:, :3], box) - n) <= 1
        if n >= 5:
            m = info['points_to_frame']
            twice = raw[:, :3] @ (m[:3, :3] @ m[:3, :3]).T + m[:3, :3] @ m[:3, 3] + m[:3, 3]
            inverse = (raw[:, :3] - m[:3, 3]) @ m[:3, :3]
            for wrong in (raw[:, :3], twice, inverse):
                assert _count_in_box_numpy(wrong, box) < n // 2
            checked += 1
    assert checked >= 8


def test_load_points_to_frame_hand_worked(tmp_path):
    """points_to_frame = rotz(90 deg), t = (10, 20, 1):
    (1, 0, 0) -> (0, 1, 0) + t = (10, 21, 1); (0, 2, 1) -> (-2, 0, 1) + t =
    (8, 20, 2) (applied twice: (-11, 30, 2), ...; inverted: (-20, 9, -1),
    ...); the reflectance (51 / 255 = 0.2) stays."""
    path = tmp_path / 'samples' / 'LIDAR_TOP' / 'n015__LIDAR_TOP__1.pcd.bin'
    path.parent.mkdir(parents=True)
    np.array([[1., 0., 0., 51., 3.], [0., 2., 1., 102., 7.]], np.float32).tofile(str(path))
    m = np.eye(4)
    m[:3, :3] = rotz(math.pi / 2)
    m[:3, 3] = [10., 20., 1.]
    expected = np.array([[10., 21., 1., .2], [8., 20., 2., .4]])
    out = LoadSOT3DPoints()(dict(points_path=str(path), points_to_frame=m, video_name='v',
                                 frame_id=0))
    assert out['points'].dtype == np.float32
    np.testing.assert_allclose(out['points'], expected, atol=1e-6)
    np.testing.assert_allclose(LoadSOT3DPoints()(dict(points_path=str(path)))['points'],
                               [[1., 0., 0., .2], [0., 2., 1., .4]], atol=1e-6)  # no matrix
    # training items: each frame its own matrix (None: as read)
    frames = [dict(points_path=str(path), points_to_frame=m, where='scene s frame 0'),
              dict(points_path=str(path), points_to_frame=None, where='scene s frame 1')]
    out = LoadSOT3DPoints()(dict(frames=frames))
    np.testing.assert_allclose(out['frames'][0]['points'], expected, atol=1e-6)
    np.testing.assert_allclose(out['frames'][1]['points'][:, :3], [[1, 0, 0], [0, 2, 1]])
    # a missing file: still an empty cloud
    with pytest.warns(UserWarning, match='no such point-cloud file'):
        out = LoadSOT3DPoints()(dict(points_path=str(tmp_path / 'x.pcd.bin'), points_to_frame=m))
    assert out['points'].shape == (0, 4)
    bad = m.copy()
    bad[:3, :3] *= 2.
    with pytest.raises(ValueError, match=r'1\.pcd\.bin \(sequence v frame 0\): points_to_frame '
                       'must be a finite 4x4 rigid matrix'):
        LoadSOT3DPoints()(dict(points_path=str(path), points_to_frame=bad, video_name='v',
                               frame_id=0))


def test_static_object_stays_in_global_frame(synth, devkit):
    """The static pedestrian: one global box in every key frame (so its
    search-area offsets are zero), while its LIDAR_TOP box moves with the
    ego vehicle (0.6 m a key frame) and the wavering heading."""
    from mmdropmae.utils.points import box_in_frame
    root, summary = synth
    tab = _tables(root)
    kw = dict(split='val', category_name='Pedestrian', min_points=-1)
    glob, lidar = _dataset(root, **kw), _dataset(root, coord_frame='lidar', **kw)
    assert glob.num_videos == lidar.num_videos == 2
    for tg, tl in zip(glob.tracklets, lidar.tracklets):
        assert _object_index(summary, tg) == STATIC and tg['track_id'] == tl['track_id']
        np.testing.assert_allclose(tg['boxes'], np.repeat(tg['boxes'][:1], 6, 0), atol=1e-9)
        np.testing.assert_allclose(tg['boxes'], summary[tg['scene']]['global_boxes'][STATIC],
                                   atol=1e-9)
        assert np.ptp(tl['boxes'][:, 0]) + np.ptp(tl['boxes'][:, 1]) > 2.
        for i in range(1, 6):
            np.testing.assert_allclose(box_in_frame(tg['boxes'][i], tg['boxes'][i - 1])[:3], 0,
                                       atol=1e-9)
            assert np.linalg.norm(box_in_frame(tl['boxes'][i], tl['boxes'][i - 1])[:2]) > 0.5
        ann = tab['sample_annotation'][tg['annotation_tokens'][0]]
        assert [tab['attribute'][a]['name'] for a in ann['attribute_tokens']] == \
            ['pedestrian.standing']


def test_training_frames_carry_points_to_frame(synth, devkit):
    root, summary = synth
    ds = _dataset(root, split='mini_val', test_mode=False, min_points=-1)
    t = ds.tracklets[0]
    item = LoadSOT3DPoints()(ds._train_item(0, 3))
    k = _object_index(summary, t)
    for fr, j in zip(item['frames'], (0, 2, 3)):
        np.testing.assert_array_equal(fr['points_to_frame'], t['points_to_frame'][j])
        np.testing.assert_allclose(fr['box'], summary[t['scene']]['global_boxes'][k, j],
                                   atol=1e-9)
        n = t['num_lidar_pts'][j]
        assert abs(_count_in_box_numpy(fr['points'][:, :3], fr['box']) - n) <= 1
    assert max(t['num_lidar_pts'][j] for j in (0, 2, 3)) > 5


def test_split_selection(synth, devkit):
    from mmdropmae.datasets.sot3d import NuScenesDataError
    root, _ = synth

    def scenes(**kw):
        return sorted({t['scene'] for t in _dataset(root, min_points=-1, **kw).tracklets})

    assert scenes(split='mini_val') == ['scene-0103', 'scene-0916']
    assert scenes(split='val') == ['scene-0103', 'scene-0916']
    assert scenes(split='mini_train') == ['scene-0061', 'scene-0655']
    assert scenes(split='train') == ['scene-0061', 'scene-0655']
    assert scenes(split='train_track') == ['scene-0655']  # Open3DSOT's training split
    assert scenes(split='train_detect') == ['scene-0061']
    assert scenes(split='test', scenes=['scene-0061']) == ['scene-0061']  # override
    with pytest.raises(NuScenesDataError, match=r"no Car tracklet .* in split 'test'; 0 of "
                       r'the 4 scenes'):
        _dataset(root, split='test')
    with pytest.raises(NuScenesDataError, match=r"unknown nuScenes split 'valid'.*mini_val"):
        _dataset(root, split='valid')


def test_category_and_min_points_filters(synth, devkit):
    from mmdropmae.datasets.sot3d import NuScenesDataError, nuscenes_general_classes
    root, summary = synth
    assert nuscenes_general_classes('Car') == ('vehicle.car', )
    assert len(nuscenes_general_classes('pedestrian')) == 4
    with pytest.raises(ValueError, match="unknown nuScenes category 'Boat'"):
        _dataset(root, category_name='Boat')
    # Open3DSOT at test time: the first box must have >= 1 point, which
    # drops car #1 (hidden in the first key frame); training keeps it
    test = _dataset(root, split='val', category_name='Car')
    kept = {(t['scene'], _object_index(summary, t)) for t in test.tracklets}
    assert kept == {('scene-0103', 0), ('scene-0916', 0)}
    assert all(t['num_lidar_pts'][0] >= 1 for t in test.tracklets)
    train = _dataset(root, split='val', category_name='Car', test_mode=False)
    assert {_object_index(summary, t) for t in train.tracklets} == {0, 1}
    assert len(train) == 4 * 5  # (current frame 1..5) x 4 tracklets
    ped = _dataset(root, split='val', category_name='Pedestrian', min_points=-1)
    assert {t['category'] for t in ped.tracklets} == {'Pedestrian'}
    assert {t['nusc_category'] for t in ped.tracklets} == {'human.pedestrian.adult'}
    assert {_object_index(summary, t) for t in ped.tracklets} == {2}
    assert _dataset(root, split='val', category_name='vehicle.car', min_points=-1).num_videos == 4
    assert _dataset(root, split='val', category_name='All', min_points=-1).num_videos == 6
    with pytest.raises(NuScenesDataError, match='no Truck tracklet'):
        _dataset(root, split='val', category_name='Truck')


@pytest.mark.parametrize('frame', ['global', 'lidar'])
def test_test_items_and_pipeline(synth, devkit, frame):
    root, summary = synth
    ds = _dataset(root, split='mini_val', category_name='Car', coord_frame=frame,
                  pipeline=[dict(type='LoadSOT3DPoints', on_error='warn'),
                            dict(type='PackSOT3DFrame')])
    assert len(ds) == sum(ds.get_len_per_video(v) for v in range(ds.num_videos)) == 2 * 6
    for v in range(ds.num_videos):
        rng = ds.video_frame_range(v)
        assert [ds.get_data_info(i)['frame_id'] for i in rng] == list(range(6))
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # nothing to warn about
        out = ds[3]
    meta = out['data_samples'].metainfo
    info = ds.get_data_info(3)
    assert meta['video_name'] == info['video_name'] == ds.tracklets[0]['name']
    assert meta['scene'] == 'scene-0103' and meta['kitti_frame'] == 3
    raw = load_points(info['points_path'])
    if frame == 'global':  # sensor -> ego -> global, from the tables with numpy only
        tab = _tables(root)
        sd = tab['sample_data'][info['sample_data_token']]
        raw = raw.astype(np.float64)
        raw[:, :3] = _sensor_to_global_numpy(raw[:, :3], tab['ego_pose'][sd['ego_pose_token']],
                                             tab['calibrated_sensor'][
                                                 sd['calibrated_sensor_token']])
    np.testing.assert_allclose(np.asarray(out['inputs']), raw, rtol=0, atol=2e-4)
    t = ds.tracklets[0]
    key = 'global_boxes' if frame == 'global' else 'sensor_boxes'
    np.testing.assert_allclose(out['data_samples'].gt_bbox_3d,
                               summary[t['scene']][key][_object_index(summary, t), 3], atol=1e-5)


def test_training_items_through_bev_pipeline(synth, devkit):
    from mmengine.config import Config
    root, _ = synth
    cfg = Config.fromfile(CFG)
    pipe = cfg.train_dataloader.dataset.pipeline
    ds = _dataset(root, split='mini_val', test_mode=False, samples_per_epoch=6, pipeline=pipe)
    assert len(ds) == 6
    out = ds[0]
    assert tuple(out['inputs']['template'].shape) == (3, 128, 128)
    assert tuple(out['inputs']['search'].shape) == (3, 256, 256)
    item = ds._train_item(0, 2)
    assert [f['kitti_frame'] for f in item['frames']] == [0, 1, 2]
    assert item['frames'][2]['where'] == f"scene {ds.tracklets[0]['scene']} frame 2"


def test_corrupt_and_missing_pcd_bin_keep_tracking(synth, tmp_path, devkit):
    root, _ = synth
    copy = str(tmp_path / 'nusc')
    shutil.copytree(root, copy)
    ds = _dataset(copy, split='mini_val')
    info = ds.get_data_info(ds.video_frame_range(0)[4])
    write_corrupt_pcd_bin(info['points_path'])
    name = re.escape(os.path.basename(info['points_path']))  # '+' in nuScenes log names
    with pytest.warns(UserWarning, match=rf"{name} \(sequence {info['video_name']} frame 4 "
                      r'\(scene scene-0103 frame 4\)\): size \d+ bytes is not a multiple of 20.*'
                      r'empty point cloud \(tracking keeps the last box\)'):
        out = LoadSOT3DPoints(on_error='warn')(dict(info))
    assert out['points'].shape == (0, 4) and 'multiple of 20' in out['load_error']
    assert PackSOT3DFrame()(out)['data_samples'].metainfo['load_error'] == out['load_error']
    with pytest.raises(PointCloudReadError, match='not a multiple of 20'):
        LoadSOT3DPoints(on_error='raise')(dict(info))
    info5 = ds.get_data_info(ds.video_frame_range(0)[5])
    os.remove(info5['points_path'])
    with pytest.warns(UserWarning, match=r'frame 5 \(scene scene-0103 frame 5\)\): no such '
                      'point-cloud file'):
        LoadSOT3DPoints()(dict(info5))


def test_dataroot_and_table_errors(synth, tmp_path, devkit):
    from mmdropmae.datasets.sot3d import NuScenesDataError
    root, _ = synth
    with pytest.raises(NuScenesDataError, match=r'nope: no such folder \(the nuScenes dataroot'):
        _dataset(str(tmp_path / 'nope'))
    with pytest.raises(NuScenesDataError, match=r"v1.0-trainval: no such folder, the tables of "
                       r"version 'v1.0-trainval' \(versions found in .*\['v1.0-mini'\]"):
        _dataset(root, version='v1.0-trainval')
    copy = tmp_path / 'nusc'
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns('*.pcd.bin'))
    (copy / VERSION / 'ego_pose.json').unlink()
    (copy / VERSION / 'map.json').unlink()
    with pytest.raises(NuScenesDataError, match=r'missing tables ego_pose.json, map.json'):
        _dataset(str(copy))
    shutil.copy(os.path.join(root, VERSION, 'ego_pose.json'), copy / VERSION)
    shutil.copy(os.path.join(root, VERSION, 'map.json'), copy / VERSION)
    (copy / VERSION / 'sample.json').write_text('[{"token": ')
    with pytest.raises(NuScenesDataError, match=r'sample.json: not a valid JSON table'):
        _dataset(str(copy))


def test_nuscenes_config():
    from mmengine.config import Config
    cfg = Config.fromfile(CFG)
    train, test = cfg.train_dataloader.dataset, cfg.test_dataloader.dataset
    assert train.type == test.type == 'NuScenesSOTDataset'
    assert (train.split, test.split) == ('train_track', 'val')  # Open3DSOT's
    assert train.version == test.version == 'v1.0-trainval'
    assert train.category_name == test.category_name == 'Car'
    assert train.coord_frame == test.coord_frame == 'global'  # Open3DSOT's frame
    assert train.data_root == test.data_root == 'data/nuscenes'
    assert test.pipeline[0] == dict(type='LoadSOT3DPoints', on_error='warn')
    step = [s for s in train.pipeline if s['type'] == 'SOT3DPairToBEV'][0]
    assert (step.search_scale, step.search_offset, step.template_scale,
            step.template_offset) == (1.25, 2.0, 1.25, 0.0)
    assert 'use_r_rect' not in train and 'scenes' not in test


@pytest.mark.slow
def test_tools_test_on_synthetic_nuscenes(synth, tmp_path, devkit):
    """tools/test.py with the tiny BEVTrack (random weights) on the synthetic
    nuScenes val scenes, one key frame corrupt: the SOT3DMetric result files
    (frame 0 = ground truth = the generator's exact global box), the
    corrupt frame named and tracking continued from the last box."""
    import subprocess
    import sys

    import torch
    from mmengine.config import Config

    from mmdropmae.evaluation.functional.sot3d_metrics import read_box3d_file
    from mmdropmae.registry import MODELS
    repo = Path(__file__).resolve().parents[2]
    root, summary = synth
    copy = str(tmp_path / 'nusc')
    shutil.copytree(root, copy)
    sc = summary['scene-0103']
    write_corrupt_pcd_bin(os.path.join(copy, os.path.relpath(sc['lidar_files'][3], root)))
    cfg_file = repo / 'configs' / 'sot3d' / 'bevtrack_tiny_synthetic.py'
    model = MODELS.build(Config.fromfile(str(cfg_file)).model)
    ckpt = tmp_path / 'random.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), str(ckpt))
    results = tmp_path / 'results'
    opts = {'test_dataloader.dataset.type': 'NuScenesSOTDataset',
            'test_dataloader.dataset.data_root': copy,
            'test_dataloader.dataset.version': VERSION,
            'test_dataloader.dataset.split': 'mini_val',
            'test_dataloader.dataset.scenes': 'None',
            'test_evaluator.outfile_prefix': results}
    env = dict(os.environ, PYTHONPATH=str(repo) + os.pathsep + os.environ.get('PYTHONPATH', ''))
    proc = subprocess.run(
        [sys.executable, str(repo / 'tools' / 'test.py'), str(cfg_file), str(ckpt), '--work-dir',
         str(tmp_path / 'work'), '--cfg-options'] + [f'{k}={v}' for k, v in opts.items()],
        cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert re.search(r'__LIDAR_TOP__\d+\.pcd\.bin \(sequence scene-0103_\w+ frame 3 \(scene '
                     r'scene-0103 frame 3\)\): size \d+ bytes is not a multiple of 20', log)
    metrics = json.loads((results / 'metrics.json').read_text())
    assert metrics['num_frames'] == 2 * 6  # car #0 of each val scene, 6 key frames
    name = f"scene-0103_{sc['instance_tokens'][0][:12]}"
    pred = read_box3d_file(str(results / 'pred' / f'{name}.txt'))
    gt = read_box3d_file(str(results / 'gt' / f'{name}.txt'))
    np.testing.assert_allclose(gt, sc['global_boxes'][0], atol=1e-5)  # Open3DSOT's frame
    np.testing.assert_allclose(pred[0], gt[0], atol=1e-5)
    np.testing.assert_allclose(pred[3], pred[2], atol=1e-6)  # the corrupt frame keeps the box


def test_make_synthetic_lidar_nuscenes_layout(tmp_path, capsys):
    import importlib.util
    repo = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location(
        'make_synthetic_lidar', repo / 'tools' / 'dataset_converters' / 'make_synthetic_lidar.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'nusc'
    tool.main([str(out), '--layout', 'nuscenes', '--scene-names', 'scene-0103', '--num-frames',
               '4', '--key-interval', '3', '--beams', '8', '--azimuth-step', '2',
               '--categories', 'Car'])
    assert 'scene scene-0103: 2 key frames' in capsys.readouterr().out
    tab = _tables(str(out))
    assert [s['name'] for s in tab['scene'].values()] == ['scene-0103']
    assert sorted(sd['is_key_frame'] for sd in tab['sample_data'].values()) == [0, 0, 1, 1]
    assert len(os.listdir(out / 'samples' / 'LIDAR_TOP')) == 2  # frames 0 and 3
    assert len(os.listdir(out / 'sweeps' / 'LIDAR_TOP')) == 2
