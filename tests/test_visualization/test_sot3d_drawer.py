"""Rendering of tracked LiDAR frames (matplotlib BEV; Open3D off-screen
where a GL context exists)."""
import numpy as np
import pytest

from mmdropmae.visualization.sot3d_drawer import SOT3DDrawer, open3d_offscreen_available


def _frame():
    rng = np.random.default_rng(0)
    pts = np.concatenate([rng.uniform(-10, 10, (2000, 2)), rng.uniform(-2, 1, (2000, 1)),
                          rng.uniform(0, 1, (2000, 1))], 1).astype(np.float32)
    gt = np.array([1., 0., -0.8, 4., 1.8, 1.5, 0.3])
    pred = gt + [1.5, 0.5, 0, 0, 0, 0, 0.2]
    return pts, gt, pred


def test_bev_png_shows_both_boxes(tmp_path):
    import cv2
    pts, gt, pred = _frame()
    paths = SOT3DDrawer('matplotlib').draw_sequence([pts, pts], np.stack([pred, pred]),
                                                    np.stack([gt, gt]), str(tmp_path), 's')
    assert [p.rsplit('/', 1)[-1] for p in paths] == ['s_0000.png', 's_0001.png']
    img = cv2.imread(paths[0])[..., ::-1].astype(int)  # RGB
    red = (img[..., 0] > 180) & (img[..., 1] < 80) & (img[..., 2] < 80)
    green = (img[..., 1] > 150) & (img[..., 0] < 80) & (img[..., 2] < 100)
    assert red.sum() > 50 and green.sum() > 50


def test_auto_falls_back_or_uses_open3d(tmp_path):
    pts, gt, pred = _frame()
    drawer = SOT3DDrawer('auto')
    used = drawer.draw_frame(pts, dict(gt=gt, pred=pred), str(tmp_path / 'f.png'))
    assert used == ('open3d' if open3d_offscreen_available() else 'matplotlib')
    assert (tmp_path / 'f.png').stat().st_size > 1000
    with pytest.raises(ValueError, match='backend must be'):
        SOT3DDrawer('vtk')
