"""VIP (Video Instance-level Parsing) part labels for label propagation.

Layout::

    data_root/Images/{video}/{frame}.jpg
    data_root/Category_ids/{video}/{frame}.png   part classes 0-19 (0 =
                                                  background; 255 = void)
    ann_file: list of videos, one a line ('{video}' or '{video}/{frame}'
              lines, grouped by video; e.g. lists/val_videos.txt)

Sequence entry: ``video_name``, ``frame_paths``, ``frame_names``,
``mask_paths``, ``num_frames``, ``height``, ``width``.
"""
import os
import os.path as osp
from typing import List, Optional

from mmengine.dataset import BaseDataset

from mmdropmae.registry import DATASETS
from mmdropmae.utils.constants import IMG_EXTENSIONS
from mmdropmae.utils.image import image_size

VIP_CLASSES = ('background', 'hat', 'hair', 'sunglasses', 'upper-clothes', 'dress', 'coat',
               'socks', 'pants', 'gloves', 'scarf', 'skirt', 'torso-skin', 'face',
               'right-arm', 'left-arm', 'right-leg', 'left-leg', 'right-shoe', 'left-shoe')


def read_vip_list(path: str) -> List[str]:
    """Video names of a VIP list file, in order, de-duplicated."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'VIP list file not found: {path}')
    videos = []
    with open(path) as f:
        for line in f:
            tok = line.split()
            if not tok:
                continue
            v = tok[0].strip('/').split('/')[0]
            if v not in videos:
                videos.append(v)
    return videos


@DATASETS.register_module()
class VIPDataset(BaseDataset):
    """VIP videos with part labels, one item per video.

    Args:
        data_root (str): VIP root.
        ann_file (str): Video list (relative to ``data_root``).
        img_prefix, label_prefix (str): 'Images', 'Category_ids'.
        max_frames (int, optional): Keep the first n frames of each video.
    """
    METAINFO = dict(classes=VIP_CLASSES)

    def __init__(self, data_root: str = '', ann_file: str = 'lists/val_videos.txt',
                 img_prefix: str = 'Images', label_prefix: str = 'Category_ids',
                 max_frames: Optional[int] = None, **kwargs):
        self.img_prefix = img_prefix
        self.label_prefix = label_prefix
        self.max_frames = max_frames
        kwargs.setdefault('test_mode', True)
        super().__init__(data_root=data_root, ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        out = []
        for video in read_vip_list(self.ann_file):
            img_dir = osp.join(self.data_root, self.img_prefix, video)
            lbl_dir = osp.join(self.data_root, self.label_prefix, video)
            for d, what in ((img_dir, 'frames'), (lbl_dir, 'label')):
                if not osp.isdir(d):
                    raise FileNotFoundError(f'VIP {what} folder not found: {d}')
            stems = sorted(osp.splitext(f)[0] for f in os.listdir(img_dir)
                           if f.lower().endswith(IMG_EXTENSIONS))
            if not stems:
                raise FileNotFoundError(f'no frames in {img_dir}')
            if self.max_frames is not None:
                stems = stems[:self.max_frames]
            frames = []
            for s in stems:
                cand = [osp.join(img_dir, s + e) for e in IMG_EXTENSIONS]
                frames.append(next(c for c in cand if osp.isfile(c)))
            masks = [osp.join(lbl_dir, s + '.png') for s in stems]
            if not osp.isfile(masks[0]):
                raise FileNotFoundError(f'VIP label of the first frame not found: {masks[0]}')
            masks = [m if osp.isfile(m) else None for m in masks]
            w, h = image_size(frames[0])
            out.append(dict(video_name=video, frame_paths=frames, frame_names=stems,
                            mask_paths=masks, num_frames=len(stems), height=h, width=w))
        return out
