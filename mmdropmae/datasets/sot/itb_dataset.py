"""ITB, the Informative Tracking Benchmark (Li et al., 2021), layout::

    data_root/
      {scenario}/          e.g. animal, human, ...
        {seq}/ 00000001.jpg ...  groundtruth.txt

``groundtruth.txt``: ``x,y,w,h`` per frame (comma or whitespace separated).
No absence flags: ``visible`` follows box validity.
"""
import os
import os.path as osp
from typing import List

from mmdropmae.registry import DATASETS
from .base_sot_dataset import (BaseSOTDataset, SOTAnnotationError, list_sot_frames, natural_key,
                               read_bbox_file, read_name_list)


@DATASETS.register_module()
class ITBDataset(BaseSOTDataset):
    """ITB scenario folders (``ann_file``: optional list of sequence names).
    Each entry also has ``scenario``."""
    METAINFO = dict(dataset_type='sot', name='itb')
    DATASET_NAME = 'itb'

    def load_data_list(self) -> List[dict]:
        root = self.data_root
        if not osp.isdir(root):
            raise SOTAnnotationError(f'ITB root folder not found: {root}')
        keep = set(read_name_list(self.ann_file)) if self.ann_file else None
        seqs = []
        for scenario in sorted(os.listdir(root), key=natural_key):
            sdir = osp.join(root, scenario)
            if not osp.isdir(sdir):
                continue
            for name in sorted(os.listdir(sdir), key=natural_key):
                seq_dir = osp.join(sdir, name)
                ann = osp.join(seq_dir, 'groundtruth.txt')
                if not osp.isfile(ann) or (keep is not None and name not in keep):
                    continue
                frame_names = list_sot_frames(seq_dir)
                if frame_names or self.check_frames:
                    boxes = read_bbox_file(ann, len(frame_names))
                else:  # annotations only (evaluation without images)
                    boxes = read_bbox_file(ann)
                    frame_names = [f'{k + 1:08d}.jpg' for k in range(len(boxes))]
                seq = self.make_sequence(name, seq_dir, boxes, frame_names=frame_names,
                                         ann_path=ann)
                seq['scenario'] = scenario
                seqs.append(seq)
        if not seqs:
            raise SOTAnnotationError(f'no ITB sequence ({{scenario}}/{{seq}}/groundtruth.txt) '
                                     f'under {root}')
        return seqs
