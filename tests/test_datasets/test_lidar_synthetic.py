"""The Open3D ray-cast synthetic LiDAR generator in the KITTI tracking
layout."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mmdropmae.datasets.sot3d import KittiTrackingSOTDataset, load_points
from mmdropmae.datasets.synthetic.lidar import (SENSOR_HEIGHT, SyntheticLidarScene,
                                                make_synthetic_kitti_tracking,
                                                target_point_count)
from tests.utils import REPO


@pytest.fixture(scope='module')
def lidar_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthetic_kitti')
    summary = make_synthetic_kitti_tracking(str(root), scenes=(19, ), num_frames=14,
                                            categories=('Car', 'Pedestrian', 'Car'), seed=3,
                                            beams=32, azimuth_step=0.5)
    return root, summary


def test_boxes_read_back_exactly(lidar_root):
    root, summary = lidar_root
    rng = np.random.default_rng(3 + 19)
    scene = SyntheticLidarScene(14, ('Car', 'Pedestrian', 'Car'), rng, beams=32,
                                azimuth_step=0.5)
    ds = KittiTrackingSOTDataset(str(root), category_name='All', scenes=[19])
    assert [t['name'] for t in ds.tracklets] == ['0019_0000', '0019_0001', '0019_0002']
    for k, t in enumerate(ds.tracklets):
        sim = np.stack([scene.sensor_box(k, f) for f in range(14)])
        np.testing.assert_allclose(t['boxes'][:, :6], sim[:, :6], atol=1e-4)
        dyaw = (t['boxes'][:, 6] - sim[:, 6] + np.pi) % (2 * np.pi) - np.pi
        np.testing.assert_allclose(dyaw, 0, atol=1e-5)


def test_points_hit_ground_objects_and_dropout(lidar_root):
    root, summary = lidar_root
    s = summary['0019']
    pts = load_points(str(root / 'velodyne' / '0019' / '000000.bin'))
    assert pts.shape[1] == 4 and len(pts) > 5000
    # the ground is at -1.73 m in the sensor frame
    assert np.median(pts[:, 2]) == pytest.approx(-SENSOR_HEIGHT, abs=0.1)
    assert pts[:, 3].min() >= 0 and pts[:, 3].max() <= 1
    counts, hidden = s['points_per_object'], s['hidden']
    # frames where the first target has no point: exactly its dropout frames
    assert hidden[0].any()
    assert (counts[0][hidden[0]] == 0).all() and (counts[0][~hidden[0]] > 0).all()
    # the last object is far and sparse (fewer points than the near car)
    assert np.median(counts[2]) < np.median(counts[0][~hidden[0]]) / 3
    ds = KittiTrackingSOTDataset(str(root), category_name='Car', scenes=[19])
    box = ds.tracklets[0]['boxes'][int(np.argmax(~hidden[0]))]
    frame = int(np.argmax(~hidden[0]))
    p = load_points(str(root / 'velodyne' / '0019' / f'{frame:06d}.bin'))
    assert target_point_count(p, box) == counts[0][frame]


def test_cli(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(Path(REPO) / 'tools/dataset_converters/make_synthetic_lidar.py'),
         str(tmp_path / 'out'), '--scenes', '0,2', '--num-frames', '3', '--beams', '8',
         '--azimuth-step', '2', '--categories', 'Van,Cyclist'], capture_output=True,
        text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert 'wrote 2 scenes x 3 frames' in proc.stdout
    assert (tmp_path / 'out' / 'velodyne' / '0002' / '000002.bin').is_file()
    assert (tmp_path / 'out' / 'label_02' / '0000.txt').read_text().count('Van') == 3
    bad = subprocess.run(
        [sys.executable, str(Path(REPO) / 'tools/dataset_converters/make_synthetic_lidar.py'),
         str(tmp_path / 'x'), '--categories', 'Tram'], capture_output=True, text=True,
        timeout=300)
    assert bad.returncode != 0 and 'unknown categories' in bad.stderr
