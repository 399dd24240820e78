"""LaSOT (Fan et al., CVPR 2019) and LaSOT_ext (IJCV 2021), released layout::

    data_root/
      airplane/
        airplane-1/
          img/00000001.jpg ...
          groundtruth.txt      x,y,w,h per frame (comma separated, 1 row/frame)
          full_occlusion.txt   one line: 0,0,1,... (1 = fully occluded)
          out_of_view.txt      one line: 0,0,1,... (1 = out of view)
          nlp.txt              optional language description
      testing_set.txt / training_set.txt (optional split lists: one
                                          ``airplane-1`` per line)

A frame is ``visible`` when it is neither fully occluded nor out of view and
its box is valid (the rule of the LaSOT toolkit and pytracking:
``target_visible = ~full_occlusion & ~out_of_view``).
"""
import os
import os.path as osp
from typing import List

import numpy as np

from mmdropmae.registry import DATASETS
from .base_sot_dataset import (BaseSOTDataset, SOTAnnotationError, list_sot_frames, natural_key,
                               read_bbox_file, read_label_file, read_name_list)


@DATASETS.register_module()
class LaSOTDataset(BaseSOTDataset):
    """LaSOT per-class folders.

    Args:
        ann_file (str): Optional split file (e.g. ``testing_set.txt`` with the
            280 test sequences, one ``class-index`` name per line); without it
            every sequence found under ``data_root`` is used.
        **kwargs: see :class:`BaseSOTDataset`.
    """
    METAINFO = dict(dataset_type='sot', name='lasot')
    DATASET_NAME = 'lasot'

    def _sequence_names(self) -> List[str]:
        if self.ann_file:
            return read_name_list(self.ann_file)
        root = self.data_root
        if not osp.isdir(root):
            raise SOTAnnotationError(f'{self.DATASET_NAME} root folder not found: {root}')
        names = []
        for cls in sorted(os.listdir(root)):
            cls_dir = osp.join(root, cls)
            if not osp.isdir(cls_dir):
                continue
            for seq in os.listdir(cls_dir):
                if osp.isfile(osp.join(cls_dir, seq, 'groundtruth.txt')):
                    names.append(seq)
        return sorted(names, key=natural_key)

    def load_data_list(self) -> List[dict]:
        seqs = []
        for name in self._sequence_names():
            cls = name.rsplit('-', 1)[0]
            seq_dir = osp.join(self.data_root, cls, name)
            seqs.append(self._load_sequence(name, seq_dir))
        return seqs

    def _load_sequence(self, name: str, seq_dir: str) -> dict:
        ann = osp.join(seq_dir, 'groundtruth.txt')
        img_dir = osp.join(seq_dir, 'img')
        if not osp.isdir(seq_dir):
            raise SOTAnnotationError(f'{self.DATASET_NAME} sequence folder not found: {seq_dir}')
        if self.check_frames:
            frame_names = list_sot_frames(img_dir)
            boxes = read_bbox_file(ann, len(frame_names))
        else:
            frame_names = None
            boxes = read_bbox_file(ann)
        m = len(boxes)
        attrs = {}
        for key in ('full_occlusion', 'out_of_view'):
            path = osp.join(seq_dir, f'{key}.txt')
            if osp.isfile(path):
                attrs[key] = read_label_file(path, m)
        absent = np.zeros(m, bool)
        for v in attrs.values():
            absent |= v > 0
        language = ''
        nlp = osp.join(seq_dir, 'nlp.txt')
        if osp.isfile(nlp):
            with open(nlp) as f:
                language = f.read().strip()
        return self.make_sequence(
            name, img_dir, boxes, num_frames=m, frame_names=frame_names,
            frame_template='{:08d}.jpg', start_frame=1, absent=absent, attrs=attrs,
            language=language, ann_path=ann)


@DATASETS.register_module()
class LaSOTExtDataset(LaSOTDataset):
    """LaSOT_ext (150 extension sequences): the LaSOT layout."""
    METAINFO = dict(dataset_type='sot', name='lasot_ext')
    DATASET_NAME = 'lasot_ext'
