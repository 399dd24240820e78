"""JHMDB / VIP loaders on the synthetic layouts, and their errors."""
import os

import numpy as np
import pytest

from mmdropmae.datasets import JHMDBDataset, VIPDataset, read_jhmdb_split
from mmdropmae.datasets.synthetic.correspondence import make_synthetic_jhmdb, make_synthetic_vip


def test_jhmdb_synthetic(tmp_path):
    pytest.importorskip('scipy')
    infos = make_synthetic_jhmdb(str(tmp_path), num_videos=2, num_frames=3)
    ds = JHMDBDataset(data_root=str(tmp_path), ann_file='testdata.txt')
    assert len(ds) == 2
    e = ds[0]
    assert e['video_name'] == infos[0]['video_name'] and e['num_frames'] == 3
    assert os.path.basename(e['frame_paths'][0]) == '00001.png'
    np.testing.assert_allclose(e['keypoints'], infos[0]['joints'], atol=1e-5)  # 1-based -> 0
    assert (e['width'], e['height']) == (80, 64)


def test_jhmdb_split_formats_and_errors(tmp_path):
    split = tmp_path / 'split.txt'
    split.write_text('walk/v1\n/data/JHMDB/Rename_Images/run/v2 /x/joint_positions.mat\n\n')
    assert read_jhmdb_split(str(split)) == ['walk/v1', 'run/v2']
    with pytest.raises(FileNotFoundError, match='Rename_Images'):
        JHMDBDataset(data_root=str(tmp_path), ann_file='split.txt')
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        JHMDBDataset(data_root=str(tmp_path), ann_file='nope.txt')
    pytest.importorskip('scipy')
    make_synthetic_jhmdb(str(tmp_path), num_videos=1, num_frames=2)
    os.remove(tmp_path / 'joint_positions' / 'walk' / 'walk_video_00' / 'joint_positions.mat')
    with pytest.raises(FileNotFoundError, match='joint_positions.mat'):
        JHMDBDataset(data_root=str(tmp_path), ann_file='testdata.txt')


def test_vip_synthetic_and_errors(tmp_path):
    infos = make_synthetic_vip(str(tmp_path), num_videos=2, num_frames=3)
    ds = VIPDataset(data_root=str(tmp_path), ann_file='lists/val_videos.txt')
    assert len(ds) == 2 and ds[0]['num_frames'] == 3
    from PIL import Image
    lab = np.array(Image.open(ds[0]['mask_paths'][1]))
    np.testing.assert_array_equal(lab, infos[0]['labels'][1])
    assert lab.max() <= 19
    (tmp_path / 'bad.txt').write_text('videos9\n')
    with pytest.raises(FileNotFoundError, match='videos9'):
        VIPDataset(data_root=str(tmp_path), ann_file='bad.txt')
