"""Base class of the single-object-tracking (SOT) datasets.

The data list holds **one entry per sequence** (mmtracking 1.x style). Every
loader (GOT-10k, LaSOT, TrackingNet, TNL2K, ITB, COCO) fills the same keys, so
training-pair samplers, the test loop and the metrics see one API.

Sequence entry (``dataset.get_sequence(video_idx)``)
---------------------------------------------------
=================  ==========================================================
key                meaning
=================  ==========================================================
``video_id``       int, index of the sequence in this dataset (0-based)
``video_name``     str, the sequence name of the benchmark (``airplane-1``,
                   ``GOT-10k_Val_000001``); result files are named after it
``num_frames``     int, N
``frame_paths``    list[str] of N absolute image paths, frame order
``gt_bboxes``      ``float32`` (M, 4) boxes **x, y, w, h in pixels, 0-based**
                   (top-left corner, as in the benchmarks' text files).
                   M == N, or M == 1 for test splits that publish the
                   first-frame box only (GOT-10k test, TrackingNet test).
                   Rows given as NaN in the file (absent target) are stored
                   as zeros, with ``visible`` False.
``ann_complete``   bool, False when only the first-frame box is known
``init_bbox``      ``float32`` (4,) xywh box of frame 0 (``gt_bboxes[0]``)
``visible``        ``bool`` (M,): the target is visible and its box is valid.
                   False where the dataset flags it absent (GOT-10k
                   ``absence.label``, LaSOT ``full_occlusion`` or
                   ``out_of_view``), where the box is NaN or where
                   ``w <= bbox_min_size`` or ``h <= bbox_min_size``
``absent``         ``bool`` (M,), ``~visible``
``img_shape``      ``(h, w)`` when known from the annotation, else ``None``
``attrs``          dict of the raw per-frame labels a format provides
                   (``absence``, ``cover``, ``cut_by_image``,
                   ``full_occlusion``, ``out_of_view``: int arrays (M,)),
                   ``{}`` if none
``language``       str, natural-language description (TNL2K, LaSOT
                   ``nlp.txt`` when present), else ``''``
``dataset``        str, short dataset name (``got10k``, ``lasot``, ...)
=================  ==========================================================

Internally a sequence stores ``img_dir`` and either ``frame_names`` or a
``frame_template`` (e.g. ``'{:08d}.jpg'``) with ``start_frame`` instead of the
full path list, to keep 30k-sequence datasets small in memory.

Train mode (``test_mode=False``)
-------------------------------
``len(dataset)`` is the number of sequences and ``dataset[i]`` runs the
pipeline on ``get_sequence(i)`` (no pipeline = the dict itself). Pair samplers
use ``num_videos``, ``get_len_per_video``, ``get_ann_infos_from_video``
(boxes in **xyxy** there, mmtracking 1.x compatible) and
``get_img_infos_from_video``.

Test mode (``test_mode=True``): flat per-frame view
--------------------------------------------------
``len(dataset)`` is the total number of frames of all sequences, in sequence
order then frame order, and ``dataset.get_data_info(i)`` is one frame:

=================  ==========================================================
``img_path``       str, the frame image
``frame_id``       int, 0-based index of the frame in its sequence
``video_id``       int, sequence index
``video_name``     str
``video_length``   int, N
``gt_bbox``        ``float32`` (4,) **x1, y1, x2, y2** (xyxy, pixels); NaN
                   when the frame has no annotation (test splits)
``gt_bbox_xywh``   ``float32`` (4,) the same box as in the file (xywh)
``init_bbox``      ``float32`` (4,) xyxy box of frame 0 (what a tracker is
                   initialised with)
``visible``        bool, see above (False when the frame has no annotation)
``target_visible`` bool, the visibility *labels* alone (LaSOT's occlusion /
                   out-of-view, GOT-10k's absence), or None when the data set
                   has none or the frame has no annotation
``has_gt``         bool, the frame has a ground-truth box
``ori_shape``      ``(h, w)`` when known, else ``None`` (the image loading
                   transform sets it)
``dataset``        str
``sample_idx``     int, the flat index
=================  ==========================================================

``VideoSampler`` (``mmdropmae.datasets.samplers``) gives each rank whole
sequences, in order, so that a tracker sees every frame of a sequence in
order on one process.
"""
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mmdropmae.registry import DATASETS
from mmdropmae.structures.bbox import box_xywh_to_xyxy
from mmdropmae.utils.constants import IMG_EXTENSIONS
from mmdropmae.utils.fileio import (list_image_files, natural_key, parse_box_rows,
                                    sot_result_complete)

__all__ = [
    'IMG_EXTENSIONS', 'SOTAnnotationError', 'natural_key', 'list_sot_frames', 'parse_box_rows',
    'read_bbox_file', 'read_label_file', 'read_name_list', 'BaseSOTDataset'
]


class SOTAnnotationError(ValueError):
    """A missing, short or malformed SOT annotation file (the message names
    the file)."""


def list_sot_frames(img_dir: str, extensions: Sequence[str] = IMG_EXTENSIONS) -> List[str]:
    """Image file names (with their ending) in ``img_dir`` in natural order
    (:func:`mmdropmae.utils.fileio.list_image_files`).

    Args:
        img_dir (str): The frame folder.
        extensions (Sequence[str]): Lower-case endings that count as images.

    Returns:
        list[str]: File names, possibly none.

    Raises:
        SOTAnnotationError: if the folder does not exist.
    """
    return list_image_files(img_dir, extensions, error_cls=SOTAnnotationError)


def read_bbox_file(path: str, num_frames: Optional[int] = None,
                   allow_first_only: bool = False) -> np.ndarray:
    """Read a box file of ``x, y, w, h`` rows (comma, tab or space separated).

    ``NaN``/``nan`` values are kept as NaN (callers flag those frames
    absent). Empty trailing lines are ignored.

    Args:
        path (str): The text file.
        num_frames (int, optional): Number of frames of the sequence; fewer
            rows (or more) raise unless ``allow_first_only`` and one row.
        allow_first_only (bool): Accept a single row (test splits).

    Returns:
        np.ndarray: ``float32`` (M, 4).

    Raises:
        SOTAnnotationError: missing file, a row without exactly 4 numbers, a
            non-numeric value, or a row count that does not match
            ``num_frames``. The message names the file and the line.
    """
    rows = parse_box_rows(path, SOTAnnotationError, 'annotation')
    if not len(rows):
        raise SOTAnnotationError(f'{path}: empty annotation file')
    boxes = rows.astype(np.float32)
    if num_frames is not None and len(boxes) != num_frames:
        if not (allow_first_only and len(boxes) == 1):
            what = 'fewer' if len(boxes) < num_frames else 'more'
            raise SOTAnnotationError(
                f'{path}: {len(boxes)} boxes for {num_frames} frames ({what} boxes than '
                'frames)')
    return boxes


def read_label_file(path: str, num_frames: Optional[int] = None,
                    dtype=np.int64) -> np.ndarray:
    """Read per-frame integer labels: one per line (GOT-10k ``*.label``) or
    comma separated on one line (LaSOT ``full_occlusion.txt``).

    Raises:
        SOTAnnotationError: missing file, non-integer value or wrong length.
    """
    if not osp.isfile(path):
        raise SOTAnnotationError(f'label file not found: {path}')
    with open(path, 'r') as f:
        text = f.read()
    tokens = [t for t in re.split(r'[,\s]+', text) if t]
    try:
        values = np.asarray([int(float(t)) for t in tokens], dtype=dtype)
    except ValueError:
        raise SOTAnnotationError(f'{path}: non-integer label value') from None
    if num_frames is not None and len(values) != num_frames:
        raise SOTAnnotationError(
            f'{path}: {len(values)} labels for {num_frames} frames')
    return values


def read_name_list(path: str) -> List[str]:
    """Non-empty stripped lines of a list file (``list.txt``, split files)."""
    if not osp.isfile(path):
        raise SOTAnnotationError(f'list file not found: {path}')
    with open(path, 'r') as f:
        return [ln.strip() for ln in f if ln.strip()]


@DATASETS.register_module()
class BaseSOTDataset(BaseDataset):
    """Base SOT dataset: one data-list entry per sequence; a flat per-frame
    view in ``test_mode``. See the module docstring for the exact keys.

    Subclasses implement :meth:`load_data_list` and build each entry with
    :meth:`make_sequence`.

    Args:
        bbox_min_size (float): Boxes with ``w <= bbox_min_size`` or
            ``h <= bbox_min_size`` are not ``visible``. Defaults to 0.
        check_frames (bool): List every frame folder and check the number of
            frames against the annotation (a clear error names the file on a
            mismatch). Off = trust the annotation and the frame-name template
            (faster on huge datasets). Defaults to True.
        **kwargs: ``mmengine.dataset.BaseDataset`` arguments (``data_root``,
            ``ann_file``, ``data_prefix``, ``pipeline``, ``test_mode``,
            ``indices`` (sequence indices), ``serialize_data``, ...).
    """

    METAINFO = dict(dataset_type='sot', name='sot')
    DATASET_NAME = 'sot'

    def __init__(self,
                 *args,
                 bbox_min_size: float = 0.,
                 check_frames: bool = True,
                 skip_finished: Optional[dict] = None,
                 **kwargs):
        self.bbox_min_size = float(bbox_min_size)
        self.check_frames = check_frames
        self.skip_finished = skip_finished
        self.skipped_videos: List[str] = []
        self._frame_offsets: Optional[np.ndarray] = None
        self._cache_idx = -1
        self._cache_info: Optional[dict] = None
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------ building
    def make_sequence(self,
                      video_name: str,
                      img_dir: str,
                      gt_bboxes: np.ndarray,
                      num_frames: Optional[int] = None,
                      frame_names: Optional[List[str]] = None,
                      frame_template: Optional[str] = None,
                      start_frame: int = 1,
                      absent: Optional[np.ndarray] = None,
                      attrs: Optional[Dict[str, np.ndarray]] = None,
                      img_shape=None,
                      language: str = '',
                      ann_path: str = '') -> dict:
        """Build one validated sequence entry.

        Args:
            video_name (str): Sequence name.
            img_dir (str): Folder of the frames.
            gt_bboxes (np.ndarray): (M, 4) xywh, NaN rows allowed.
            num_frames (int, optional): N; defaults to ``len(frame_names)``
                or M.
            frame_names (list[str], optional): Explicit frame file names.
            frame_template (str, optional): e.g. ``'{:08d}.jpg'``; frame k
                (0-based) is ``frame_template.format(start_frame + k)``.
            start_frame (int): Number of the first frame file.
            absent (np.ndarray, optional): (M,) bool flags from the dataset.
            attrs (dict, optional): raw per-frame label arrays.
            img_shape (tuple, optional): ``(h, w)``.
            language (str): Description.
            ann_path (str): The box file (named in errors).
        """
        gt = np.asarray(gt_bboxes, dtype=np.float32).reshape(-1, 4)
        if num_frames is None:
            num_frames = len(frame_names) if frame_names is not None else len(gt)
        if frame_names is not None and len(frame_names) != num_frames:
            raise SOTAnnotationError(
                f'{video_name}: {len(frame_names)} frames in {img_dir}, expected {num_frames}')
        if len(gt) != num_frames and len(gt) != 1:
            what = 'fewer' if len(gt) < num_frames else 'more'
            raise SOTAnnotationError(
                f'{ann_path or video_name}: {len(gt)} boxes for {num_frames} frames '
                f'({what} boxes than frames)')
        if num_frames == 0:
            raise SOTAnnotationError(f'{video_name}: no frames in {img_dir}')
        nan_rows = ~np.isfinite(gt).all(1)
        gt[nan_rows] = 0.
        visible = ~nan_rows & (gt[:, 2] > self.bbox_min_size) & (gt[:, 3] > self.bbox_min_size)
        if absent is not None:
            absent = np.asarray(absent, dtype=bool).reshape(-1)
            if len(absent) != len(gt):
                raise SOTAnnotationError(
                    f'{video_name}: {len(absent)} absence flags for {len(gt)} boxes')
            visible &= ~absent
        # the visibility labels alone (LaSOT: ~full_occlusion & ~out_of_view),
        # which pytracking's analysis uses apart from the box check
        target_visible = None if absent is None else ~absent
        if frame_names is None and frame_template is None:
            raise ValueError('either frame_names or frame_template is required')
        if frame_names is not None and frame_template is not None and all(
                n == frame_template.format(start_frame + k) for k, n in enumerate(frame_names)):
            frame_names = None  # the template reproduces them: store it only
        return dict(
            video_name=video_name,
            img_dir=img_dir,
            frame_names=list(frame_names) if frame_names is not None else None,
            frame_template=frame_template,
            start_frame=int(start_frame),
            num_frames=int(num_frames),
            gt_bboxes=gt,
            ann_complete=bool(len(gt) == num_frames),
            visible=visible,
            target_visible=target_visible,
            img_shape=tuple(int(v) for v in img_shape) if img_shape is not None else None,
            attrs=dict(attrs or {}),
            language=language,
            dataset=self.DATASET_NAME)

    def load_data_list(self) -> List[dict]:
        """Return the list of sequence entries (see :meth:`make_sequence`)."""
        raise NotImplementedError

    def full_init(self):
        if self._fully_initialized:
            return
        super().full_init()
        self._build_index()

    def _build_index(self):
        self._cache_idx, self._cache_info = -1, None
        lengths = np.asarray([self._raw_info(i)['num_frames'] for i in range(self.num_videos)],
                             dtype=np.int64)
        if self.test_mode and self.skip_finished:
            # resume an interrupted test run: sequences with a complete
            # result file get no frames in the per-frame view
            root = self.skip_finished['root']
            layouts = [self.skip_finished.get('layout', 'got10k'), 'got10k', 'lasot']
            for i, name in enumerate(self.video_names):
                if any(sot_result_complete(root, name, lay, int(lengths[i]))
                       for lay in layouts):
                    lengths[i] = 0
                    self.skipped_videos.append(name)
            print_log(f'{type(self).__name__}: skipping {len(self.skipped_videos)} of '
                      f'{len(lengths)} sequences with complete results in {root}',
                      logger='current')
        self._lengths = lengths
        self._frame_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)

    # ------------------------------------------------------ sequence access
    @property
    def num_videos(self) -> int:
        """Number of sequences."""
        if self.serialize_data:
            return len(self.data_address)
        return len(self.data_list)

    def _raw_info(self, video_idx: int) -> dict:
        if video_idx == self._cache_idx and self._cache_info is not None:
            return self._cache_info
        info = BaseDataset.get_data_info(self, video_idx)
        info.pop('sample_idx', None)
        self._cache_idx, self._cache_info = video_idx, info
        return info

    @staticmethod
    def _frame_path(info: dict, frame_id: int) -> str:
        if info['frame_names'] is not None:
            name = info['frame_names'][frame_id]
        else:
            name = info['frame_template'].format(info['start_frame'] + frame_id)
        return osp.join(info['img_dir'], name)

    def get_sequence(self, video_idx: int) -> dict:
        """The sequence entry ``video_idx`` with ``frame_paths``, ``absent``,
        ``init_bbox`` and ``video_id`` added (see the module docstring).
        Arrays are copies: callers may modify them."""
        if not self._fully_initialized:
            self.full_init()
        if video_idx < 0:
            video_idx += self.num_videos
        info = self._raw_info(video_idx)
        seq = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in info.items()}
        seq['attrs'] = {k: np.array(v) for k, v in info['attrs'].items()}
        seq['video_id'] = video_idx
        seq['frame_paths'] = [self._frame_path(info, k) for k in range(info['num_frames'])]
        seq['absent'] = ~seq['visible']
        seq['init_bbox'] = seq['gt_bboxes'][0].copy()
        return seq

    def get_len_per_video(self, video_idx: int) -> int:
        """Number of frames of sequence ``video_idx``."""
        if not self._fully_initialized:
            self.full_init()
        return int(self._lengths[video_idx])

    def get_bboxes_from_video(self, video_idx: int) -> np.ndarray:
        """(M, 4) ``float32`` xywh ground-truth boxes of a sequence."""
        return self._raw_info(video_idx)['gt_bboxes'].copy()

    def get_visibility_from_video(self, video_idx: int) -> dict:
        """``dict(visible=(M,) bool)``."""
        return dict(visible=self._raw_info(video_idx)['visible'].copy())

    def get_ann_infos_from_video(self, video_idx: int) -> dict:
        """mmtracking 1.x style annotations of a sequence.

        Returns:
            dict: ``bboxes`` (M, 4) ``float32`` **xyxy**, ``bboxes_xywh``
            (M, 4), ``bboxes_isvalid`` (M,) bool (``w, h > bbox_min_size``),
            ``visible`` (M,) bool (already and-ed with ``bboxes_isvalid``).
        """
        info = self._raw_info(video_idx)
        xywh = info['gt_bboxes'].copy()
        isvalid = (xywh[:, 2] > self.bbox_min_size) & (xywh[:, 3] > self.bbox_min_size)
        xyxy = box_xywh_to_xyxy(xywh)
        return dict(bboxes=xyxy, bboxes_xywh=xywh, bboxes_isvalid=isvalid,
                    visible=info['visible'].copy())

    def get_img_infos_from_video(self, video_idx: int) -> dict:
        """``dict(video_id, video_name, frame_ids (N,) int, img_paths list)``."""
        info = self._raw_info(video_idx)
        n = info['num_frames']
        return dict(video_id=video_idx, video_name=info['video_name'],
                    frame_ids=np.arange(n),
                    img_paths=[self._frame_path(info, k) for k in range(n)])

    def get_frame_path(self, video_idx: int, frame_id: int) -> str:
        """Image path of frame ``frame_id`` (0-based) of a sequence."""
        return self._frame_path(self._raw_info(video_idx), frame_id)

    @property
    def video_names(self) -> List[str]:
        """Sequence names, in order."""
        return [self._raw_info(i)['video_name'] for i in range(self.num_videos)]

    # ------------------------------------------------- flat per-frame view
    def frame_index(self, idx: int):
        """Map a flat frame index to ``(video_idx, frame_id)``."""
        if not self._fully_initialized:
            self.full_init()
        total = int(self._frame_offsets[-1])
        if idx < 0:
            idx += total
        if not 0 <= idx < total:
            raise IndexError(f'frame index {idx} out of range ({total} frames)')
        video_idx = int(np.searchsorted(self._frame_offsets, idx, side='right') - 1)
        return video_idx, int(idx - self._frame_offsets[video_idx])

    def video_frame_range(self, video_idx: int) -> range:
        """Flat indices of the frames of sequence ``video_idx``."""
        if not self._fully_initialized:
            self.full_init()
        return range(int(self._frame_offsets[video_idx]), int(self._frame_offsets[video_idx + 1]))

    def get_frame_info(self, video_idx: int, frame_id: int) -> dict:
        """One frame as in the test-mode view (see the module docstring)."""
        info = self._raw_info(video_idx)
        n = info['num_frames']
        if not 0 <= frame_id < n:
            raise IndexError(f'frame {frame_id} out of range for {info["video_name"]} ({n})')
        gt = info['gt_bboxes']
        has_gt = frame_id < len(gt) and (info['ann_complete'] or frame_id == 0)
        labels = info.get('target_visible')
        target_visible = None
        if has_gt:
            xywh = gt[frame_id].copy()
            visible = bool(info['visible'][frame_id])
            if labels is not None:
                target_visible = bool(labels[frame_id])
        else:
            xywh = np.full(4, np.nan, np.float32)
            visible = False
        xyxy = box_xywh_to_xyxy(xywh)
        init = box_xywh_to_xyxy(gt[0])
        return dict(
            img_path=self._frame_path(info, frame_id),
            frame_id=int(frame_id),
            video_id=int(video_idx),
            video_name=info['video_name'],
            video_length=int(n),
            gt_bbox=xyxy,
            gt_bbox_xywh=xywh,
            init_bbox=init,
            visible=visible,
            target_visible=target_visible,
            has_gt=bool(has_gt),
            ori_shape=info['img_shape'],
            dataset=info['dataset'])

    def get_data_info(self, idx: int) -> dict:
        """Test mode: the frame ``idx`` of the flat view. Train mode: the
        sequence ``idx`` (:meth:`get_sequence`)."""
        if not self._fully_initialized:
            self.full_init()
        if self.test_mode:
            video_idx, frame_id = self.frame_index(idx)
            info = self.get_frame_info(video_idx, frame_id)
            info['sample_idx'] = int(idx if idx >= 0 else idx + len(self))
            return info
        seq = self.get_sequence(idx)
        seq['sample_idx'] = int(idx if idx >= 0 else idx + self.num_videos)
        return seq

    def __len__(self) -> int:
        """Number of frames (test mode) or of sequences (train mode)."""
        if not self._fully_initialized:
            self.full_init()
        if self.test_mode:
            return int(self._frame_offsets[-1])
        return self.num_videos

    def get_subset(self, indices):
        """A copy holding the sequences ``indices`` (sequence indices, also
        in test mode)."""
        sub = super().get_subset(indices)
        sub._build_index()
        return sub

    def get_subset_(self, indices):
        """Keep only the sequences ``indices`` (in place)."""
        super().get_subset_(indices)
        self._build_index()
