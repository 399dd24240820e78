"""TAP-Vid readers (DAVIS dict, RGB-Stacking list, Kinetics JPEG shards),
the test pipeline (256x256-style resize, points scaled by (W, H), tapnet's
queries), the training clip sampler and the synthetic generator's exact
tracks."""
import os
import pickle

import cv2
import numpy as np
import pytest

from mmdropmae.datasets.synthetic.tap import make_synthetic_tapvid, render_tap_clip
from mmdropmae.datasets.tap import (TAPVidDataset, TAPVidFormatError, load_tapvid_pickle,
                                    sample_queries_first, sample_queries_strided)
from mmdropmae.datasets.transforms import (LoadTAPVidVideo, PackTAPInputs, TAPClipRandomFlip,
                                           TAPClipSample, TAPVidSampleQueries)
from mmdropmae.utils import register_all_modules

register_all_modules()


def _bilinear(frame, xy):
    """Colour at raster (x, y) (OpenCV pixel centres at raster - 0.5)."""
    m = cv2.remap(frame.astype(np.float32), np.float32([[xy[0] - 0.5]]),
                  np.float32([[xy[1] - 0.5]]), cv2.INTER_LINEAR)
    return m[0, 0]


def test_synthetic_tracks_are_exact():
    clip = render_tap_clip(64, 64, 16, seed=3, num_points=80, camera_speed=0.03)
    video, tr, occ = clip['video'], clip['tracks_px'], clip['occluded']
    np.testing.assert_allclose(clip['points'], tr / 64, rtol=1e-6)
    # outside the frame -> occluded
    out = (tr[..., 0] < 0) | (tr[..., 0] >= 64) | (tr[..., 1] < 0) | (tr[..., 1] >= 64)
    assert (occ[out]).all()
    assert out.any(), 'some points should leave the frame'
    assert (occ & ~out).any(), 'some points should be hidden by a sprite in front'
    # a visible point keeps its colour (away from texture edges: median);
    # the same comparison 1.5 px off is much worse
    same, shifted = [], []
    for n in range(tr.shape[0]):
        vis = np.nonzero(~occ[n])[0]
        for t in vis[1:]:
            t0 = vis[0]
            c0 = _bilinear(video[t0], tr[n, t0])
            same.append(np.abs(_bilinear(video[t], tr[n, t]) - c0).mean())
            shifted.append(np.abs(_bilinear(video[t], tr[n, t] + 1.5) - c0).mean())
    assert np.median(same) < 4, np.median(same)
    assert np.median(shifted) > 2 * np.median(same), (np.median(same), np.median(shifted))
    # deterministic
    again = render_tap_clip(64, 64, 16, seed=3, num_points=80, camera_speed=0.03)
    np.testing.assert_array_equal(again['video'], video)


@pytest.fixture(scope='module')
def tap_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('tapvid')
    make_synthetic_tapvid(str(root / 'davis.pkl'), num_videos=3, layout='davis', num_frames=12,
                          size=(48, 40), num_points=20, seed=0)
    make_synthetic_tapvid(str(root / 'stacking.pkl'), num_videos=2, layout='rgb_stacking',
                          num_frames=10, size=(48, 40), num_points=20, seed=1)
    make_synthetic_tapvid(str(root / 'kinetics'), num_videos=3, layout='kinetics',
                          num_frames=10, size=(48, 40), num_points=20, num_shards=2, seed=2)
    return root


def _pipeline(mode, size=(32, 32)):
    return [dict(type='LoadTAPVidVideo', resolution=size),
            dict(type='TAPVidSampleQueries', query_mode=mode), dict(type='PackTAPInputs')]


@pytest.mark.parametrize('mode', ['first', 'strided'])
def test_davis_layout_through_the_test_pipeline(tap_root, mode):
    ds = TAPVidDataset(ann_file=str(tap_root / 'davis.pkl'), subset='davis', query_mode=mode,
                       pipeline=_pipeline(mode), serialize_data=False)
    assert len(ds) == 3 and ds.video_names[0] == 'synth_000'
    raw = pickle.load(open(tap_root / 'davis.pkl', 'rb'))['synth_001']
    item = ds[1]
    assert tuple(item['inputs'].shape) == (12, 3, 32, 32)
    s = item['data_samples']
    scaled = raw['points'].astype(np.float64) * np.array([32, 32])
    ref = (sample_queries_first if mode == 'first' else sample_queries_strided)(
        raw['occluded'], scaled)
    np.testing.assert_allclose(s.query_points.numpy(), ref['query_points'], rtol=1e-6)
    np.testing.assert_allclose(s.gt_tracks.numpy(), ref['target_points'], rtol=1e-6)
    np.testing.assert_array_equal(s.gt_occluded.numpy(), ref['occluded'])
    assert s.metainfo['query_mode'] == mode and s.metainfo['ori_shape'] == (40, 48)


def test_rgb_stacking_and_kinetics_layouts(tap_root):
    ds = TAPVidDataset(ann_file=str(tap_root / 'stacking.pkl'), subset='rgb_stacking',
                       pipeline=_pipeline('strided'), serialize_data=False)
    assert len(ds) == 2 and ds[0]['inputs'].shape[0] == 10
    kin = TAPVidDataset(ann_file=str(tap_root / 'kinetics'), subset='kinetics',
                        pipeline=_pipeline('first', size=(40, 48)), serialize_data=False)
    assert len(kin) == 3
    assert sorted(os.listdir(tap_root / 'kinetics')) == ['0000_of_0010.pkl', '0001_of_0010.pkl']
    item = kin[0]
    # JPEG frames decode to the stored clip, up to compression
    shard = load_tapvid_pickle(str(tap_root / 'kinetics' / '0000_of_0010.pkl'))
    assert isinstance(shard[0]['video'][0], bytes)
    clip = render_tap_clip(48, 40, 10, seed=[2, 0], num_points=20)
    diff = np.abs(item['inputs'].permute(0, 2, 3, 1).numpy().astype(float) - clip['video'])
    assert diff.mean() < 6, diff.mean()
    with pytest.raises(TAPVidFormatError, match='DAVIS is a dict'):
        TAPVidDataset(ann_file=str(tap_root / 'stacking.pkl'), subset='davis')


def test_bad_files_name_the_file_and_the_problem(tmp_path):
    bad = tmp_path / 'bad.pkl'
    with open(bad, 'wb') as f:
        pickle.dump({'v': dict(video=np.zeros((3, 8, 8, 3), np.uint8),
                               points=np.zeros((2, 3, 2)))}, f)
    with pytest.raises(TAPVidFormatError, match=r"bad\.pkl.*missing keys \['occluded'\]"):
        TAPVidDataset(ann_file=str(bad))
    with open(bad, 'wb') as f:
        pickle.dump({'v': dict(video=np.zeros((4, 8, 8, 3), np.uint8),
                               points=np.zeros((2, 3, 2)), occluded=np.zeros((2, 3), bool))}, f)
    with pytest.raises(TAPVidFormatError, match='4 frames but the tracks 3'):
        TAPVidDataset(ann_file=str(bad))

    class Evil:
        def __reduce__(self):
            return (os.system, ('echo pwned',))
    with open(bad, 'wb') as f:
        pickle.dump({'v': Evil()}, f)
    with pytest.raises(TAPVidFormatError, match='refusing to load'):
        load_tapvid_pickle(str(bad))
    with pytest.raises(FileNotFoundError, match='no TAP-Vid shards'):
        TAPVidDataset(ann_file=str(tmp_path), subset='kinetics')


def test_training_clip_sampler_and_flips(tap_root):
    np.random.seed(0)
    ds = TAPVidDataset(ann_file=str(tap_root / 'davis.pkl'), serialize_data=False, pipeline=[
        dict(type='LoadTAPVidVideo', resolution=(32, 32)),
        dict(type='TAPClipSample', clip_len=6, num_points=30, first_frame_prob=0.0)])
    r = ds[0]
    assert r['frames'].shape == (6, 32, 32, 3) and r['gt_tracks'].shape == (30, 6, 2)
    t = r['query_points'][:, 0].astype(int)
    rows = np.arange(30)
    # every query is a visible ground-truth point of its track
    assert not r['gt_occluded'][rows, t].any()
    np.testing.assert_allclose(r['query_points'][:, [2, 1]], r['gt_tracks'][rows, t])
    flip = TAPClipRandomFlip(prob=1.0, temporal_prob=1.0)
    f = flip({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in r.items()})
    tf = f['query_points'][:, 0].astype(int)
    np.testing.assert_array_equal(tf, 5 - t)
    np.testing.assert_allclose(f['query_points'][:, [2, 1]], f['gt_tracks'][rows, tf])
    np.testing.assert_allclose(f['gt_tracks'][:, ::-1, 0], 32 - r['gt_tracks'][..., 0])
    np.testing.assert_array_equal(f['frames'][0], r['frames'][-1][:, ::-1])
    packed = PackTAPInputs()(f)
    assert tuple(packed['inputs'].shape) == (6, 3, 32, 32)
    assert packed['data_samples'].gt_occluded.dtype.is_floating_point is False
    with pytest.raises(ValueError, match='fewer than clip_len'):
        TAPClipSample(clip_len=50)(dict(r, frames=r['frames']))
    assert 'resolution=(32, 32)' in repr(LoadTAPVidVideo((32, 32)))
    assert 'query_mode=first' in repr(TAPVidSampleQueries('first'))
