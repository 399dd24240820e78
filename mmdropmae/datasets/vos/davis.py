"""DAVIS 2016 / 2017 video object segmentation data set."""
import os
import os.path as osp
from typing import Dict, List, Optional

from mmengine.logging import MMLogger

from mmdropmae.registry import DATASETS
from mmdropmae.utils.fileio import list_image_stems
from .base import BaseVOSDataset, image_size, read_checked_mask, sequence_entry
from .palette import DAVIS_PALETTE


def read_imageset(path: str) -> List[str]:
    """Sequence names of a DAVIS ImageSets list.

    Accepts the DAVIS 2017 format (one sequence name per line, also used by
    ``ImageSets/2016`` of the 2017 package) and the original DAVIS 2016
    format (``/JPEGImages/480p/bear/00000.jpg /Annotations/480p/bear/00000.png``
    per frame: the sequence is the folder of the image). Order is kept,
    duplicates dropped.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'DAVIS ImageSet list not found: {path}')
    names: List[str] = []
    seen = set()
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            tok = line.split()[0]
            name = osp.basename(osp.dirname(tok)) if '/' in tok else tok
            if name not in seen:
                seen.add(name)
                names.append(name)
    if not names:
        raise ValueError(f'DAVIS ImageSet list {path} names no sequence')
    return names


def load_davis_sequences(data_root: str,
                         year: str = '2017',
                         split: str = 'val',
                         resolution: str = '480p',
                         imageset_file: Optional[str] = None,
                         scan_annotations: str = 'all',
                         require_dense: Optional[bool] = None,
                         sequences: Optional[List[str]] = None) -> List[Dict]:
    """Sequence entries (see :mod:`mmdropmae.datasets.vos.base`) of a DAVIS
    folder.

    Layout::

        data_root/JPEGImages/{resolution}/{seq}/00000.jpg
        data_root/Annotations/{resolution}/{seq}/00000.png   palette PNGs
        data_root/ImageSets/{year}/{split}.txt

    Args:
        data_root (str): DAVIS root.
        year (str): ``'2016'`` (single object: every non-zero id is object 1)
            or ``'2017'`` (multi-object).
        split (str): ``train``, ``val``, ``test-dev``, ``test-challenge``.
        resolution (str): ``480p`` or ``Full-Resolution``.
        imageset_file (str, optional): A list to use instead of
            ``ImageSets/{year}/{split}.txt``.
        scan_annotations (str): ``'all'`` reads every annotation once
            (checking the palette format and the size against the frame, and
            finding every object and its first frame), ``'first'`` only the
            first frame (objects = ids of frame 0, the DAVIS toolkit's rule).
        require_dense (bool, optional): Every frame must be annotated;
            defaults to True for ``train``/``val``. The first frame must
            always be annotated.
        sequences (list[str], optional): Names to load instead of the list's.

    Returns:
        list[dict]: One entry per sequence, in the list's order.
    """
    year = str(year)
    if year not in ('2016', '2017'):
        raise ValueError(f"DAVIS year must be '2016' or '2017', got {year!r}")
    if scan_annotations not in ('all', 'first'):
        raise ValueError(f"scan_annotations must be 'all' or 'first', got {scan_annotations!r}")
    if require_dense is None:
        require_dense = split in ('train', 'val')
    single = year == '2016'
    if imageset_file is None:
        imageset_file = osp.join(data_root, 'ImageSets', year, f'{split}.txt')
    names = list(sequences) if sequences is not None else read_imageset(imageset_file)
    img_root = osp.join(data_root, 'JPEGImages', resolution)
    ann_root = osp.join(data_root, 'Annotations', resolution)
    logger = MMLogger.get_current_instance()
    out = []
    for seq in names:
        img_dir = osp.join(img_root, seq)
        if not osp.isdir(img_dir):
            raise FileNotFoundError(f'sequence {seq!r} (listed in {imageset_file}) has no frame '
                                    f'folder {img_dir}')
        frame_names = list_image_stems(img_dir, f'frame folder of sequence {seq!r}')
        frame_paths = []
        for n in frame_names:
            p = osp.join(img_dir, n + '.jpg')
            if not osp.isfile(p):  # .jpeg / .png frames
                p = next(osp.join(img_dir, f) for f in sorted(os.listdir(img_dir))
                         if osp.splitext(f)[0] == n)
            frame_paths.append(p)
        ann_dir = osp.join(ann_root, seq)
        pngs = set()
        if osp.isdir(ann_dir):
            pngs = {osp.splitext(f)[0] for f in os.listdir(ann_dir) if f.endswith('.png')}
        mask_paths = [osp.join(ann_dir, n + '.png') if n in pngs else None for n in frame_names]
        if mask_paths[0] is None:
            raise FileNotFoundError(
                f'missing annotation {osp.join(ann_dir, frame_names[0] + ".png")}: the first '
                f'frame of DAVIS sequence {seq!r} must be annotated')
        if require_dense:
            for n, m in zip(frame_names, mask_paths):
                if m is None:
                    raise FileNotFoundError(
                        f'missing annotation {osp.join(ann_dir, n + ".png")} for frame '
                        f'{osp.join(img_dir, n)} (DAVIS {split} is densely annotated; pass '
                        'require_dense=False for sparse annotations)')
        width, height = image_size(frame_paths[0])
        frame_object_ids: List[Optional[List[int]]] = [None] * len(frame_names)
        first_frames: Dict[int, int] = {}
        scan = range(len(frame_names)) if scan_annotations == 'all' else [0]
        for t in scan:
            if mask_paths[t] is None:
                continue
            size = (width, height) if t == 0 else None
            ids = read_checked_mask(mask_paths[t], frame_paths[t], size, single_object=single)
            present = sorted(int(i) for i in set(ids.ravel().tolist()) if i != 0)
            frame_object_ids[t] = present
            for i in present:
                first_frames.setdefault(i, t)
        if not first_frames:
            logger.warning(f'DAVIS sequence {seq!r} has no annotated object')
        out.append(
            sequence_entry(seq, frame_names, frame_paths, mask_paths, (width, height),
                           first_frames, frame_object_ids, single_object=single))
    return out


@DATASETS.register_module()
class DAVISDataset(BaseVOSDataset):
    """DAVIS 2016 / 2017 (semi-supervised VOS).

    ``data_root/JPEGImages/480p/{seq}/00000.jpg``,
    ``data_root/Annotations/480p/{seq}/00000.png`` (palette PNGs, pixel index
    = object id, 255 = void -> background), ``data_root/ImageSets/{year}/
    {split}.txt``. DAVIS 2016 uses the same files with every object merged
    into object 1 (``single_object=True``: read masks with
    :meth:`load_mask` or ``load_vos_mask(path, single_object=True)``).

    Items are the sequence entries or frame items documented in
    :mod:`mmdropmae.datasets.vos.base`. Errors name the offending file: a
    missing ImageSet list or frame folder, a missing annotation (the first
    frame always; every frame for ``train``/``val``), a non-palette PNG, an
    annotation whose size differs from its frame.

    Args:
        data_root (str): DAVIS root.
        year (str): ``'2016'`` or ``'2017'``.
        split (str): ``'train'``, ``'val'``, ``'test-dev'``, ...
        resolution (str): ``'480p'`` or ``'Full-Resolution'``.
        ann_file (str): ImageSet list to use instead of
            ``ImageSets/{year}/{split}.txt`` (relative to ``data_root``).
        scan_annotations (str): ``'all'`` or ``'first'``, see
            :func:`load_davis_sequences`.
        require_dense (bool, optional): See :func:`load_davis_sequences`.
        mode (str, optional): ``'sequence'`` or ``'frame'`` (default:
            ``'frame'`` in test mode).
        sequences (list[str], optional): Keep only these sequences.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments
            (``pipeline``, ``test_mode``, ``serialize_data``, ...).
    """

    METAINFO = dict(dataset_name='DAVIS', palette=[tuple(c) for c in DAVIS_PALETTE.tolist()])

    def __init__(self,
                 data_root: str,
                 year: str = '2017',
                 split: str = 'val',
                 resolution: str = '480p',
                 ann_file: str = '',
                 scan_annotations: str = 'all',
                 require_dense: Optional[bool] = None,
                 mode: Optional[str] = None,
                 sequences: Optional[List[str]] = None,
                 **kwargs) -> None:
        self.year = str(year)
        if self.year not in ('2016', '2017'):
            raise ValueError(f"DAVIS year must be '2016' or '2017', got {year!r}")
        self.split = split
        self.resolution = resolution
        self.scan_annotations = scan_annotations
        self.require_dense = require_dense
        super().__init__(
            mode=mode, sequences=sequences, data_root=data_root, ann_file=ann_file, **kwargs)

    @property
    def single_object(self) -> bool:
        return self.year == '2016'

    def load_sequences(self) -> List[Dict]:
        return load_davis_sequences(
            self.data_root,
            year=self.year,
            split=self.split,
            resolution=self.resolution,
            imageset_file=self.ann_file or None,
            scan_annotations=self.scan_annotations,
            require_dense=self.require_dense,
            sequences=self.sequence_filter)
