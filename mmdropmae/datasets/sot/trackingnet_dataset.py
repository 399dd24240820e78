"""TrackingNet (Müller et al., ECCV 2018), released layout::

    data_root/
      TRAIN_0/ anno/{seq}.txt  frames/{seq}/0.jpg 1.jpg ...
      ...
      TRAIN_11/
      TEST/    anno/{seq}.txt (first-frame box only)  frames/{seq}/0.jpg ...

``anno/{seq}.txt``: ``x,y,w,h`` per frame (comma separated). Frames are named
by their 0-based index. TrackingNet has no absence flags: a frame is
``visible`` when its box is valid.
"""
import os
import os.path as osp
from typing import List, Sequence, Union

from mmdropmae.registry import DATASETS
from .base_sot_dataset import (BaseSOTDataset, SOTAnnotationError, list_sot_frames, natural_key,
                               read_bbox_file, read_name_list)

TRAIN_CHUNKS = tuple(f'TRAIN_{i}' for i in range(12))


@DATASETS.register_module()
class TrackingNetDataset(BaseSOTDataset):
    """TrackingNet chunks.

    Args:
        chunks (str | list[str]): ``'train'`` (``TRAIN_0`` .. ``TRAIN_11``,
            those present), ``'test'`` (``TEST``) or a list of chunk folder
            names. Defaults to ``'train'``.
        ann_file (str): Optional list of sequence names to keep.
        **kwargs: see :class:`BaseSOTDataset`.
    """
    METAINFO = dict(dataset_type='sot', name='trackingnet')
    DATASET_NAME = 'trackingnet'

    def __init__(self, *args, chunks: Union[str, Sequence[str]] = 'train', **kwargs):
        self.chunks = chunks
        super().__init__(*args, **kwargs)

    def _chunk_names(self) -> List[str]:
        if self.chunks == 'train':
            names = [c for c in TRAIN_CHUNKS if osp.isdir(osp.join(self.data_root, c))]
            if not names:
                raise SOTAnnotationError(f'no TRAIN_* chunk folder in {self.data_root}')
            return names
        if self.chunks == 'test':
            return ['TEST']
        return [self.chunks] if isinstance(self.chunks, str) else list(self.chunks)

    def load_data_list(self) -> List[dict]:
        keep = set(read_name_list(self.ann_file)) if self.ann_file else None
        test = self.chunks == 'test' or self._chunk_names() == ['TEST']
        seqs = []
        for chunk in self._chunk_names():
            anno_dir = osp.join(self.data_root, chunk, 'anno')
            if not osp.isdir(anno_dir):
                raise SOTAnnotationError(f'TrackingNet anno folder not found: {anno_dir}')
            names = sorted((osp.splitext(f)[0] for f in os.listdir(anno_dir)
                            if f.endswith('.txt')), key=natural_key)
            for name in names:
                if keep is not None and name not in keep:
                    continue
                ann = osp.join(anno_dir, name + '.txt')
                img_dir = osp.join(self.data_root, chunk, 'frames', name)
                if self.check_frames or test:
                    frame_names = list_sot_frames(img_dir)
                    boxes = read_bbox_file(ann, len(frame_names), allow_first_only=test)
                    num_frames = len(frame_names)
                else:
                    frame_names = None
                    boxes = read_bbox_file(ann)
                    num_frames = len(boxes)
                seq = self.make_sequence(
                    name, img_dir, boxes, num_frames=num_frames, frame_names=frame_names,
                    frame_template='{}.jpg', start_frame=0, ann_path=ann)
                seq['chunk'] = chunk
                seqs.append(seq)
        return seqs
