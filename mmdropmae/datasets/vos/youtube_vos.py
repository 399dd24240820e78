"""YouTube-VOS 2018 / 2019 video object segmentation data set."""
import os
import os.path as osp
from typing import Dict, List, Optional

from mmengine.logging import MMLogger

from mmdropmae.registry import DATASETS
from mmdropmae.utils.fileio import (DAVIS_PALETTE, list_image_stems, read_youtube_vos_meta,
                                    youtube_vos_categories)
from mmdropmae.utils.image import image_size
from .base import BaseVOSDataset, read_checked_mask, sequence_entry

__all__ = [
    'YouTubeVOSDataset', 'load_youtube_vos_sequences', 'read_youtube_vos_meta',
    'youtube_vos_categories'
]


def load_youtube_vos_sequences(split_root: str,
                               meta_file: Optional[str] = None,
                               img_subdir: str = 'JPEGImages',
                               ann_subdir: str = 'Annotations',
                               scan_annotations: str = 'first',
                               sequences: Optional[List[str]] = None) -> List[Dict]:
    """Sequence entries (see :mod:`mmdropmae.datasets.vos.base`) of one
    YouTube-VOS split folder.

    Layout::

        split_root/JPEGImages/{seq}/00000.jpg, 00005.jpg, ...
        split_root/Annotations/{seq}/00000.png ...   palette PNGs
        split_root/meta.json   {"videos": {seq: {"objects": {"1": {
                                   "category": "ape",      (train only)
                                   "frames": ["00000", "00005", ...]}}}}}

    An object's first appearance is the first frame its ``frames`` list
    names; its annotation must exist there (in ``valid`` that is the only
    annotation of the object; the PNG may hold only the objects that start
    there). Videos are sorted by name.

    Args:
        split_root (str): ``{root}/train`` or ``{root}/valid``.
        meta_file (str, optional): Defaults to ``split_root/meta.json``.
        img_subdir (str): Frame folder name.
        ann_subdir (str): Annotation folder name.
        scan_annotations (str): ``'first'`` reads the first-appearance
            annotations (palette format, size, object present), ``'all'``
            reads every annotation (and takes each annotated frame's objects
            from it), ``'none'`` reads no PNG.
        sequences (list[str], optional): Load only these videos.

    Returns:
        list[dict]: Sequence entries.
    """
    if scan_annotations not in ('all', 'first', 'none'):
        raise ValueError("scan_annotations must be 'all', 'first' or 'none', got "
                         f'{scan_annotations!r}')
    if meta_file is None:
        meta_file = osp.join(split_root, 'meta.json')
    videos = read_youtube_vos_meta(meta_file)
    names = sorted(videos) if sequences is None else list(sequences)
    logger = MMLogger.get_current_instance()
    out = []
    for seq in names:
        if seq not in videos:
            raise KeyError(f'video {seq!r} is not in {meta_file}')
        img_dir = osp.join(split_root, img_subdir, seq)
        if not osp.isdir(img_dir):
            raise FileNotFoundError(f'video {seq!r} (listed in {meta_file}) has no frame '
                                    f'folder {img_dir}')
        frame_names = list_image_stems(img_dir, f'frame folder of video {seq!r}')
        files = {osp.splitext(f)[0]: f for f in os.listdir(img_dir)}
        frame_paths = [osp.join(img_dir, files[n]) for n in frame_names]
        index = {n: t for t, n in enumerate(frame_names)}
        ann_dir = osp.join(split_root, ann_subdir, seq)
        pngs = set()
        if osp.isdir(ann_dir):
            pngs = {osp.splitext(f)[0] for f in os.listdir(ann_dir) if f.endswith('.png')}
        mask_paths = [osp.join(ann_dir, n + '.png') if n in pngs else None for n in frame_names]
        width, height = image_size(frame_paths[0])

        first_frames: Dict[int, int] = {}
        categories: Dict[int, Optional[str]] = {}
        frame_object_ids: List[Optional[List[int]]] = [None] * len(frame_names)
        for key, obj in videos[seq].get('objects', {}).items():
            try:
                oid = int(key)
            except ValueError:
                raise ValueError(f'{meta_file}: video {seq!r} has a non-integer object id '
                                 f'{key!r}') from None
            frames = sorted(obj.get('frames', []))
            if not frames:
                logger.warning(f'{meta_file}: object {oid} of {seq!r} lists no frame; skipped')
                continue
            for n in frames:
                if n not in index:
                    raise FileNotFoundError(
                        f'{meta_file}: object {oid} of video {seq!r} is listed in frame {n!r} '
                        f'but {img_dir} has no such frame')
                t = index[n]
                if frame_object_ids[t] is None:
                    frame_object_ids[t] = []
                frame_object_ids[t].append(oid)
            first_frames[oid] = index[frames[0]]
            categories[oid] = obj.get('category')
            if mask_paths[index[frames[0]]] is None:
                raise FileNotFoundError(
                    f'missing annotation {osp.join(ann_dir, frames[0] + ".png")}: object {oid} '
                    f'of video {seq!r} first appears there according to {meta_file}')
        frame_object_ids = [None if ids is None else sorted(ids) for ids in frame_object_ids]
        if scan_annotations != 'none':
            if scan_annotations == 'all':
                scan = [t for t, m in enumerate(mask_paths) if m is not None]
            else:
                scan = sorted(set(first_frames.values()))
            for t in scan:
                ids = read_checked_mask(mask_paths[t], frame_paths[t])
                present = sorted(int(i) for i in set(ids.ravel().tolist()) if i != 0)
                for oid, t0 in first_frames.items():
                    if t0 == t and oid not in present:
                        raise ValueError(
                            f'annotation {mask_paths[t]} does not contain object {oid}, which '
                            f'first appears in this frame according to {meta_file}')
                if scan_annotations == 'all':
                    frame_object_ids[t] = present
        out.append(
            sequence_entry(seq, frame_names, frame_paths, mask_paths, (width, height),
                           first_frames, frame_object_ids, categories))
    return out


@DATASETS.register_module()
class YouTubeVOSDataset(BaseVOSDataset):
    """YouTube-VOS 2018 / 2019 (semi-supervised VOS).

    ``data_root/{split}/JPEGImages/{seq}/*.jpg``, ``data_root/{split}/
    Annotations/{seq}/*.png`` (palette PNGs; in ``valid`` only the frame where
    each object first appears), ``data_root/{split}/meta.json``. Objects may
    appear after the first frame: ``first_frames`` gives each one's first
    frame and frame items carry ``init_object_ids`` (see
    :mod:`mmdropmae.datasets.vos.base` for every key). 2018 and 2019 share
    the format (``year`` is informative).

    Args:
        data_root (str): Root holding ``train/`` and ``valid/``.
        split (str): ``'train'``, ``'valid'`` or ``'test'``.
        year (str): ``'2018'`` or ``'2019'``.
        ann_file (str): ``meta.json`` to use instead of
            ``{split}/meta.json`` (relative to ``data_root``).
        img_subdir (str): Frame folder (``'JPEGImages'``).
        ann_subdir (str): Annotation folder (``'Annotations'``).
        scan_annotations (str): ``'first'``, ``'all'`` or ``'none'``, see
            :func:`load_youtube_vos_sequences`.
        mode (str, optional): ``'sequence'`` or ``'frame'``.
        sequences (list[str], optional): Keep only these videos.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments.
    """

    METAINFO = dict(
        dataset_name='YouTube-VOS', palette=[tuple(c) for c in DAVIS_PALETTE.tolist()])

    def __init__(self,
                 data_root: str,
                 split: str = 'valid',
                 year: str = '2019',
                 ann_file: str = '',
                 img_subdir: str = 'JPEGImages',
                 ann_subdir: str = 'Annotations',
                 scan_annotations: str = 'first',
                 mode: Optional[str] = None,
                 sequences: Optional[List[str]] = None,
                 **kwargs) -> None:
        self.split = split
        self.year = str(year)
        self.img_subdir = img_subdir
        self.ann_subdir = ann_subdir
        self.scan_annotations = scan_annotations
        super().__init__(
            mode=mode, sequences=sequences, data_root=data_root, ann_file=ann_file, **kwargs)

    def load_sequences(self) -> List[Dict]:
        split_root = osp.join(self.data_root, self.split)
        return load_youtube_vos_sequences(
            split_root,
            meta_file=self.ann_file or None,
            img_subdir=self.img_subdir,
            ann_subdir=self.ann_subdir,
            scan_annotations=self.scan_annotations,
            sequences=self.sequence_filter)
