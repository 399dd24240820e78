import os
import os.path as osp
import shutil
import subprocess
import sys
from functools import partial

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate, worker_init_fn
from torch.utils.data import DataLoader

from mmdropmae.datasets import VideoPairDataset
from mmdropmae.datasets.synthetic import write_corrupt_video
from mmdropmae.registry import DATASETS
from mmdropmae.utils import register_all_modules

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

PIPELINE = [
    dict(type='LoadFramePairFromVideo', frame_gap=50),
    dict(type='RandomResizedCrop', size=32, scale=(0.2, 1.0), interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackPairInputs'),
]


@pytest.fixture
def root_copy(synthetic_video_root, tmp_path):
    """A writable copy of the session's synthetic Kinetics folder."""
    dst = tmp_path / 'root'
    shutil.copytree(synthetic_video_root, dst)
    return dst


def list_videos(root):
    return sorted(str(p) for p in root.rglob('*.mp4'))


def test_folder_layout(synthetic_video_root):
    ds = VideoPairDataset(data_root=str(synthetic_video_root))
    classes = sorted(p.name for p in synthetic_video_root.iterdir() if p.is_dir())
    assert len(classes) == 3
    assert ds.metainfo['classes'] == tuple(classes)
    assert len(ds) == 6
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert [i['filename'] for i in infos] == list_videos(synthetic_video_root)
    for info in infos:
        assert osp.isabs(info['filename']) and osp.isfile(info['filename'])
        assert info['label'] == classes.index(osp.basename(osp.dirname(info['filename'])))
    assert 'num_videos=6' in repr(ds)


def test_data_prefix_and_other_extensions(root_copy):
    (root_copy / 'videos').mkdir()
    for cls in [p for p in root_copy.iterdir() if p.is_dir() and p.name != 'videos']:
        shutil.move(str(cls), str(root_copy / 'videos' / cls.name))
    some = list_videos(root_copy)[0]
    os.rename(some, some[:-4] + '.MKV')
    (root_copy / 'videos' / 'notes.txt').write_text('not a video')
    ds = VideoPairDataset(data_root=str(root_copy), data_prefix=dict(video='videos'))
    assert len(ds) == 6
    assert any(ds.get_data_info(i)['filename'].endswith('.MKV') for i in range(6))
    ds = VideoPairDataset(data_root=str(root_copy), data_prefix=dict(video='videos'),
                          extensions=('.mp4', ))
    assert len(ds) == 5


def test_annotation_list(synthetic_video_root, tmp_path):
    videos = list_videos(synthetic_video_root)
    rel = [osp.relpath(v, synthetic_video_root) for v in videos]
    assert any(' ' in r for r in rel)  # Kinetics class names have spaces
    ann = tmp_path / 'list.txt'
    ann.write_text('# comment\n\n'
                   f'{rel[0]}\t2\t24\n'  # tab separated, label + num_frames
                   f'{rel[1]} 1\n'  # whitespace separated, path with spaces
                   f'{rel[2]}\n'  # path only
                   f'{videos[3]}\t0\n')  # absolute path
    ds = VideoPairDataset(ann_file=str(ann), data_prefix=dict(video=str(synthetic_video_root)))
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert [i['filename'] for i in infos] == videos[:4]
    assert [i['label'] for i in infos] == [2, 1, -1, 0]
    assert infos[0]['total_frames'] == 24 and 'total_frames' not in infos[1]
    # relative ann_file and data prefix are joined with data_root
    shutil.copy(ann, synthetic_video_root / 'tmp_list.txt')
    try:
        ds = VideoPairDataset(data_root=str(synthetic_video_root), ann_file='tmp_list.txt')
        assert ds.get_data_info(1)['filename'] == videos[1]
    finally:
        os.remove(synthetic_video_root / 'tmp_list.txt')
    bad = tmp_path / 'bad.txt'
    bad.write_text('a.mp4\tx\n')
    with pytest.raises(ValueError, match='bad.txt:1'):
        VideoPairDataset(ann_file=str(bad))
    empty = tmp_path / 'empty.txt'
    empty.write_text('# nothing\n')
    with pytest.raises(ValueError, match='empty.txt'):
        VideoPairDataset(ann_file=str(empty))
    with pytest.raises(FileNotFoundError, match='missing.txt'):
        VideoPairDataset(ann_file=str(tmp_path / 'missing.txt'))


def test_no_videos_raises_with_folder_name(tmp_path):
    root = tmp_path / 'empty_root'
    (root / 'some_class').mkdir(parents=True)
    (root / 'some_class' / 'readme.txt').write_text('x')
    with pytest.raises(FileNotFoundError, match='empty_root'):
        VideoPairDataset(data_root=str(root))
    with pytest.raises(FileNotFoundError, match='does_not_exist'):
        VideoPairDataset(data_root=str(tmp_path / 'does_not_exist'))


def test_empty_class_folder_warns(root_copy, warnings_log):
    (root_copy / 'zzz_empty_class').mkdir()
    ds = VideoPairDataset(data_root=str(root_copy))
    assert len(ds) == 6
    assert ds.metainfo['classes'][-1] == 'zzz_empty_class'  # label indices stay stable
    msgs = [m for m in warnings_log if 'zzz_empty_class' in m]
    assert len(msgs) == 1 and str(root_copy / 'zzz_empty_class') in msgs[0]


def test_corrupt_video_is_skipped(root_copy, warnings_log):
    cls = sorted(p for p in root_copy.iterdir() if p.is_dir())[0]
    bad = [write_corrupt_video(str(cls / f'{m}.mp4'), m) for m in ('truncated', 'garbage')]
    ds = VideoPairDataset(data_root=str(root_copy), pipeline=PIPELINE)
    assert len(ds) == 8
    names = [ds.get_data_info(i)['filename'] for i in range(len(ds))]
    np.random.seed(0)
    for path in bad:
        out = ds[names.index(path)]  # re-drawn: a valid sample of another video
        assert out['inputs'].shape == (2, 3, 32, 32)
        assert out['data_samples'].filename not in bad
        assert any(path in m and 'Skipping broken video' in m for m in warnings_log)
    # iteration over the whole data set continues through the broken files
    outs = [ds[i] for i in range(len(ds))]
    assert all(o['inputs'].shape == (2, 3, 32, 32) for o in outs)
    # test mode does not re-draw: MMEngine raises
    ds_test = VideoPairDataset(data_root=str(root_copy), pipeline=PIPELINE, test_mode=True)
    with pytest.raises(Exception, match='None'):
        ds_test[names.index(bad[0])]


def test_samples_match_spec(synthetic_video_root):
    ds = DATASETS.build(dict(type='VideoPairDataset', data_root=str(synthetic_video_root),
                             pipeline=PIPELINE))
    np.random.seed(3)
    for i in range(len(ds)):
        out = ds[i]
        meta = out['data_samples']
        s, e = meta.frame_inds
        assert meta.num_frames == 24 and meta.ori_shape == (96, 128)
        assert 0 <= s <= 22 and s + 1 <= e <= min(24, s + 50) - 1
        assert out['inputs'].dtype == torch.uint8
        assert meta.filename == ds.get_data_info(i)['filename']
        assert len(meta.flip) == 2 and meta.crop_bboxes.shape == (2, 4)


def test_serialization_matches_plain_list(synthetic_video_root):
    a = VideoPairDataset(data_root=str(synthetic_video_root), serialize_data=True)
    b = VideoPairDataset(data_root=str(synthetic_video_root), serialize_data=False)
    assert a.data_list == [] and len(a.data_bytes) > 0
    assert [a.get_data_info(i) for i in range(6)] == [b.get_data_info(i) for i in range(6)]
    sub = VideoPairDataset(data_root=str(synthetic_video_root), indices=[0, 5])
    assert [sub.get_data_info(i)['filename'] for i in range(2)] == [
        b.get_data_info(0)['filename'], b.get_data_info(5)['filename']]


def _load_epoch(ds, seed):
    loader = DataLoader(ds, batch_size=2, num_workers=2, collate_fn=pseudo_collate,
                        worker_init_fn=partial(worker_init_fn, num_workers=2, rank=0, seed=seed),
                        persistent_workers=False)
    out = []
    for batch in loader:
        assert 1 <= len(batch['inputs']) <= 2
        for inputs, sample in zip(batch['inputs'], batch['data_samples']):
            assert inputs.shape == (2, 3, 32, 32) and inputs.dtype == torch.uint8
            out.append((sample.filename, tuple(sample.frame_inds), inputs.sum().item()))
    return out


def test_dataloader_with_two_workers(root_copy):
    write_corrupt_video(str(sorted(root_copy.iterdir())[0] / 'broken.mp4'), 'garbage')
    ds = VideoPairDataset(data_root=str(root_copy), pipeline=PIPELINE, serialize_data=True)
    first = _load_epoch(ds, seed=7)
    assert len(first) == 7
    assert all('broken' not in f for f, _, _ in first)
    # MMEngine's worker seeding makes the random pairs and crops reproducible
    assert _load_epoch(ds, seed=7) == first
    assert _load_epoch(ds, seed=8) != first


@pytest.mark.slow
def test_benchmark_script_smoke(tmp_path):
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'benchmarks', 'video_loading.py'),
         '--cache-dir', str(tmp_path), '--num-videos', '2', '--num-frames', '20',
         '--size', '96x64', '--gop', '8', '--pairs', '6', '--rounds', '1', '--crop-size', '32',
         '--backends', 'all', '--profile'],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'reference (decord' in proc.stdout and 'ours (pyav)' in proc.stdout
    ours = [line for line in proc.stdout.splitlines() if line.startswith('ours (pyav)')][0]
    assert ours.rstrip().endswith('yes / yes')  # same samples, identical tensors
