import os.path as osp
import subprocess
import sys

import av
import numpy as np
import pytest

from mmdropmae.datasets import VideoReadError, build_video_reader
from mmdropmae.datasets.synthetic import (SyntheticVideoRenderer, make_synthetic_kinetics,
                                          write_corrupt_video, write_synthetic_video)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def probe(path):
    """Frame count, size, keyframe display indices, picture types, fps."""
    with av.open(path) as c:
        s = c.streams.video[0]
        header_frames = s.frames
        packets = [p for p in c.demux(s) if p.size]
        fps = float(s.average_rate)
    order = np.argsort([p.pts for p in packets])
    keys = [int(i) for i, k in enumerate(order) if packets[k].is_keyframe]
    with av.open(path) as c:
        frames = list(c.decode(video=0))
    types = {int(f.pict_type) for f in frames}  # AVPictureType: 1 I, 2 P, 3 B
    return dict(header_frames=header_frames, packets=len(packets), decoded=len(frames),
                size=(frames[0].width, frames[0].height), keys=keys, types=types, fps=fps)


def test_renderer_deterministic_and_moving():
    a = SyntheticVideoRenderer(96, 64, 12, seed=3)
    b = SyntheticVideoRenderer(96, 64, 12, seed=3)
    c = SyntheticVideoRenderer(96, 64, 12, seed=4)
    fa, fb, fc = list(a), list(b), list(c)
    assert len(fa) == 12
    assert all(x.shape == (64, 96, 3) and x.dtype == np.uint8 for x in fa)
    assert all(np.array_equal(x, y) for x, y in zip(fa, fb))
    assert not np.array_equal(fa[0], fc[0])
    # textured (not flat) and moving: consecutive frames differ clearly
    assert fa[0].std() > 10
    diffs = [np.abs(fa[t + 1].astype(int) - fa[t]).mean() for t in range(11)]
    assert min(diffs) > 1.0
    with pytest.raises(IndexError):
        a.render(12)


def test_renderer_objects_move_and_scale():
    r = SyntheticVideoRenderer(160, 120, 60, seed=1, num_objects=4)
    states = np.array([[r.object_state(o, t)[:3] for o in r._objects] for t in (0, 59)])
    # every object moved, some changed size
    assert (np.hypot(*(states[1, :, :2] - states[0, :, :2]).T) > 1).all()
    assert (states[1, :, 2] != states[0, :, 2]).any()
    cams = np.array([r.camera(t) for t in (0, 30, 59)])
    assert np.ptp(cams[:, :2], axis=0).max() > 1  # camera pans


def test_written_video_frame_count_size_keyframes(tmp_path):
    path = str(tmp_path / 'v.mp4')
    n = write_synthetic_video(path, num_frames=40, size=(96, 64), fps=25, gop=8, seed=0)
    assert n == 40
    info = probe(path)
    assert info['decoded'] == info['packets'] == info['header_frames'] == 40
    assert info['size'] == (96, 64)
    assert info['keys'] == [0, 8, 16, 24, 32]
    assert info['fps'] == pytest.approx(25)
    assert info['types'] == {1, 2, 3}  # realistic: x264 keeps P- and B-frames
    with av.open(path) as c:
        assert c.streams.video[0].codec_context.name == 'h264'
        assert c.streams.video[0].codec_context.pix_fmt == 'yuv420p'


def test_written_video_content_matches_render(tmp_path):
    path = str(tmp_path / 'v.mp4')
    write_synthetic_video(path, num_frames=10, size=(128, 96), gop=5, seed=7, crf=0,
                          preset='ultrafast')
    rendered = list(SyntheticVideoRenderer(128, 96, 10, seed=7))
    with av.open(path) as c:
        decoded = [f.to_ndarray(format='rgb24') for f in c.decode(video=0)]
    for x, y in zip(rendered, decoded):  # only the yuv420p round trip differs
        psnr = 10 * np.log10(255**2 / np.mean((x.astype(float) - y)**2))
        assert psnr > 28


def test_default_gop_is_x264s(tmp_path):
    path = str(tmp_path / 'v.mp4')
    write_synthetic_video(path, num_frames=30, size=(96, 64), seed=0)
    info = probe(path)
    assert info['keys'][0] == 0 and info['decoded'] == 30


def test_make_synthetic_kinetics_layout_and_determinism(tmp_path):
    infos = make_synthetic_kinetics(str(tmp_path / 'a'), num_classes=2, videos_per_class=2,
                                    num_frames=(10, 14), size=(64, 48), gop=4, seed=5,
                                    ann_file=str(tmp_path / 'a' / 'list.txt'))
    again = make_synthetic_kinetics(str(tmp_path / 'b'), num_classes=2, videos_per_class=2,
                                    num_frames=(10, 14), size=(64, 48), gop=4, seed=5)
    assert [i['filename'] for i in infos] == [i['filename'] for i in again]
    classes = sorted({i['filename'].split(osp.sep)[0] for i in infos})
    assert len(classes) == 2
    for info in infos:
        cls, name = info['filename'].split(osp.sep)
        assert name.endswith('.mp4') and info['label'] == classes.index(cls)
        assert 10 <= info['num_frames'] <= 14
        with build_video_reader(str(tmp_path / 'a' / info['filename'])) as ra, \
                build_video_reader(str(tmp_path / 'b' / info['filename'])) as rb:
            assert ra.num_frames == rb.num_frames == info['num_frames']
            inds = list(range(ra.num_frames))
            # same content; libx264 is not always bit-reproducible, so allow
            # encoder-level differences
            for x, y in zip(ra.get_frames(inds), rb.get_frames(inds)):
                mse = np.mean((x.astype(float) - y)**2)
                assert mse == 0 or 10 * np.log10(255**2 / mse) > 30
    lines = open(tmp_path / 'a' / 'list.txt').read().splitlines()
    assert lines == [f"{i['filename']}\t{i['label']}" for i in infos]


@pytest.mark.parametrize('mode', ['truncated', 'garbage', 'empty', 'header_only', 'no_frames'])
def test_corrupt_videos_fail_clearly(tmp_path, mode):
    path = write_corrupt_video(str(tmp_path / f'bad_{mode}.mp4'), mode)
    assert osp.isfile(path)
    with pytest.raises(VideoReadError) as exc:
        build_video_reader(path, 'pyav')
    assert path in str(exc.value)
    if mode == 'no_frames':
        assert 'zero frames' in str(exc.value)


@pytest.mark.slow
def test_cli(tmp_path):
    out = tmp_path / 'cli'
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'dataset_converters', 'make_synthetic_videos.py'),
         str(out), '--num-classes', '2', '--videos-per-class', '1', '--num-frames', '6',
         '--size', '64x48', '--gop', '3', '--ann-file', str(out / 'list.txt'), '--corrupt', '1'],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    videos = sorted(p for p in out.rglob('*.mp4'))
    assert len(videos) == 3  # 2 clips + 1 broken file
    assert len(open(out / 'list.txt').read().splitlines()) == 2
    assert '2 videos (12 frames)' in proc.stdout
