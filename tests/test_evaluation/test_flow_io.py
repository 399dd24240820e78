"""Flow files: ``.flo`` round trips exactly, KITTI PNG to 1/64 px, both
agree with mmcv's readers, bad files fail naming the file."""
import os

import cv2
import mmcv
import numpy as np
import pytest

from mmdropmae.evaluation.functional.flow_io import (FlowFileError, read_flo, read_flow_file,
                                                     read_kitti_flow, write_flo,
                                                     write_flow_file, write_kitti_flow)


def _random_flow(h=5, w=7, scale=30.0, seed=0):
    return (np.random.default_rng(seed).normal(0, scale, (h, w, 2))).astype(np.float32)


def test_flo_round_trip_is_exact_and_matches_mmcv(tmp_path):
    flow = _random_flow()
    path = str(tmp_path / 'sub' / 'a.flo')
    write_flo(path, flow)
    raw = open(path, 'rb').read()
    assert raw[:4] == b'PIEH'  # the magic 202021.25 as float32
    assert np.frombuffer(raw[4:12], '<i4').tolist() == [7, 5]  # width, height
    assert len(raw) == 12 + 5 * 7 * 2 * 4
    back = read_flo(path)
    assert back.dtype == np.float32 and back.shape == (5, 7, 2)
    np.testing.assert_array_equal(back, flow)
    np.testing.assert_array_equal(mmcv.flowread(path), flow)  # same format as mmcv's
    mmcv.flowwrite(flow * 2, str(tmp_path / 'b.flo'))
    np.testing.assert_array_equal(read_flo(str(tmp_path / 'b.flo')), flow * 2)
    assert [f for f in os.listdir(tmp_path / 'sub') if f.startswith('.tmp')] == []


def test_flo_errors_name_the_file(tmp_path):
    with pytest.raises(FlowFileError, match='not found'):
        read_flo(str(tmp_path / 'none.flo'))
    bad = tmp_path / 'bad.flo'
    bad.write_bytes(np.array([1.0, 0, 0], '<f4').tobytes())
    with pytest.raises(FlowFileError, match='bad.flo: not a .flo file'):
        read_flo(str(bad))
    short = tmp_path / 'short.flo'
    write_flo(str(short), _random_flow())
    short.write_bytes(short.read_bytes()[:40])
    with pytest.raises(FlowFileError, match='short.flo: truncated'):
        read_flo(str(short))
    with pytest.raises(FlowFileError, match='shape'):
        write_flo(str(tmp_path / 'x.flo'), np.zeros((3, 4)))


def test_kitti_png_round_trip_within_a_64th(tmp_path):
    flow = _random_flow(6, 9, scale=60.0, seed=1)
    valid = (np.random.default_rng(2).random((6, 9)) < 0.6).astype(np.uint8)
    path = str(tmp_path / 'k' / '000000_10.png')
    write_kitti_flow(path, flow, valid)
    raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16 and raw.shape == (6, 9, 3)
    # channel order R = u, G = v, B = valid (OpenCV reads BGR)
    np.testing.assert_array_equal(raw[..., 0], valid)
    np.testing.assert_array_equal(raw[..., 2], np.floor(flow[..., 0] * 64 + 2**15))
    back, v = read_kitti_flow(path)
    assert np.abs(back - flow).max() < 1 / 64
    assert (back <= flow + 1e-6).all()  # truncated, as the devkit / RAFT
    np.testing.assert_array_equal(v, valid)
    # mmcv's KITTI decoder reads the same values
    with open(path, 'rb') as f:
        mflow, mvalid = mmcv.sparse_flow_from_bytes(f.read())
    np.testing.assert_allclose(mflow, back)
    np.testing.assert_array_equal(mvalid, valid)
    # on the 1/64 grid the round trip is exact
    grid = np.round(flow * 64) / 64
    write_kitti_flow(path, grid)
    np.testing.assert_array_equal(read_kitti_flow(path)[0], grid)
    assert read_kitti_flow(path)[1].min() == 1  # a prediction: all valid


def test_dispatch_by_ending_and_bad_pngs(tmp_path):
    flow = _random_flow()
    write_flow_file(str(tmp_path / 'a.flo'), flow)
    write_flow_file(str(tmp_path / 'a.png'), flow)
    f1, v1 = read_flow_file(str(tmp_path / 'a.flo'))
    f2, v2 = read_flow_file(str(tmp_path / 'a.png'))
    assert v1 is None and v2.shape == (5, 7)
    assert np.abs(f1 - f2).max() < 1 / 64
    with pytest.raises(FlowFileError, match='ending'):
        read_flow_file(str(tmp_path / 'a.npy'))
    cv2.imwrite(str(tmp_path / 'rgb.png'), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(FlowFileError, match='rgb.png: a KITTI flow PNG is 3-channel 16-bit'):
        read_kitti_flow(str(tmp_path / 'rgb.png'))
    (tmp_path / 'junk.png').write_bytes(b'not a png')
    with pytest.raises(FlowFileError, match='junk.png: cannot decode'):
        read_kitti_flow(str(tmp_path / 'junk.png'))
