"""COCO object boxes as one-frame SOT "sequences" (static training pairs, as
in OSTrack/DropTrack's full schedule, where template and search region are
drawn from the same image).

Layout: the COCO release, e.g. ``data_root/annotations/instances_train2017.json``
and ``data_root/train2017/*.jpg``. COCO boxes are ``[x, y, w, h]`` (pixels,
0-based), the same convention as the SOT datasets.
"""
import json
import os.path as osp
from typing import List, Optional, Sequence

from mmdropmae.registry import DATASETS
from .base_sot_dataset import BaseSOTDataset, SOTAnnotationError


@DATASETS.register_module()
class COCOSOTDataset(BaseSOTDataset):
    """One entry per non-crowd COCO instance.

    Args:
        ann_file (str): The instances json (joined with ``data_root``).
        data_prefix (dict): ``dict(img_path='train2017/')``.
        min_bbox_size (float): Instances whose box has ``w`` or ``h`` below
            this (pixels) are skipped. Defaults to 4.
        categories (list[str], optional): Keep only these category names.
        **kwargs: see :class:`BaseSOTDataset`.

    Each entry is a 1-frame sequence named ``'{image_id}_{ann_id}'`` with
    ``img_shape`` from the json, plus ``category`` (name).
    """
    METAINFO = dict(dataset_type='sot', name='coco')
    DATASET_NAME = 'coco'

    def __init__(self, *args, min_bbox_size: float = 4., categories: Optional[Sequence[str]] = None,
                 data_prefix: dict = dict(img_path='train2017/'), **kwargs):
        self.min_bbox_size = float(min_bbox_size)
        self.categories = set(categories) if categories else None
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        if not self.ann_file or not osp.isfile(self.ann_file):
            raise SOTAnnotationError(f'COCO annotation file not found: {self.ann_file!r}')
        try:
            with open(self.ann_file) as f:
                coco = json.load(f)
        except json.JSONDecodeError as e:
            raise SOTAnnotationError(f'{self.ann_file}: invalid json: {e}') from None
        for key in ('images', 'annotations'):
            if key not in coco:
                raise SOTAnnotationError(f'{self.ann_file}: no {key!r} list (not COCO instances)')
        cats = {c['id']: c['name'] for c in coco.get('categories', [])}
        images = {im['id']: im for im in coco['images']}
        img_dir = self.data_prefix.get('img_path', '')
        seqs = []
        for i, ann in enumerate(coco['annotations']):
            if ann.get('iscrowd', 0):
                continue
            bbox = ann.get('bbox')
            if bbox is None or len(bbox) != 4:
                raise SOTAnnotationError(
                    f'{self.ann_file}: annotation #{i} (id {ann.get("id")}) has no 4-value bbox')
            if bbox[2] < self.min_bbox_size or bbox[3] < self.min_bbox_size:
                continue
            cat = cats.get(ann.get('category_id'), '')
            if self.categories is not None and cat not in self.categories:
                continue
            im = images.get(ann['image_id'])
            if im is None:
                raise SOTAnnotationError(
                    f'{self.ann_file}: annotation {ann.get("id")} refers to missing image '
                    f'{ann["image_id"]}')
            seq = self.make_sequence(
                f'{ann["image_id"]}_{ann.get("id", i)}', img_dir, [bbox],
                frame_names=[im['file_name']], img_shape=(im['height'], im['width']),
                ann_path=self.ann_file)
            seq['category'] = cat
            seqs.append(seq)
        return seqs
