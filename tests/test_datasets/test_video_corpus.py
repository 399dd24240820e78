"""Frame-exact random access on awkward real-world files: for every file of
the corpus (``mmdropmae.datasets.synthetic.video_corpus``) and every index,
``PyAVReader`` returns the frame that a plain sequential decode returns at
that position, or raises a ``VideoReadError`` naming the file."""
import shutil

import numpy as np
import pytest

from mmdropmae.datasets import PyAVReader, VideoReadError, build_video_reader
from mmdropmae.datasets.video_reader import _nal_length_size, _nal_types

av = pytest.importorskip('av')

CORRUPT_FRAME = 31  # the P-frame whose slice data the corpus damages
GOP = 24


def sequential_decode(path):
    """Every frame of a plain sequential decode (PyAV's container.decode),
    written out here independently of the package's iter_exact_frames."""
    with av.open(path) as container:
        return [f.to_ndarray(format='rgb24') for f in container.decode(video=0)]


@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
    if shutil.which('ffmpeg') is None:
        pytest.skip('needs the ffmpeg program')
    from mmdropmae.datasets.synthetic.video_corpus import make_awkward_video_corpus
    return make_awkward_video_corpus(str(tmp_path_factory.mktemp('awkward_videos')))


EXACT = ['bframes_pts_eq_dts.mp4', 'open_gop.mp4', 'vfr.mp4', 'edit_list.mp4', 'rotated.mp4',
         'odd_size_444.mp4', '10bit.mp4', 'hevc.mp4', 'hevc_pts_eq_dts.mp4', 'no_bframes.mp4',
         'annexb.ts', 'vp9.webm']


@pytest.mark.slow
@pytest.mark.parametrize('name', EXACT)
def test_every_frame_equals_the_sequential_decode(corpus, name):
    path = corpus[name]
    ref = sequential_decode(path)
    reader = build_video_reader(path, backend='pyav')
    assert len(reader) == len(ref)
    for i in range(len(ref)):  # one random access per frame
        np.testing.assert_array_equal(reader.get_frame(i), ref[i], err_msg=f'{name} frame {i}')
    # batches: unsorted, repeated, across GOPs
    rng = np.random.default_rng(0)
    for _ in range(4):
        idx = [int(i) for i in rng.integers(0, len(ref), 5)] + [0, len(ref) - 1]
        for i, frame in zip(idx, reader.get_frames(idx)):
            np.testing.assert_array_equal(frame, ref[i], err_msg=f'{name} batch frame {i}')


@pytest.mark.slow
@pytest.mark.parametrize('name', ['bframes_pts_eq_dts.mp4', 'hevc_pts_eq_dts.mp4'])
def test_pts_equal_to_dts_is_found_by_counting(corpus, name):
    """pts written in decode order cannot give the display order: the reader
    counts from the IDR picture instead (the old reader sorted the pts and
    returned decode-order frames for most indices)."""
    ref = sequential_decode(corpus[name])
    reader = PyAVReader(corpus[name], num_threads=2)
    assert not reader.by_timestamp
    # the decoder's output order is not the pts order (else the test is void)
    with av.open(corpus[name]) as container:
        out_pts = [f.pts for f in container.decode(video=0)]
    assert out_pts != sorted(out_pts)
    frames = reader.get_frames([len(ref) - 1, 3, 1, 40])
    for i, frame in zip([len(ref) - 1, 3, 1, 40], frames):
        np.testing.assert_array_equal(frame, ref[i])
    # a stream with B-frames and proper pts keeps the fast path
    assert PyAVReader(corpus['open_gop.mp4']).by_timestamp
    assert PyAVReader(corpus['no_bframes.mp4']).by_timestamp


@pytest.mark.slow
def test_damaged_frames_raise_and_the_rest_is_exact(corpus):
    path = corpus['corrupt_nal.mp4']
    ref = sequential_decode(path)
    reader = build_video_reader(path, backend='pyav')
    assert len(reader) == len(ref)
    failed = []
    for i in range(len(ref)):
        try:
            frame = reader.get_frame(i)
        except VideoReadError as e:
            assert path in str(e) and 'damaged' in e.reason and e.index is not None
            failed.append(i)
            continue
        np.testing.assert_array_equal(frame, ref[i], err_msg=f'frame {i}')
    # the damaged frame and only frames of its GOP fail
    assert CORRUPT_FRAME in failed
    assert all(GOP <= i < 2 * GOP for i in failed), failed
    # a batch mixing good and damaged frames raises, naming a damaged one
    with pytest.raises(VideoReadError) as info:
        reader.get_frames([2, CORRUPT_FRAME])
    assert info.value.index in failed


@pytest.mark.slow
@pytest.mark.parametrize('name, reason', [('truncated.mp4', 'truncated'),
                                          ('truncated_noindex.mp4', 'cannot open')])
def test_truncated_files_are_refused(corpus, name, reason):
    with pytest.raises(VideoReadError) as info:
        build_video_reader(corpus[name], backend='pyav')
    assert corpus[name] in str(info.value) and reason in info.value.reason


def test_nal_unit_types():
    """Hand-made packets: an H.264 IDR (type 5) after an SEI (6), length-
    prefixed and with start codes, and an HEVC CRA (21) / IDR_N_LP (20)."""
    sei, idr = b'\x06\x05\x01', b'\x65\x88\x84'
    prefixed = b''.join(len(n).to_bytes(4, 'big') + n for n in (sei, idr))
    assert _nal_types(prefixed, 'h264', 4) == [6, 5]
    assert _nal_types(b'\x00\x00\x00\x01' + sei + b'\x00\x00\x01' + idr, 'h264', None) == [6, 5]
    cra, idr_n_lp = bytes([21 << 1, 1, 0xAF]), bytes([20 << 1, 1, 0xAF])
    two = b''.join(len(n).to_bytes(2, 'big') + n for n in (cra, idr_n_lp))
    assert _nal_types(two, 'hevc', 2) == [21, 20]
    # avcC: lengthSizeMinusOne in the low bits of byte 4; Annex B: no avcC
    assert _nal_length_size('h264', b'\x01\x64\x00\x1f\xff\xe1') == 4
    assert _nal_length_size('h264', b'\x01\x64\x00\x1f\xfd\xe1') == 2
    assert _nal_length_size('h264', b'\x00\x00\x00\x01\x67') is None


@pytest.mark.slow
def test_check_tool_reports_the_corpus(corpus, tmp_path):
    """tools/analysis_tools/check_video_reader.py on a folder of two corpus
    files: rows per file and backend, JSON written, --check passes for ours."""
    import json
    import os.path as osp

    from tests.utils import load_script
    tool = load_script('tools/analysis_tools/check_video_reader.py')
    videos = tmp_path / 'videos'
    videos.mkdir()
    for name in ('bframes_pts_eq_dts.mp4', 'corrupt_nal.mp4'):
        shutil.copy(corpus[name], videos / name)
    out = tmp_path / 'report.json'
    assert tool.main([str(videos), '--backends', 'pyav', '--max-frames', '40',
                      '--json', str(out), '--check']) == 0
    rows = {osp.basename(r['file']): r for r in json.loads(out.read_text())}
    assert rows['bframes_pts_eq_dts.mp4']['frames'] == 98
    assert rows['bframes_pts_eq_dts.mp4']['wrong'] == []
    damaged = rows['corrupt_nal.mp4']
    assert damaged['wrong'] == [] and damaged['errors']
    assert all(GOP <= i < 2 * GOP for i in damaged['errors'])
