"""The prepared form (JPEG frame folders): frames against the exact decode,
the reader's indexing and errors, the data set, the loading step, the same
sampling as the video path, and the config."""
import os
import os.path as osp
import shutil
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmdropmae.datasets import (FrameFolderReader, LoadFramePairFromFrames,
                                RawframePairDataset, VideoPairDataset, VideoReadError,
                                build_video_reader)
from mmdropmae.datasets.prepared_video import iter_exact_frames, psnr
from mmdropmae.registry import DATASETS
from mmdropmae.utils import register_all_modules

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'dataset_converters'))
from prepare_kinetics import prepare_kinetics  # noqa: E402

#: Lower bound of the per-frame PSNR of JPEG quality 95 frames against the
#: exact frames on the synthetic clips (docs/video_preparation.md).
PSNR_MIN_DB = 39.0

PIPELINE = [
    dict(type='RandomResizedCrop', size=32, scale=(0.2, 1.0), interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackPairInputs'),
]


@pytest.fixture(scope='module')
def prepared(synthetic_video_root, tmp_path_factory):
    """The session's synthetic videos in the prepared form: (src, dst, summary)."""
    dst = tmp_path_factory.mktemp('prepared') / 'rawframes'
    summary = prepare_kinetics(str(synthetic_video_root), str(dst), workers=1,
                               progress=False, log=lambda line: None)
    return synthetic_video_root, dst, summary


def _write_flat_frames(folder, values, tmpl='img_{:05d}.jpg', start=1, size=(24, 32)):
    os.makedirs(folder, exist_ok=True)
    for k, v in enumerate(values):
        img = np.full(size + (3, ), v, np.uint8)
        img[..., 2] = 255 - v  # not gray: the channel order is checked too
        cv2.imwrite(osp.join(folder, tmpl.format(k + start)), img[..., ::-1])


# --------------------------------------------------------------------------- frames


def test_sequential_decode_is_the_exact_readers_frames(synthetic_video_root):
    video = sorted(synthetic_video_root.rglob('*.mp4'))[0]
    frames = list(iter_exact_frames(str(video)))
    with build_video_reader(str(video), 'pyav') as reader:
        assert reader.num_frames == len(frames) == 24
        exact = reader.get_frames(list(range(24)))
    assert all(np.array_equal(a, b) for a, b in zip(frames, exact))


def test_prepared_frames_match_the_exact_decode(prepared):
    src, dst, summary = prepared
    assert summary['num_prepared'] == 6 and summary['num_failed'] == 0
    worst = np.inf
    for rec in summary['records']:
        with build_video_reader(rec['src'], 'pyav') as reader:
            exact = reader.get_frames(list(range(reader.num_frames)))
        with FrameFolderReader(rec['out']) as frames:
            assert frames.num_frames == len(exact) == rec['num_frames']
            assert frames.frame_shape == exact[0].shape[:2] == (96, 128)
            assert frames.fps == pytest.approx(30.0)
            got = frames.get_frames(list(range(frames.num_frames)))
        for i, g in enumerate(got):
            p = psnr(g, exact[i])
            worst = min(worst, p)
            # frame i is the exact frame i, not a neighbour (no off-by-one)
            for j in (i - 1, i + 1):
                if 0 <= j < len(exact):
                    assert psnr(g, exact[j]) < p - 3, (rec['out'], i, j)
    assert worst >= PSNR_MIN_DB, f'worst frame PSNR {worst:.2f} dB < {PSNR_MIN_DB} dB'


def test_reader_indexing_on_a_hand_made_folder(tmp_path):
    folder = str(tmp_path / 'clip')
    _write_flat_frames(folder, [0, 60, 120, 180])
    reader = FrameFolderReader(folder)
    assert reader.num_frames == len(reader) == 4 and reader.frame_shape == (24, 32)
    assert np.isnan(reader.fps)  # no converter record
    frames = reader.get_frames([2, 0, 3, 2])
    for f, v in zip(frames, [120, 0, 180, 120]):  # RGB, 1-based files
        assert f.dtype == np.uint8 and f.shape == (24, 32, 3)
        assert np.abs(f[..., 0].astype(int) - v).max() <= 2
        assert np.abs(f[..., 2].astype(int) - (255 - v)).max() <= 2
    assert frames[3] is not frames[0]
    with pytest.raises(IndexError):
        reader.get_frame(4)
    # another template, numbered from 0, lossless PNG: exact values
    other = str(tmp_path / 'png')
    _write_flat_frames(other, [10, 20, 30], tmpl='frame{:d}.png', start=0)
    r = FrameFolderReader(other, filename_tmpl='frame{:d}.png', start_index=0)
    assert r.num_frames == 3 and int(r.get_frame(1)[0, 0, 0]) == 20
    # a known count skips the listing and is trusted
    assert FrameFolderReader(folder, num_frames=3).num_frames == 3


def test_reader_errors_name_the_folder_and_the_file(tmp_path):
    missing = str(tmp_path / 'missing')
    with pytest.raises(VideoReadError, match='missing.*does not exist'):
        FrameFolderReader(missing)
    empty = tmp_path / 'empty'
    empty.mkdir()
    (empty / 'notes.txt').write_text('x')
    with pytest.raises(VideoReadError, match='zero frames') as exc:
        FrameFolderReader(str(empty))
    assert exc.value.filename == str(empty)
    gap = str(tmp_path / 'gap')
    _write_flat_frames(gap, [0, 1, 2, 3])
    os.remove(osp.join(gap, 'img_00003.jpg'))
    with pytest.raises(VideoReadError, match=r'not numbered contiguously: 3 files numbered 1..4'):
        FrameFolderReader(gap)
    with pytest.raises(VideoReadError, match='img_00005.jpg" does not exist'):
        FrameFolderReader(gap, num_frames=5)
    with pytest.raises(VideoReadError, match='img_00003.jpg" does not exist') as exc:
        FrameFolderReader(gap, num_frames=4).get_frames([0, 2])
    assert exc.value.index == 2
    bad = str(tmp_path / 'bad')
    _write_flat_frames(bad, [0, 1])
    with open(osp.join(bad, 'img_00002.jpg'), 'wb') as f:
        f.write(b'not a jpeg at all')
    with pytest.raises(VideoReadError, match=r'img_00002.jpg" cannot be decoded') as exc:
        FrameFolderReader(bad).get_frames([1])
    assert exc.value.filename == bad and exc.value.index == 1
    with pytest.raises(ValueError, match='exactly one replacement field'):
        RawframePairDataset(ann_file='x.txt', filename_tmpl='img.jpg')


# --------------------------------------------------------------------------- loading


def test_load_transform_keys_and_broken_folders(tmp_path, warnings_log):
    folder = str(tmp_path / 'clip')
    _write_flat_frames(folder, list(range(0, 250, 10)))  # 25 frames, value 10 * index
    load = LoadFramePairFromFrames(frame_gap=4)
    np.random.seed(0)
    pairs = set()
    for _ in range(30):
        out = load(dict(filename=folder))
        s, e = out['frame_inds']
        assert out['frame_inds'].dtype == np.int64 and 1 <= e - s <= 3
        assert out['num_frames'] == 25 and out['ori_shape'] == out['img_shape'] == (24, 32)
        for idx, img in zip((s, e), out['imgs']):
            assert abs(int(img[0, 0, 0]) - 10 * idx) <= 2
        pairs.add((s, e))
    assert len(pairs) > 10
    # total_frames of the list is trusted (mmaction2's RawFrameDecode)
    np.random.seed(0)
    assert load(dict(filename=folder, total_frames=5))['frame_inds'].max() < 5
    assert 'frame_gap=4' in repr(load)
    os.remove(osp.join(folder, 'img_00013.jpg'))
    assert load(dict(filename=folder, total_frames=3)) is not None  # not listed
    assert load(dict(filename=folder)) is None
    assert any(folder in m and 'Skipping broken frame folder' in m and 'contiguously' in m
               for m in warnings_log)
    with pytest.raises(VideoReadError, match='contiguously'):
        LoadFramePairFromFrames(skip_broken=False)(dict(filename=folder))
    with pytest.raises(ValueError, match='frame_gap'):
        LoadFramePairFromFrames(frame_gap=1)


def test_same_samples_as_the_video_path(prepared):
    """Same seed, same frame count -> the same frame indices, crops and flips
    as VideoPairDataset + LoadFramePairFromVideo, for every video."""
    src, dst, _ = prepared
    ds_v = VideoPairDataset(data_root=str(src),
                            pipeline=[dict(type='LoadFramePairFromVideo', frame_gap=10)]
                            + PIPELINE)
    ds_p = RawframePairDataset(data_root=str(dst), ann_file='rawframes_list.txt',
                               pipeline=[dict(type='LoadFramePairFromFrames', frame_gap=10)]
                               + PIPELINE)
    assert len(ds_p) == len(ds_v) == 6
    for i in range(6):
        v, p = ds_v.get_data_info(i), ds_p.get_data_info(i)
        assert osp.relpath(p['filename'], str(dst)) == osp.splitext(
            osp.relpath(v['filename'], str(src)))[0]
        assert p['label'] == v['label'] and p['total_frames'] == 24
    stats = {'v': [], 'p': []}
    worst = np.inf
    for seed in range(20):
        for i in range(6):
            np.random.seed(seed)
            a = ds_v[i]
            np.random.seed(seed)
            b = ds_p[i]
            sa, sb = a['data_samples'], b['data_samples']
            assert np.array_equal(sa.frame_inds, sb.frame_inds), (seed, i)
            assert np.array_equal(sa.crop_bboxes, sb.crop_bboxes)
            assert np.array_equal(sa.flip, sb.flip)
            stats['v'].append(sa.frame_inds)
            stats['p'].append(sb.frame_inds)
            worst = min(worst, psnr(a['inputs'].numpy(), b['inputs'].numpy()))
    v, p = np.array(stats['v']), np.array(stats['p'])
    gaps = v[:, 1] - v[:, 0]
    assert gaps.min() >= 1 and gaps.max() <= 9 and len(set(v[:, 0])) > 10
    assert np.array_equal(v, p)  # so every statistic of the indices is equal
    assert worst >= PSNR_MIN_DB - 3, f'crops PSNR {worst:.2f} dB'  # bicubic crops of JPEG


# --------------------------------------------------------------------------- data set


def test_folder_scan_labels_and_leftovers(prepared, tmp_path, warnings_log):
    src, dst, _ = prepared
    root = tmp_path / 'copy'
    shutil.copytree(dst, root)
    cls = sorted(p for p in root.iterdir() if p.is_dir())[0]
    shutil.copytree(next(p for p in cls.iterdir() if p.is_dir()),
                    cls / '.tmp_prepare_abc_left')  # a converter leftover
    (root / 'zzz_no_frames').mkdir()
    ds = RawframePairDataset(data_root=str(root))
    ds_v = VideoPairDataset(data_root=str(src))
    assert len(ds) == 6
    assert ds.metainfo['classes'] == ds_v.metainfo['classes'] + ('zzz_no_frames', )
    for i in range(6):
        assert ds.get_data_info(i)['label'] == ds_v.get_data_info(i)['label']
        assert 'total_frames' not in ds.get_data_info(i)  # counted by the reader
    assert any('zzz_no_frames' in m and 'no frame folders' in m for m in warnings_log)
    with pytest.raises(FileNotFoundError, match='no frame folders'):
        RawframePairDataset(data_root=str(root / 'zzz_no_frames'))
    with pytest.raises(FileNotFoundError, match='nowhere'):
        RawframePairDataset(data_root=str(tmp_path / 'nowhere'))


def test_mmaction2_file_list(prepared, tmp_path):
    src, dst, _ = prepared
    rel = sorted(osp.relpath(p, dst) for p in dst.glob('*/*') if p.is_dir())
    assert any(' ' in r for r in rel)  # Kinetics class names have spaces
    ann = tmp_path / 'list.txt'
    ann.write_text(f'{rel[0]}\t24\t3\n'  # tab separated (spaces in the path)
                   f'{rel[1]} 24 1\n'  # mmaction2's whitespace separated
                   f'{dst / rel[2]} 20 0\n')  # absolute, fewer frames than the folder
    ds = RawframePairDataset(ann_file=str(ann), data_prefix=dict(video=str(dst)),
                             pipeline=[dict(type='LoadFramePairFromFrames')] + PIPELINE)
    infos = [ds.get_data_info(i) for i in range(3)]
    assert [i['filename'] for i in infos] == [str(dst / r) for r in rel[:3]]
    assert [(i['total_frames'], i['label']) for i in infos] == [(24, 3), (24, 1), (20, 0)]
    assert infos[0]['filename_tmpl'] == 'img_{:05d}.jpg' and infos[0]['start_index'] == 1
    np.random.seed(1)
    assert max(int(ds[2]['data_samples'].frame_inds.max()) for _ in range(20)) < 20
    bad = tmp_path / 'bad.txt'
    bad.write_text(f'{rel[0]} 24 1 7\n')
    with pytest.raises(ValueError, match='bad.txt:1'):
        RawframePairDataset(ann_file=str(bad))


def _flatten(d, prefix=''):
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_flatten(v, f'{prefix}{k}.'))
    elif isinstance(d, (list, tuple)):
        for k, v in enumerate(d):
            out.update(_flatten(v, f'{prefix}{k}.'))
    else:
        out[prefix[:-1]] = d
    return out


def test_prepared_config_differs_only_in_the_data_fields(prepared):
    video = Config.fromfile(osp.join(REPO, 'configs', 'dropmae', 'pretrain_k400.py'))
    prep = Config.fromfile(osp.join(REPO, 'configs', 'dropmae', 'pretrain_k400_prepared.py'))
    a, b = _flatten(video.to_dict()), _flatten(prep.to_dict())
    diff = {k for k in set(a) | set(b) if a.get(k, '<absent>') != b.get(k, '<absent>')}
    ds = 'train_dataloader.dataset.'
    assert diff <= {ds + 'type', ds + 'data_root', ds + 'ann_file',
                    ds + 'pipeline.0.type', 'train_pipeline.0.type', 'dataset_type',
                    'data_root'}, diff
    assert b[ds + 'type'] == 'RawframePairDataset'
    assert b[ds + 'pipeline.0.type'] == 'LoadFramePairFromFrames'
    assert b[ds + 'pipeline.0.frame_gap'] == a[ds + 'pipeline.0.frame_gap'] == 50
    # the config's data set reads what the converter wrote
    _, dst, _ = prepared
    cfg = prep.train_dataloader.dataset.copy()
    cfg.data_root = str(dst)
    cfg.pipeline[1].size = 32
    dataset = DATASETS.build(cfg)
    assert len(dataset) == 6
    out = dataset[0]
    assert tuple(out['inputs'].shape) == (2, 3, 32, 32)
