import math

import av
import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmdropmae.datasets import (VIDEO_READERS, VideoReadError, available_backends,
                                build_video_reader)
from mmdropmae.datasets.synthetic import write_corrupt_video, write_synthetic_video
from mmdropmae.datasets.transforms import (LoadFramePairFromVideo, PackPairInputs, RandomFlip,
                                           RandomResizedCrop, random_resized_crop_params,
                                           sample_frame_pair)
from mmdropmae.registry import TRANSFORMS
from mmdropmae.utils import register_all_modules

register_all_modules()


def decode_all(path):
    """Independent reference: sequential decode of every frame with PyAV."""
    with av.open(path) as c:
        return [f.to_ndarray(format='rgb24') for f in c.decode(video=0)]


@pytest.fixture(scope='module')
def gop_video(tmp_path_factory):
    """48 frames, 96x64, keyframe every 10 frames, B-frames (pyramid)."""
    path = str(tmp_path_factory.mktemp('gop') / 'v.mp4')
    write_synthetic_video(path, num_frames=48, size=(96, 64), gop=10, seed=11)
    return path, decode_all(path)


# --------------------------------------------------------------------------- sampling


def joint_pmf(n, gap):
    """P(start=s, end=e) of the reference sampling (jimmy-dq/DropMAE
    dataset_video/KineticsDataset.py)."""
    p = {}
    for s in range(n - 1):
        hi = min(n, s + gap) - 1
        for e in range(s + 1, hi + 1):
            p[(s, e)] = 1 / (n - 1) / (hi - s)
    return p


@pytest.mark.parametrize('n,gap', [(2, 50), (3, 2), (7, 3), (12, 5), (60, 50), (120, 50)])
def test_sample_frame_pair_support_and_bounds(n, gap):
    rng = np.random.RandomState(0)
    draws = [sample_frame_pair(n, gap, rng) for _ in range(4000)]
    starts = np.array([d[0] for d in draws])
    ends = np.array([d[1] for d in draws])
    assert starts.min() >= 0 and starts.max() <= n - 2
    assert (ends - starts >= 1).all() and (ends - starts <= gap - 1).all()
    assert ends.max() <= n - 1
    support = set(joint_pmf(n, gap))
    assert set(draws) <= support
    if len(support) <= 60:  # small cases: every allowed pair occurs
        assert set(draws) == support


def test_sample_frame_pair_small_videos():
    assert all(sample_frame_pair(1, 50) == (0, 0) for _ in range(20))
    assert all(sample_frame_pair(2, 50) == (0, 1) for _ in range(20))
    assert all(sample_frame_pair(5, 2) in {(0, 1), (1, 2), (2, 3), (3, 4)} for _ in range(20))
    with pytest.raises(ValueError):
        sample_frame_pair(0)
    with pytest.raises(ValueError):
        sample_frame_pair(10, frame_gap=1)


@pytest.mark.parametrize('n,gap', [(10, 4), (30, 50), (70, 50)])
def test_sample_frame_pair_distribution(n, gap):
    """Chi-square test of the joint (start, end) distribution, fixed seed."""
    pmf = joint_pmf(n, gap)
    num = 60 * len(pmf)
    rng = np.random.default_rng(123)
    counts = {}
    for _ in range(num):
        d = sample_frame_pair(n, gap, rng)
        counts[d] = counts.get(d, 0) + 1
    chi2 = sum((counts.get(k, 0) - num * p)**2 / (num * p) for k, p in pmf.items())
    dof = len(pmf) - 1
    # mean dof, sd sqrt(2 dof): 5 sd is far beyond any plausible fluctuation
    assert chi2 < dof + 5 * math.sqrt(2 * dof), (chi2, dof)
    # the start marginal is uniform on [0, n-2]
    starts = np.zeros(n - 1)
    for (s, _), c in counts.items():
        starts[s] += c
    exp = num / (n - 1)
    assert ((starts - exp)**2 / exp).sum() < (n - 2) + 5 * math.sqrt(2 * (n - 2))


def test_sample_frame_pair_uses_global_numpy_state():
    np.random.seed(42)
    a = [sample_frame_pair(100) for _ in range(10)]
    np.random.seed(42)
    b = [sample_frame_pair(100) for _ in range(10)]
    assert a == b


# --------------------------------------------------------------------------- readers


@pytest.mark.parametrize('backend', available_backends())
def test_readers_are_decoder_exact(gop_video, backend):
    path, ref = gop_video
    rng = np.random.RandomState(1)
    with build_video_reader(path, backend) as reader:
        assert reader.num_frames == len(ref) == 48
        assert reader.frame_shape == (64, 96)
        assert reader.backend == backend
        index_sets = [[0], [47], [9, 10], [10, 9], [5, 5], [3, 45, 12, 30], list(range(48))]
        index_sets += [list(rng.randint(0, 48, rng.randint(1, 4))) for _ in range(15)]
        for inds in index_sets:
            frames = reader.get_frames(inds)
            assert len(frames) == len(inds)
            for i, f in zip(inds, frames):
                assert f.dtype == np.uint8 and f.shape == (64, 96, 3)
                assert np.array_equal(f, ref[i]), (backend, inds, i)
        with pytest.raises(IndexError):
            reader.get_frames([48])


@pytest.mark.parametrize('kwargs', [dict(skip_nonref=False), dict(num_threads=2)])
def test_pyav_reader_options_are_exact(gop_video, kwargs):
    path, ref = gop_video
    with build_video_reader(path, 'pyav', **kwargs) as reader:
        inds = [0, 11, 19, 20, 33, 47, 46]
        assert all(np.array_equal(f, ref[i]) for i, f in zip(inds, reader.get_frames(inds)))


def test_pyav_reader_decodes_only_what_is_needed(gop_video):
    """Frames of the same GOP share one pass; non-reference frames are skipped."""
    path, _ = gop_video
    reader = build_video_reader(path, 'pyav')
    calls = []
    orig = reader._decode_pass
    reader._decode_pass = lambda a, b, w, f: (calls.append((a, b, dict(w))), orig(a, b, w, f))
    reader.get_frames([12, 17])  # same GOP [10, 20)
    assert len(calls) == 1 and calls[0][0] == reader._start_packet(
        int(reader._frame_packet[12]))
    calls.clear()
    reader.get_frames([3, 25])  # two GOPs: two passes, the second from keyframe 20
    assert len(calls) == 2
    assert reader._packets[calls[1][0]].is_keyframe
    assert reader._packets[calls[1][0]].pts == reader._frame_pts[20]
    reader.close()


def test_reader_errors_name_the_file(tmp_path):
    missing = str(tmp_path / 'missing.mp4')
    for backend in available_backends():
        with pytest.raises(VideoReadError, match='missing.mp4'):
            build_video_reader(missing, backend)
    bad = write_corrupt_video(str(tmp_path / 'garbage.mp4'), 'garbage')
    with pytest.raises(VideoReadError) as exc:
        build_video_reader(bad, 'pyav')
    assert exc.value.filename == bad and 'cannot open' in str(exc.value)
    with pytest.raises(ValueError, match='unknown video backend'):
        build_video_reader(bad, 'nope')
    err = VideoReadError('a.mp4', 'decoding failed', 7)
    assert str(err) == 'cannot read video "a.mp4" at frame index 7: decoding failed'
    assert set(VIDEO_READERS) >= {'pyav', 'decord', 'torchcodec', 'opencv'}


# --------------------------------------------------------------------------- loading


def test_load_frame_pair_matches_independent_decode(gop_video):
    path, ref = gop_video
    load = TRANSFORMS.build(dict(type='LoadFramePairFromVideo', frame_gap=6))
    np.random.seed(0)
    seen = set()
    for _ in range(25):
        out = load(dict(filename=path))
        s, e = out['frame_inds']
        assert out['frame_inds'].dtype == np.int64
        assert 0 <= s <= 46 and 1 <= e - s <= 5
        assert out['num_frames'] == 48 and out['ori_shape'] == (64, 96)
        x, z = out['imgs']
        assert np.array_equal(x, ref[s]) and np.array_equal(z, ref[e])
        seen.add((s, e))
    assert len(seen) > 10
    assert 'frame_gap=6' in repr(load)


@pytest.mark.parametrize('backend', [b for b in available_backends() if b != 'pyav'])
def test_load_frame_pair_backends_agree(gop_video, backend):
    path, _ = gop_video
    a = LoadFramePairFromVideo(backend='pyav')
    b = LoadFramePairFromVideo(backend=backend)
    for seed in range(5):
        np.random.seed(seed)
        ra = a(dict(filename=path))
        np.random.seed(seed)
        rb = b(dict(filename=path))
        assert np.array_equal(ra['frame_inds'], rb['frame_inds'])
        assert all(np.array_equal(x, y) for x, y in zip(ra['imgs'], rb['imgs']))


def test_load_one_and_two_frame_videos(tmp_path):
    one = str(tmp_path / 'one.mp4')
    two = str(tmp_path / 'two.mp4')
    write_synthetic_video(one, num_frames=1, size=(64, 48), seed=0)
    write_synthetic_video(two, num_frames=2, size=(64, 48), seed=1)
    load = LoadFramePairFromVideo()
    out = load(dict(filename=one))
    assert out['frame_inds'].tolist() == [0, 0] and out['num_frames'] == 1
    assert np.array_equal(out['imgs'][0], out['imgs'][1])
    assert out['imgs'][0] is not out['imgs'][1]  # independent buffers
    ref = decode_all(two)
    for _ in range(5):
        out = load(dict(filename=two))
        assert out['frame_inds'].tolist() == [0, 1]
        assert np.array_equal(out['imgs'][0], ref[0]) and np.array_equal(out['imgs'][1], ref[1])


@pytest.mark.parametrize('mode', ['truncated', 'garbage', 'empty', 'no_frames'])
def test_load_broken_video_warns_and_returns_none(tmp_path, warnings_log, mode):
    bad = write_corrupt_video(str(tmp_path / f'broken_{mode}.mp4'), mode)
    assert LoadFramePairFromVideo()(dict(filename=bad)) is None
    assert len(warnings_log) == 1 and bad in warnings_log[0]
    with pytest.raises(VideoReadError):
        LoadFramePairFromVideo(skip_broken=False)(dict(filename=bad))


def test_load_missing_backend_is_clear():
    with pytest.raises(ValueError, match='unknown video backend'):
        LoadFramePairFromVideo(backend='nope')
    if not VIDEO_READERS['torchcodec'].is_available():
        with pytest.raises(ImportError, match='torchcodec'):
            LoadFramePairFromVideo(backend='torchcodec')


# --------------------------------------------------------------------------- crop / flip


def test_random_resized_crop_params_ranges():
    rng = np.random.RandomState(0)
    areas, ratios = [], []
    for _ in range(3000):
        top, left, h, w = random_resized_crop_params(480, 640, rng=rng)
        assert 0 <= top and top + h <= 480 and 0 <= left and left + w <= 640
        areas.append(h * w / (480 * 640))
        ratios.append(w / h)
    areas, ratios = np.array(areas), np.array(ratios)
    # rounding of w and h moves the area/ratio only slightly
    assert areas.min() >= 0.2 * 0.99 and areas.max() <= 1.0
    assert ratios.min() >= 0.75 * 0.99 and ratios.max() <= 4 / 3 * 1.01
    # large tall crops do not fit a 4:3 frame and are redrawn, but the whole range is used
    assert areas.min() < 0.21 and areas.max() > 0.95
    assert ratios.min() < 0.76 and ratios.max() > 1.32
    # where every draw fits, area and log-ratio are uniform (torchvision's sampling)
    draws = np.array([random_resized_crop_params(1000, 1000, scale=(0.2, 0.4), rng=rng)
                      for _ in range(3000)])
    area = draws[:, 2] * draws[:, 3] / 1e6
    log_ratio = np.log(draws[:, 3] / draws[:, 2])
    assert area.mean() == pytest.approx(0.3, abs=0.005)
    assert area.std() == pytest.approx(0.2 / math.sqrt(12), abs=0.005)
    assert log_ratio.mean() == pytest.approx(0, abs=0.01)
    assert log_ratio.std() == pytest.approx(2 * math.log(4 / 3) / math.sqrt(12), abs=0.01)
    # the position is uniform over the valid offsets
    rel_top = draws[:, 0] / (1000 - draws[:, 2])
    assert rel_top.mean() == pytest.approx(0.5, abs=0.02)


def test_random_resized_crop_params_fallback():
    # no attempt can fit a 3/4..4/3 crop with >= 90% of a 10x1000 strip
    top, left, h, w = random_resized_crop_params(10, 1000, scale=(0.9, 1.0))
    assert (top, h) == (0, 10) and w == round(10 * 4 / 3) and left == (1000 - w) // 2
    top, left, h, w = random_resized_crop_params(1000, 10, scale=(0.9, 1.0))
    assert (left, w) == (0, 10) and h == round(10 / 0.75) and top == (1000 - h) // 2
    # square image, impossible scale: the whole image
    assert random_resized_crop_params(50, 50, scale=(2.0, 3.0)) == (0, 0, 50, 50)


def test_random_resized_crop_transform():
    img = np.random.RandomState(0).randint(0, 256, (120, 160, 3), np.uint8)
    crop = RandomResizedCrop(size=32, scale=(0.2, 1.0))
    np.random.seed(5)
    out = crop(dict(imgs=[img, img.copy()]))
    assert [x.shape for x in out['imgs']] == [(32, 32, 3)] * 2
    assert all(x.dtype == np.uint8 for x in out['imgs'])
    assert out['img_shape'] == (32, 32) and out['crop_bboxes'].shape == (2, 4)
    # content = bicubic resize of the sampled box (same RNG draws)
    np.random.seed(5)
    for k in range(2):
        top, left, h, w = random_resized_crop_params(120, 160)
        assert out['crop_bboxes'][k].tolist() == [left, top, left + w, top + h]
        exp = cv2.resize(img[top:top + h, left:left + w], (32, 32),
                         interpolation=cv2.INTER_CUBIC)
        assert np.array_equal(out['imgs'][k], exp)
    # rectangular output size is (h, w)
    out = RandomResizedCrop(size=(24, 40))(dict(imgs=[img]))
    assert out['imgs'][0].shape == (24, 40, 3)
    # identity: full crop at the same size
    same = RandomResizedCrop(size=(120, 160), scale=(1, 1), ratio=(4 / 3, 4 / 3))
    assert np.array_equal(same(dict(imgs=[img]))['imgs'][0], img)
    assert 'bicubic' in repr(crop)


def test_random_resized_crop_independent_per_frame():
    img = np.zeros((96, 128, 3), np.uint8)
    crop = RandomResizedCrop(size=16)
    np.random.seed(0)
    boxes = np.stack([crop(dict(imgs=[img, img]))['crop_bboxes'] for _ in range(500)])
    same = (boxes[:, 0] == boxes[:, 1]).all(1).mean()
    assert same < 0.01
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    corr = np.corrcoef(area(boxes[:, 0]), area(boxes[:, 1]))[0, 1]
    assert abs(corr) < 0.15


def test_random_flip():
    img = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2 * 3, 4, 3)
    out = RandomFlip(prob=1.0)(dict(imgs=[img, img]))
    assert out['flip'] == [True, True] and out['flip_direction'] == 'horizontal'
    assert all(np.array_equal(x, img[:, ::-1]) for x in out['imgs'])
    out = RandomFlip(prob=0.0)(dict(imgs=[img, img]))
    assert out['flip'] == [False, False] and out['imgs'][0] is img
    np.random.seed(0)
    flip = RandomFlip(prob=0.5)
    flags = np.array([flip(dict(imgs=[img, img]))['flip'] for _ in range(4000)])
    assert flags.mean(0) == pytest.approx([0.5, 0.5], abs=0.03)
    # independent per frame: P(both) = P(x) P(z)
    assert (flags[:, 0] & flags[:, 1]).mean() == pytest.approx(0.25, abs=0.025)
    with pytest.raises(ValueError):
        RandomFlip(prob=2)


# --------------------------------------------------------------------------- packing


def test_pack_pair_inputs():
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, (20, 24, 3), np.uint8)
    z = rng.randint(0, 256, (20, 24, 3), np.uint8)
    results = dict(imgs=[x, z[:, ::-1]], filename='v.mp4', frame_inds=np.array([3, 9]),
                   num_frames=40, ori_shape=(64, 96), img_shape=(20, 24), label=2, other=1)
    packed = PackPairInputs()(results)
    inputs, sample = packed['inputs'], packed['data_samples']
    assert isinstance(inputs, torch.Tensor) and inputs.dtype == torch.uint8
    assert inputs.shape == (2, 3, 20, 24) and inputs.is_contiguous()
    assert torch.equal(inputs[0].permute(1, 2, 0), torch.from_numpy(x))
    assert torch.equal(inputs[1].permute(1, 2, 0), torch.from_numpy(z[:, ::-1].copy()))
    assert isinstance(sample, BaseDataElement)
    assert sample.filename == 'v.mp4' and sample.num_frames == 40
    assert sample.frame_inds.tolist() == [3, 9] and sample.ori_shape == (64, 96)
    assert 'other' not in sample.metainfo_keys()
    with pytest.raises(ValueError, match='different shapes'):
        PackPairInputs()(dict(imgs=[x, x[:10]]))


def test_full_pipeline(gop_video):
    path, ref = gop_video
    from mmcv.transforms import Compose
    pipeline = Compose([
        dict(type='LoadFramePairFromVideo'),
        dict(type='RandomResizedCrop', size=32),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackPairInputs'),
    ])
    np.random.seed(1)
    out = pipeline(dict(filename=path))
    assert out['inputs'].shape == (2, 3, 32, 32) and out['inputs'].dtype == torch.uint8
    meta = out['data_samples']
    s, e = meta.frame_inds
    # redo the crop/flip of frame x by hand from the reference decode
    (x1, y1, x2, y2), flip = meta.crop_bboxes[0], meta.flip[0]
    exp = cv2.resize(ref[s][y1:y2, x1:x2], (32, 32), interpolation=cv2.INTER_CUBIC)
    if flip:
        exp = exp[:, ::-1]
    assert torch.equal(out['inputs'][0].permute(1, 2, 0), torch.from_numpy(exp.copy()))
    assert meta.ori_shape == (64, 96) and meta.num_frames == 48 and meta.filename == path


def test_pyav_reader_sequential_fallback_is_exact(gop_video):
    """Streams without usable timestamps are decoded from the start, counting frames."""
    path, ref = gop_video
    with build_video_reader(path, 'pyav') as reader:
        reader._sequential = True
        inds = [47, 0, 13, 13, 30]
        assert all(np.array_equal(f, ref[i]) for i, f in zip(inds, reader.get_frames(inds)))


def test_random_flip_directions_match_numpy():
    rng = np.random.RandomState(0)
    for img in (rng.randint(0, 256, (5, 7, 3), np.uint8), rng.randint(0, 256, (5, 7), np.uint8),
                rng.rand(5, 7, 3).astype(np.float32), rng.randint(0, 9, (5, 7, 6), np.int64)):
        for direction, axes in (('horizontal', 1), ('vertical', 0), ('diagonal', (0, 1))):
            out = RandomFlip(prob=1.0, direction=direction)(dict(imgs=[img]))['imgs'][0]
            assert out.dtype == img.dtype and np.array_equal(out, np.flip(img, axes))


def test_pack_pair_inputs_layouts():
    rng = np.random.RandomState(1)
    gray = [rng.randint(0, 256, (6, 5), np.uint8) for _ in range(2)]
    packed = PackPairInputs()(dict(imgs=gray))['inputs']
    assert packed.shape == (2, 1, 6, 5) and torch.equal(packed[:, 0], torch.from_numpy(
        np.stack(gray)))
    for imgs in ([rng.rand(6, 5, 3).astype(np.float32) for _ in range(2)],
                 [rng.randint(0, 256, (6, 5, 3), np.uint8)[::-1],
                  rng.randint(0, 256, (6, 5, 3), np.uint8)]):
        packed = PackPairInputs()(dict(imgs=imgs))['inputs']
        assert packed.is_contiguous() and packed.shape == (2, 3, 6, 5)
        assert torch.equal(packed, torch.from_numpy(np.stack(imgs).transpose(0, 3, 1, 2).copy()))
