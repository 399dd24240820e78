"""JHMDB pose for label propagation (keypoints of frame 0 propagated).

Layout (the released JHMDB archives)::

    data_root/Rename_Images/{class}/{video}/00001.png ...
    data_root/joint_positions/{class}/{video}/joint_positions.mat
        pos_img: (2, 15, T) pixel (x, y), MATLAB 1-based
    ann_file: split list, one video per line; the first token is
        '{class}/{video}' or a path containing 'Rename_Images/{class}/{video}'
        (CRW's 'testdata.txt' lines 'IMG_DIR LABEL_PATH' work; further tokens
        are ignored)

Sequence entry: ``video_name`` ('{class}/{video}'), ``frame_paths``,
``frame_names``, ``num_frames``, ``height``, ``width``, ``keypoints``
((T, 15, 2) float32 (x, y), 0-based: ``pos_img - 1`` as in CRW's loader).
The .mat files are read with ``scipy.io.loadmat`` (scipy required).
"""
import os
import os.path as osp
from typing import List, Optional

import numpy as np
from mmengine.dataset import BaseDataset

from mmdropmae.registry import DATASETS
from mmdropmae.utils.constants import IMG_EXTENSIONS
from mmdropmae.utils.image import image_size


def read_jhmdb_split(path: str) -> List[str]:
    """'{class}/{video}' keys of a split list."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'JHMDB split file not found: {path}')
    keys = []
    with open(path) as f:
        for line in f:
            tok = line.split()
            if not tok:
                continue
            p = tok[0].rstrip('/').replace('\\', '/')
            if 'Rename_Images/' in p:
                p = p.split('Rename_Images/', 1)[1]
            parts = p.split('/')
            if len(parts) < 2:
                raise ValueError(f'{path}: cannot read a {{class}}/{{video}} key from {line!r}')
            keys.append('/'.join(parts[-2:]))
    return keys


def load_jhmdb_joints(mat_path: str) -> np.ndarray:
    """(T, 15, 2) 0-based (x, y) joints of a ``joint_positions.mat``."""
    if not osp.isfile(mat_path):
        raise FileNotFoundError(f'JHMDB joint file not found: {mat_path}')
    try:
        from scipy.io import loadmat
    except ImportError as e:  # pragma: no cover
        raise ImportError('reading JHMDB joint_positions.mat needs scipy '
                          '(pip install scipy)') from e
    mat = loadmat(mat_path)
    if 'pos_img' not in mat:
        keys = sorted(k for k in mat if not k.startswith('__'))
        raise KeyError(f'{mat_path} has no pos_img (keys: {keys})')
    pos = np.asarray(mat['pos_img'], dtype=np.float32)
    if pos.ndim != 3 or pos.shape[0] != 2:
        raise ValueError(f'{mat_path}: pos_img must be (2, J, T), got {pos.shape}')
    return pos.transpose(2, 1, 0) - 1.0


@DATASETS.register_module()
class JHMDBDataset(BaseDataset):
    """JHMDB videos with joints, one item per video (see module docstring).

    Args:
        data_root (str): JHMDB root.
        ann_file (str): Split list (relative to ``data_root``).
        img_prefix (str): Frames folder. Defaults to 'Rename_Images'.
        joint_prefix (str): Joints folder. Defaults to 'joint_positions'.
        max_videos (int, optional): Keep the first n videos.
    """

    def __init__(self, data_root: str = '', ann_file: str = 'testdata.txt',
                 img_prefix: str = 'Rename_Images', joint_prefix: str = 'joint_positions',
                 max_videos: Optional[int] = None, **kwargs):
        self.img_prefix = img_prefix
        self.joint_prefix = joint_prefix
        self.max_videos = max_videos
        kwargs.setdefault('test_mode', True)
        super().__init__(data_root=data_root, ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        keys = read_jhmdb_split(self.ann_file)
        if self.max_videos is not None:
            keys = keys[:self.max_videos]
        out = []
        for key in keys:
            img_dir = osp.join(self.data_root, self.img_prefix, key)
            if not osp.isdir(img_dir):
                raise FileNotFoundError(f'JHMDB frames folder not found: {img_dir}')
            names = sorted(f for f in os.listdir(img_dir)
                           if f.lower().endswith(IMG_EXTENSIONS))
            if not names:
                raise FileNotFoundError(f'no frames in {img_dir}')
            joints = load_jhmdb_joints(
                osp.join(self.data_root, self.joint_prefix, key, 'joint_positions.mat'))
            n = min(len(names), joints.shape[0])
            w, h = image_size(osp.join(img_dir, names[0]))
            out.append(dict(
                video_name=key,
                frame_paths=[osp.join(img_dir, f) for f in names[:n]],
                frame_names=[osp.splitext(f)[0] for f in names[:n]],
                num_frames=n, height=h, width=w,
                keypoints=joints[:n]))
        return out
