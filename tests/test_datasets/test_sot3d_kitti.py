"""KITTI tracking reader, box conversion, point-cloud I/O and the 3D SOT
transforms."""
import math
import warnings

import numpy as np
import pytest

from mmdropmae.datasets.sot3d import (KittiAnnotationError, KittiTrackingSOTDataset,
                                      PointCloudReadError, kitti_scene_list, load_points,
                                      read_kitti_calib, read_kitti_tracking_labels)
from mmdropmae.datasets.synthetic.lidar import (default_kitti_calib, write_corrupt_bin,
                                                write_kitti_calib)
from mmdropmae.datasets.transforms.sot3d_transforms import (LoadSOT3DPoints, PackSOT3DFrame,
                                                            PackSOT3DInputs, SOT3DPairToBEV)
from mmdropmae.utils import register_all_modules
from mmdropmae.utils.points import (bev_resolution, box_from_frame, box_in_frame,
                                    crop_box_frame, crop_oriented_open3d,
                                    kitti_label_to_lidar_box, lidar_box_to_kitti_label,
                                    rasterize_bev, voxel_downsample_open3d)

register_all_modules()

#: LiDAR -> camera of KITTI without the small offsets: x_cam = -y, y_cam = -z,
#: z_cam = x.
PERM = np.array([[0., -1., 0., 0.], [0., 0., -1., 0.], [1., 0., 0., 0.]])


# ------------------------------------------------------------ box conversion
def test_kitti_box_to_lidar_hand_worked():
    # bottom centre (1, 1.5, 10) in the camera, h = 1.5: centre (1, 0.75, 10)
    # -> LiDAR (10, -1, -0.75); rotation_y = 0 faces camera +x = LiDAR -y
    box = kitti_label_to_lidar_box(1., 1.5, 10., 1.5, 1.8, 4.2, 0., PERM)
    np.testing.assert_allclose(box, [10., -1., -0.75, 4.2, 1.8, 1.5, -math.pi / 2], atol=1e-12)
    # a translation in Tr_velo_cam is undone
    tr = PERM.copy()
    tr[:, 3] = [0.1, -0.2, 0.3]
    box = kitti_label_to_lidar_box(1., 1.5, 10., 1.5, 1.8, 4.2, 0., tr)
    np.testing.assert_allclose(box[:3], [10. - 0.3, -1. + 0.1, -0.75 - 0.2], atol=1e-12)


def test_yaw_matches_open3dsot_quaternions():
    # Open3DSOT: Quaternion(axis=[0, 0, -1], radians=ry) *
    # Quaternion(axis=[0, 0, -1], degrees=90); compare the rotation with scipy
    from scipy.spatial.transform import Rotation
    for ry in np.linspace(-3.1, 3.1, 13):
        rot = Rotation.from_rotvec([0, 0, -ry]) * Rotation.from_rotvec([0, 0, -math.pi / 2])
        box = kitti_label_to_lidar_box(0., 0., 5., 1., 1., 1., ry, PERM)
        c, s = math.cos(box[6]), math.sin(box[6])
        np.testing.assert_allclose(rot.as_matrix(), [[c, -s, 0], [s, c, 0], [0, 0, 1]],
                                   atol=1e-12)
        # KITTI's heading in the camera is (cos ry, 0, -sin ry)
        heading_cam = PERM[:, :3] @ np.array([c, s, 0.])
        np.testing.assert_allclose(heading_cam, [math.cos(ry), 0., -math.sin(ry)], atol=1e-12)


def test_lidar_kitti_round_trip():
    tr = default_kitti_calib()['Tr_velo_cam']
    box = np.array([12.3, -3.4, -0.9, 4.1, 1.7, 1.5, 0.8])
    h, w, l, x, y, z, ry = lidar_box_to_kitti_label(box, tr)  # noqa: E741
    np.testing.assert_allclose(kitti_label_to_lidar_box(x, y, z, h, w, l, ry, tr), box,
                               atol=1e-9)


def test_box_frames_round_trip():
    ref = np.array([5., 2., -1., 4., 2., 1.5, 1.2])
    box = np.array([6., 3.5, -0.8, 4., 2., 1.5, 1.5])
    local = box_in_frame(box, ref)
    np.testing.assert_allclose(box_from_frame(local, ref), box, atol=1e-12)
    # a point 1 m ahead of ref (along its heading) is at local (1, 0)
    ahead = ref.copy()
    ahead[:2] += [math.cos(1.2), math.sin(1.2)]
    np.testing.assert_allclose(box_in_frame(ahead, ref)[:3], [1., 0., 0.], atol=1e-12)


# ------------------------------------------------------------ crop / BEV
def test_crop_matches_open3d_oriented_box():
    rng = np.random.default_rng(0)
    pts = np.concatenate([rng.uniform(-8, 8, (5000, 3)), rng.uniform(0, 1, (5000, 1))], 1)
    box = np.array([1., -0.5, 0.2, 4., 1.8, 1.5, 0.6])
    local = crop_box_frame(pts.astype(np.float32), box, 1.25, 2.)
    idx = crop_oriented_open3d(pts, box, 1.25, 2.)
    assert len(local) == len(idx) > 100  # no random point sits on a face
    # Open3DSOT's search area: |x| < l * 1.25 / 2 + 2 etc. in the box frame
    half = box[3:6] * 1.25 / 2 + 2
    assert (np.abs(local[:, :3]) < half).all()
    np.testing.assert_allclose(np.sort(local[:, 3]), np.sort(pts[idx, 3]), atol=1e-6)


def test_rasterize_bev_hand_worked():
    # two points in one cell, one in another; resolution 1 m, 4 x 4 image
    pts = np.array([[0.5, 0.5, 1., 0.5], [0.2, 0.7, -1., 1.], [-1.5, -1.5, 2., 0.]],
                   np.float32)
    img = rasterize_bev(pts, 4, 1., z_range=(-2., 2.), density_norm=2.)
    # (0.5, 0.5) -> col 2, row 2; (-1.5, -1.5) -> col 0, row 0
    assert img[2, 2, 0] == round(0.75 * 254 + 1)  # highest z = 1
    assert img[2, 2, 1] == 255  # log(3) / log(3)
    assert img[2, 2, 2] == round(0.75 * 255)  # mean reflectance
    assert img[0, 0, 0] == 255 and img[0, 0, 2] == 0
    assert img.sum() == img[2, 2].sum() + img[0, 0].sum()


def test_voxel_downsample_open3d():
    pts = np.array([[0.1, 0.1, 0.1, 0.2], [0.2, 0.2, 0.2, 0.4], [5., 5., 5., 1.]], np.float32)
    out = voxel_downsample_open3d(pts, 1.)
    assert out.shape == (2, 4)
    row = out[np.argmin(out[:, 0])]
    np.testing.assert_allclose(row, [0.15, 0.15, 0.15, 0.3], atol=1e-6)


# ------------------------------------------------------------ point files
def test_corrupt_bin_names_file_and_frame(tmp_path):
    path = tmp_path / 'velodyne' / '0003' / '000012.bin'
    path.parent.mkdir(parents=True)
    write_corrupt_bin(str(path))
    with pytest.raises(PointCloudReadError, match=r'000012\.bin \(scene 0003 frame 12\): size '
                       r'\d+ bytes is not a multiple of 16'):
        load_points(str(path), 'scene 0003 frame 12')
    item = dict(points_path=str(path), video_name='0003_0001', frame_id=4, scene='0003',
                kitti_frame=12)
    with pytest.raises(PointCloudReadError, match='sequence 0003_0001 frame 4'):
        LoadSOT3DPoints(on_error='raise')(dict(item))
    with pytest.warns(UserWarning, match=r'000012\.bin \(sequence 0003_0001 frame 4 \(scene 0003 '
                      r'frame 12\)\).*multiple of 16.*empty point cloud'):
        out = LoadSOT3DPoints()(dict(item))
    assert out['points'].shape == (0, 4) and 'multiple of 16' in out['load_error']
    with pytest.raises(PointCloudReadError, match='no such point-cloud file'):
        load_points(str(tmp_path / 'nope.bin'))


@pytest.mark.parametrize('ext', ['pcd', 'ply'])
def test_pcd_ply_through_open3d(tmp_path, ext):
    import open3d as o3d
    rng = np.random.default_rng(1)
    xyz = rng.normal(size=(50, 3)).astype(np.float32)
    inten = rng.uniform(0, 1, (50, 1)).astype(np.float32)
    pcd = o3d.t.geometry.PointCloud(o3d.core.Tensor(xyz))
    pcd.point['intensity'] = o3d.core.Tensor(inten)
    path = str(tmp_path / f'cloud.{ext}')
    assert o3d.t.io.write_point_cloud(path, pcd)
    pts = load_points(path)
    np.testing.assert_allclose(pts[:, :3], xyz, atol=1e-5)
    np.testing.assert_allclose(pts[:, 3:], inten, atol=1e-5)


# ------------------------------------------------------------ labels / calib
def test_calib_and_label_errors(tmp_path):
    calib = tmp_path / 'calib.txt'
    write_kitti_calib(str(calib), default_kitti_calib())
    c = read_kitti_calib(str(calib))
    assert c['Tr_velo_cam'].shape == (3, 4) and np.allclose(c['R_rect'], np.eye(3))
    calib.write_text('P0: 1 2 3 4 5 6 7 8 9 10 11 12\n')
    with pytest.raises(KittiAnnotationError, match=r'calib\.txt: no Tr_velo_cam'):
        read_kitti_calib(str(calib))
    labels = tmp_path / '0000.txt'
    labels.write_text('0 1 Car 0 0 0 1 2 3 4 1.5 1.6 4 1 2 10 0.1\n0 2 Car 0 0\n')
    with pytest.raises(KittiAnnotationError, match=r'0000\.txt, line 2: expected 17 columns'):
        read_kitti_tracking_labels(str(labels))


def test_open3dsot_scene_split():
    assert kitti_scene_list('train') == [f'{i:04d}' for i in range(17)]
    assert kitti_scene_list('val') == ['0017', '0018']
    assert kitti_scene_list('test') == ['0019', '0020']
    assert kitti_scene_list('test_tiny') == ['0019']
    assert len(kitti_scene_list('all')) == 21


def _write_scene(root, scene, rows, frames=3):
    """A hand-made scene: ``rows`` are (frame, track_id, type, box in LiDAR)."""
    calib = default_kitti_calib()
    write_kitti_calib(str(root / 'calib' / f'{scene}.txt'), calib)
    lines = []
    for fr, tid, typ, box in rows:
        h, w, l, x, y, z, ry = lidar_box_to_kitti_label(box, calib['Tr_velo_cam'])  # noqa: E741
        lines.append(f'{fr} {tid} {typ} 0 0 0 0 0 10 10 {h} {w} {l} {x} {y} {z} {ry}')
    (root / 'label_02').mkdir(exist_ok=True, parents=True)
    (root / 'label_02' / f'{scene}.txt').write_text('\n'.join(lines) + '\n')
    (root / 'velodyne' / scene).mkdir(parents=True, exist_ok=True)
    for fr in range(frames):
        pts = np.array([[10. + fr, 0., 0., 0.5], [20., 5., 0., 0.1]], np.float32)
        pts.tofile(str(root / 'velodyne' / scene / f'{fr:06d}.bin'))


def test_dataset_tracklets_test_and_train_items(tmp_path):
    car = np.array([10., 0., 0., 4., 1.8, 1.5, 0.1])
    ped = np.array([20., 5., 0., 0.8, 0.6, 1.7, 0.])
    rows = [(2, 7, 'Car', car + [2, 0, 0, 0, 0, 0, 0]), (0, 7, 'Car', car),
            (1, 7, 'Car', car + [1, 0, 0, 0, 0, 0, 0]), (0, 3, 'Pedestrian', ped),
            (1, 3, 'Pedestrian', ped), (0, 9, 'DontCare', ped)]
    _write_scene(tmp_path, '0019', rows)
    ds = KittiTrackingSOTDataset(str(tmp_path), split='test', category_name='Car',
                                 scenes=[19], pipeline=[dict(type='LoadSOT3DPoints'),
                                                        dict(type='PackSOT3DFrame')])
    assert ds.num_videos == 1 and len(ds) == 3
    info = ds.get_data_info(2)
    assert info['video_name'] == '0019_0007' and info['frame_id'] == 2
    np.testing.assert_allclose(info['gt_bbox_3d'], car + [2, 0, 0, 0, 0, 0, 0], atol=1e-5)
    out = ds[0]
    assert out['inputs'].shape == (2, 4)
    assert out['data_samples'].metainfo['video_length'] == 3
    all_ds = KittiTrackingSOTDataset(str(tmp_path), category_name='All', scenes=[19])
    assert [t['name'] for t in all_ds.tracklets] == ['0019_0007', '0019_0003']  # first seen
    assert list(all_ds.video_frame_range(1)) == [3, 4]
    train = KittiTrackingSOTDataset(str(tmp_path), category_name='Car', scenes=[19],
                                    test_mode=False)
    assert len(train) == 2
    frames = train.get_data_info(1)['frames']
    assert [f['kitti_frame'] for f in frames] == [0, 1, 2]  # first, previous, current
    with pytest.raises(KittiAnnotationError, match='no Cyclist tracklet'):
        KittiTrackingSOTDataset(str(tmp_path), category_name='Cyclist', scenes=[19])
    with pytest.raises(KittiAnnotationError, match=r'0020\.txt: no such label file'):
        KittiTrackingSOTDataset(str(tmp_path), category_name='Car', scenes=[20])


def test_pair_to_bev_target_and_pack():
    rng = np.random.default_rng(0)
    box0 = np.array([10., 0., 0., 4., 2., 1.5, 0.3])
    box1 = np.array([10.8, 0.3, 0.05, 4., 2., 1.5, 0.35])

    def cloud(box):
        local = np.concatenate([rng.uniform(-1, 1, (300, 3)) * box[3:6] / 2,
                                np.full((300, 1), 0.8)], 1)
        world = local.copy()
        c, s = math.cos(box[6]), math.sin(box[6])
        world[:, 0] = box[0] + c * local[:, 0] - s * local[:, 1]
        world[:, 1] = box[1] + s * local[:, 0] + c * local[:, 1]
        world[:, 2] = box[2] + local[:, 2]
        return world.astype(np.float32)

    frames = [dict(points=cloud(box0), box=box0), dict(points=cloud(box0), box=box0),
              dict(points=cloud(box1), box=box1)]
    t = SOT3DPairToBEV(template_size=32, search_size=64, ref_jitter=(0, 0, 0, 0),
                       template_jitter=(0, 0, 0, 0), flip_prob=0.)
    out = t(dict(frames=frames, video_name='v', frame_id=2))
    # no jitter: the reference is the previous box, the target its motion
    np.testing.assert_allclose(out['gt_offset_3d'],
                               np.array(box_in_frame(box1, box0))[[0, 1, 2, 6]], atol=1e-5)
    assert out['bev_resolution'] == pytest.approx(bev_resolution(box0, 64))
    assert out['num_template_points'] == 600 and out['num_search_points'] == 300
    assert out['template_img'].shape == (32, 32, 3) and out['search_img'].any()
    packed = PackSOT3DInputs()(out)
    assert packed['inputs']['search'].shape == (3, 64, 64)
    assert packed['data_samples'].gt_offset_3d.shape == (4, )
    # flipping mirrors y and yaw
    flipped = SOT3DPairToBEV(template_size=32, search_size=64, ref_jitter=(0, 0, 0, 0),
                             template_jitter=(0, 0, 0, 0), flip_prob=1.)(
                                 dict(frames=frames, video_name='v', frame_id=2))
    np.testing.assert_allclose(flipped['gt_offset_3d'], out['gt_offset_3d'] * [1, -1, 1, -1],
                               atol=1e-5)
    np.testing.assert_array_equal(flipped['search_img'], out['search_img'][::-1])


def test_pack_frame_keeps_metainfo():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        out = PackSOT3DFrame()(dict(points=np.zeros((5, 4)), gt_bbox_3d=np.ones(7), video_id=0,
                                    video_name='s', frame_id=0, video_length=3,
                                    points_path='p.bin', load_error=None))
    assert out['inputs'].dtype == np.float32
    assert out['data_samples'].metainfo['video_length'] == 3
    assert out['data_samples'].gt_bbox_3d.shape == (7, )
