"""GOT-10k (Huang et al., TPAMI 2019) in its released layout::

    data_root/
      train/ list.txt
             GOT-10k_Train_000001/ 00000001.jpg ... groundtruth.txt
                                   absence.label cover.label cut_by_image.label
                                   meta_info.ini
      val/   list.txt  GOT-10k_Val_000001/ ...
      test/  list.txt  GOT-10k_Test_000001/ 00000001.jpg ... groundtruth.txt (first frame only)

``groundtruth.txt``: one ``x,y,w,h`` row per frame (comma separated, pixels,
0-based). ``absence.label``: 1 where the target is absent; ``cover.label``:
visible fraction bin 0-8 (0 = fully covered); ``cut_by_image.label``: 1 where
the box is cut by the image border. A frame is ``visible`` when it is not
absent, its ``cover`` is > 0 (the toolkit's rule: ``covers > 0``) and its box
is valid. ``meta_info.ini``'s ``resolution: (W, H)`` gives ``img_shape``.
"""
import os
import os.path as osp
import re
from typing import List, Optional, Tuple

import numpy as np

from mmdropmae.registry import DATASETS
from .base_sot_dataset import (BaseSOTDataset, SOTAnnotationError, list_sot_frames, read_bbox_file,
                               read_label_file, read_name_list)


@DATASETS.register_module()
class GOT10kDataset(BaseSOTDataset):
    """GOT-10k train / val / test splits.

    Args:
        split (str): ``'train'``, ``'val'`` or ``'test'``: the sub-folder of
            ``data_root``.
        ann_file (str): Optional list of sequences to use instead of the
            split's ``list.txt``: sequence names, or integer indices into
            ``list.txt`` (the format of the ``got10k_vot_train_split.txt`` /
            ``got10k_val_split.txt`` files used by OSTrack/DropTrack).
        **kwargs: see :class:`BaseSOTDataset`.
    """
    METAINFO = dict(dataset_type='sot', name='got10k')
    DATASET_NAME = 'got10k'

    def __init__(self, *args, split: str = 'train', **kwargs):
        if split not in ('train', 'val', 'test'):
            raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
        self.split = split
        super().__init__(*args, **kwargs)

    def _split_root(self) -> str:
        return osp.join(self.data_root, self.split) if self.data_root else self.split

    def _sequence_names(self, root: str) -> List[str]:
        list_file = osp.join(root, 'list.txt')
        if osp.isfile(list_file):
            names = read_name_list(list_file)
        else:
            if not osp.isdir(root):
                raise SOTAnnotationError(f'GOT-10k split folder not found: {root}')
            names = sorted(d for d in os.listdir(root)
                           if osp.isfile(osp.join(root, d, 'groundtruth.txt')))
        if self.ann_file:
            wanted = read_name_list(self.ann_file)
            if all(w.isdigit() for w in wanted):
                names = [names[int(w)] for w in wanted]
            else:
                names = wanted
        return names

    def load_data_list(self) -> List[dict]:
        root = self._split_root()
        seqs = []
        for name in self._sequence_names(root):
            seq_dir = osp.join(root, name)
            seqs.append(self._load_sequence(name, seq_dir))
        return seqs

    def _load_sequence(self, name: str, seq_dir: str) -> dict:
        ann = osp.join(seq_dir, 'groundtruth.txt')
        is_test = self.split == 'test'
        frame_names: Optional[List[str]] = None
        if self.check_frames or is_test:
            frame_names = list_sot_frames(seq_dir)
            num_frames = len(frame_names)
            if num_frames == 0:
                raise SOTAnnotationError(f'no frames in {seq_dir}')
            boxes = read_bbox_file(ann, num_frames, allow_first_only=is_test)
        else:
            boxes = read_bbox_file(ann)
            num_frames = len(boxes)
        m = len(boxes)
        attrs = {}
        for key in ('absence', 'cover', 'cut_by_image'):
            path = osp.join(seq_dir, f'{key}.label')
            if osp.isfile(path):
                attrs[key] = read_label_file(path, m)
            elif not is_test and key in ('absence', 'cover') and self.split == 'train':
                raise SOTAnnotationError(f'label file not found: {path}')
        absent = np.zeros(m, bool)
        if 'absence' in attrs:
            absent |= attrs['absence'] > 0
        if 'cover' in attrs:
            absent |= attrs['cover'] == 0
        return self.make_sequence(
            name, seq_dir, boxes, num_frames=num_frames, frame_names=frame_names,
            frame_template='{:08d}.jpg', start_frame=1, absent=absent, attrs=attrs,
            img_shape=read_got10k_resolution(osp.join(seq_dir, 'meta_info.ini')),
            ann_path=ann)


def read_got10k_resolution(path: str) -> Optional[Tuple[int, int]]:
    """``(h, w)`` from the ``resolution: (W, H)`` line of a GOT-10k
    ``meta_info.ini`` (the image bound the toolkit clips boxes to), or None
    when the file or the line is missing."""
    if not osp.isfile(path):
        return None
    with open(path, errors='replace') as f:
        for line in f:
            key, _, value = line.partition(':')
            if key.strip().lower() == 'resolution':
                nums = re.findall(r'\d+', value)
                if len(nums) >= 2:
                    return int(nums[1]), int(nums[0])
    return None
