"""TNL2K (Wang et al., CVPR 2021), released layout::

    data_root/
      {seq}/ imgs/00001.jpg|png ...  groundtruth.txt  language.txt
      (the training set may add one level of sub-folders, e.g.
       ``TNL2K_train_subset_p1/{seq}``: they are searched too)

``groundtruth.txt``: ``x,y,w,h`` per frame; ``language.txt``: the sentence.
No absence flags: ``visible`` follows box validity (TNL2K marks absent
targets with 0-size or NaN boxes).
"""
import os
import os.path as osp
from typing import List

from mmdropmae.registry import DATASETS
from .base_sot_dataset import (BaseSOTDataset, SOTAnnotationError, list_sot_frames, natural_key,
                               read_bbox_file, read_name_list)


@DATASETS.register_module()
class TNL2KDataset(BaseSOTDataset):
    """TNL2K sequences (``ann_file``: optional list of sequence names)."""
    METAINFO = dict(dataset_type='sot', name='tnl2k')
    DATASET_NAME = 'tnl2k'

    def _find_sequences(self) -> List[tuple]:
        root = self.data_root
        if not osp.isdir(root):
            raise SOTAnnotationError(f'TNL2K root folder not found: {root}')
        found = []
        for d in sorted(os.listdir(root), key=natural_key):
            p = osp.join(root, d)
            if not osp.isdir(p):
                continue
            if osp.isfile(osp.join(p, 'groundtruth.txt')):
                found.append((d, p))
            else:
                for s in sorted(os.listdir(p), key=natural_key):
                    q = osp.join(p, s)
                    if osp.isfile(osp.join(q, 'groundtruth.txt')):
                        found.append((s, q))
        return found

    def load_data_list(self) -> List[dict]:
        found = self._find_sequences()
        if self.ann_file:
            by_name = dict(found)
            wanted = read_name_list(self.ann_file)
            missing = [w for w in wanted if w not in by_name]
            if missing:
                raise SOTAnnotationError(
                    f'{self.ann_file}: sequences not found under {self.data_root}: {missing[:5]}')
            found = [(w, by_name[w]) for w in wanted]
        seqs = []
        for name, seq_dir in found:
            ann = osp.join(seq_dir, 'groundtruth.txt')
            img_dir = osp.join(seq_dir, 'imgs')
            if self.check_frames or osp.isdir(img_dir):
                frame_names = list_sot_frames(img_dir)
                boxes = read_bbox_file(ann, len(frame_names))
            else:  # annotations only (evaluation without images)
                boxes = read_bbox_file(ann)
                frame_names = [f'{k + 1:05d}.jpg' for k in range(len(boxes))]
            language = ''
            lang = osp.join(seq_dir, 'language.txt')
            if osp.isfile(lang):
                with open(lang, encoding='utf-8', errors='replace') as f:
                    language = f.read().strip()
            seqs.append(self.make_sequence(
                name, img_dir, boxes, frame_names=frame_names, language=language,
                ann_path=ann))
        return seqs
