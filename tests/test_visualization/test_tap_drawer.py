"""The track drawer: one colour per point, filled when visible, hollow when
predicted occluded; the video is written atomically and reads back."""
import cv2
import numpy as np
import pytest

from mmdropmae.visualization import draw_tap_frame, track_colors, write_tap_video


def test_filled_visible_hollow_occluded():
    frame = np.zeros((40, 60, 3), np.uint8)
    pts = np.array([[15.5, 20.5], [45.5, 20.5]])  # raster centres of pixels (15, 20), (45, 20)
    out = draw_tap_frame(frame, pts, np.array([False, True]), radius=6)
    colors = track_colors(2)
    assert frame.max() == 0  # input untouched
    np.testing.assert_array_equal(out[20, 15], colors[0])  # filled disc: centre coloured
    assert out[20, 45].max() == 0  # ring: centre empty
    ring = out[14:27, 39:52].reshape(-1, 3)
    assert (np.abs(ring.astype(int) - colors[1]).sum(1) < 30).sum() > 10  # the ring is drawn
    # a different colour per point
    assert tuple(colors[0]) != tuple(colors[1])
    with pytest.raises(ValueError, match='occlusion flags'):
        draw_tap_frame(frame, pts, np.array([False]))


def test_write_video_reads_back(tmp_path):
    t = 6
    frames = [np.full((32, 48, 3), 40 * i % 255, np.uint8) for i in range(t)]
    tracks = np.stack([np.stack([np.arange(t) * 3 + 5.0, np.full(t, 10.0)], -1),
                       np.stack([np.full(t, 30.0), np.arange(t) * 2 + 8.0], -1)])
    occ = np.zeros((2, t), bool)
    occ[1, 3:] = True
    path = tmp_path / 'v' / 'tracks.mp4'
    assert write_tap_video(str(path), frames, tracks, occ, fps=5) == t
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == t
    assert [p.name for p in path.parent.iterdir()] == ['tracks.mp4']  # no temp file left
    with pytest.raises(ValueError, match='more frames'):
        write_tap_video(str(tmp_path / 'x.mp4'), frames + frames, tracks, occ)
    assert not (tmp_path / 'x.mp4').exists()
