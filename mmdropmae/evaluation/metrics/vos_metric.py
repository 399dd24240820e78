"""MMEngine metric of semi-supervised video object segmentation: DAVIS J, F,
J&F (mean, recall, decay) and the YouTube-VOS seen/unseen split; optionally
writes the predictions as palette PNGs in the DAVIS or YouTube-VOS
submission layout.

Input: one data sample per frame
--------------------------------
``process`` takes the model's outputs: plain dicts or ``BaseDataElement`` s
whose fields / metainfo hold the keys below. The frame items of
:class:`~mmdropmae.datasets.vos.DAVISDataset` /
:class:`~mmdropmae.datasets.vos.YouTubeVOSDataset` (``mode='frame'``)
already carry every metainfo key; a model only adds ``pred_mask``.

=====================  =====================================================
``video_name``         str, sequence name (``video_id`` accepted instead);
                       required
``frame_id``           int, 0-based frame index in the sequence; required
``pred_mask``          (H, W) predicted object ids (0 = background) at the
                       frame's original size: numpy array, tensor, or an
                       object with ``.data`` (e.g. ``PixelData``); a leading
                       dim of 1 is squeezed; required
``gt_mask``            (H, W) ground-truth ids; or
``gt_mask_path``       its palette PNG (read here). Neither / None: the
                       frame is not evaluated (it is still written)
``frame_name``         str, file stem of the written PNG; default
                       ``'{frame_id:05d}'``
``num_frames``         int, frames in the sequence (last-frame rule);
                       default: highest ``frame_id`` seen + 1
``object_ids``         list[int], objects of the sequence; default: ids
                       found in the ground truth
``first_frames``       dict id -> first-appearance frame; default: first
                       frame where the id is in the ground truth
``object_categories``  dict id -> category (YouTube-VOS seen/unseen)
``single_object``      bool, DAVIS 2016: ground truth and prediction are
                       binarised (every non-zero id -> 1)
=====================  =====================================================

A sequence-level model may return all frames of its sequence(s) from one
``test_step`` call: the frames are regrouped by ``video_name`` and de-duplicated
by ``frame_id`` (first one wins), in any order and on any rank. J and F are
computed per frame in ``process`` (only a few numbers per object are kept),
so full-resolution masks are not accumulated.

Conventions (frames, empty masks, statistics, averaging): see
:mod:`mmdropmae.evaluation.functional.vos_metrics` and
``docs/vos_evaluation.md``. Values are fractions in [0, 1].
"""
import json
import os.path as osp
import shutil
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmdropmae.registry import METRICS
from mmdropmae.utils.fileio import load_vos_mask, write_palette_mask, youtube_vos_categories
from ..functional.vos_metrics import (GLOBAL_KEYS, format_vos_table, frame_object_scores,
                                      sequence_object_records, summarize_vos)
from .sample_utils import extend_per_item, flatten_items, get_sample_field

#: Layouts of the written results (``{prefix}`` = ``outfile_prefix``).
SUBMISSION_LAYOUTS = {
    'davis': '{prefix}/{video}/{frame}.png',
    'youtube_vos': '{prefix}/Annotations/{video}/{frame}.png',
}


def _to_ids(x: Any, what: str) -> np.ndarray:
    if hasattr(x, 'data') and not isinstance(x, np.ndarray) and not hasattr(x, 'detach'):
        x = x.data  # PixelData
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    while x.ndim > 2 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 2:
        raise ValueError(f'{what} must be a (H, W) map of object ids, got shape {x.shape}')
    if x.dtype == np.bool_:
        return x.astype(np.uint8)
    if not np.issubdtype(x.dtype, np.integer):
        if not np.all(np.mod(x, 1) == 0):
            raise ValueError(f'{what} must hold integer object ids, got non-integer values '
                             f'(dtype {x.dtype}); take the argmax of probabilities first')
        x = x.astype(np.int64)
    return x


def _int_keys(d: Optional[Dict]) -> Optional[Dict[int, Any]]:
    return None if d is None else {int(k): v for k, v in d.items()}


@METRICS.register_module()
class VOSMetric(BaseMetric):
    """DAVIS / YouTube-VOS evaluation of per-frame object-id predictions.

    Returns ``J&F-Mean, J-Mean, J-Recall, J-Decay, F-Mean, F-Recall,
    F-Decay`` (prefixed ``vos/`` by default), plus ``J-Seen, F-Seen,
    J-Unseen, F-Unseen, Overall`` when seen categories are known. Logs the
    DAVIS tables (global, per object, per sequence); the per-object records
    stay in ``self.per_object_results`` after evaluation.

    Args:
        bound_th (float): Boundary tolerance, fraction of the image diagonal
            (DAVIS: 0.008) or pixels when >= 1.
        exclude_first (bool): Skip each object's reference frame (and frames
            before it). DAVIS toolkit: True.
        exclude_last (bool): Skip the last frame of each video. DAVIS 2017
            toolkit: True.
        single_object (bool, optional): Force the DAVIS 2016 binarisation on
            or off; default: the samples' ``single_object``.
        seen_categories (Sequence[str], optional): Training categories, for
            the YouTube-VOS seen/unseen split.
        train_meta_file (str, optional): YouTube-VOS ``train/meta.json`` to
            take the seen categories from.
        outfile_prefix (str, optional): Write every prediction as a palette
            PNG under this folder.
        submission_layout (str): ``'davis'`` (``{prefix}/{video}/{frame}.png``)
            or ``'youtube_vos'`` (``{prefix}/Annotations/{video}/{frame}.png``).
        format_only (bool): Only write results (e.g. YouTube-VOS valid or DAVIS
            test-dev, whose ground truth is not public); needs
            ``outfile_prefix``.
        zip_results (bool): Also pack the written folder into
            ``{outfile_prefix}.zip`` for the evaluation servers.
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): Metric name prefix (default ``'vos'``).
    """

    default_prefix: Optional[str] = 'vos'

    def __init__(self,
                 bound_th: float = 0.008,
                 exclude_first: bool = True,
                 exclude_last: bool = True,
                 single_object: Optional[bool] = None,
                 seen_categories: Optional[Sequence[str]] = None,
                 train_meta_file: Optional[str] = None,
                 outfile_prefix: Optional[str] = None,
                 submission_layout: str = 'davis',
                 format_only: bool = False,
                 zip_results: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if submission_layout not in SUBMISSION_LAYOUTS:
            raise ValueError(f'submission_layout must be one of {list(SUBMISSION_LAYOUTS)}, '
                             f'got {submission_layout!r}')
        if (format_only or zip_results) and not outfile_prefix:
            raise ValueError('format_only / zip_results need outfile_prefix')
        self.bound_th = bound_th
        self.exclude_first = exclude_first
        self.exclude_last = exclude_last
        self.single_object = single_object
        if train_meta_file is not None:
            cats = set(youtube_vos_categories(train_meta_file))
            if seen_categories is not None:
                cats |= set(seen_categories)
            seen_categories = sorted(cats)
        self.seen_categories = None if seen_categories is None else list(seen_categories)
        self.outfile_prefix = outfile_prefix
        self.submission_layout = submission_layout
        self.format_only = format_only
        self.zip_results = zip_results
        self.per_object_results: List[Dict] = []

    def result_path(self, video: str, frame: str) -> str:
        """Where the PNG of ``frame`` of ``video`` is written."""
        return SUBMISSION_LAYOUTS[self.submission_layout].format(
            prefix=self.outfile_prefix, video=video, frame=frame)

    # ------------------------------------------------------------------ #
    def _process_one(self, sample: Any) -> Dict:
        video = get_sample_field(sample, 'video_name', None)
        if video is None:
            video = get_sample_field(sample, 'video_id', None)
        frame_id = get_sample_field(sample, 'frame_id', None)
        pred = get_sample_field(sample, 'pred_mask', None)
        if video is None or frame_id is None or pred is None:
            raise KeyError('VOSMetric needs video_name (or video_id), frame_id and pred_mask in '
                           f'every data sample; got keys {self._keys(sample)}')
        video = str(video)
        frame_id = int(frame_id)
        frame_name = str(get_sample_field(sample, 'frame_name', f'{frame_id:05d}'))
        where = f'{video!r} frame {frame_name}'
        pred = _to_ids(pred, f'pred_mask of {where}')
        single = self.single_object
        if single is None:
            single = bool(get_sample_field(sample, 'single_object', False))
        if single:
            pred = (pred > 0).astype(np.uint8)
        if self.outfile_prefix:
            write_palette_mask(self.result_path(video, frame_name), pred)
        num_frames = get_sample_field(sample, 'num_frames', None)
        object_ids = get_sample_field(sample, 'object_ids', None)
        record = dict(
            video_name=video,
            frame_id=frame_id,
            num_frames=None if num_frames is None else int(num_frames),
            object_ids=None if object_ids is None else [int(i) for i in object_ids],
            first_frames=_int_keys(get_sample_field(sample, 'first_frames', None)),
            categories=_int_keys(get_sample_field(sample, 'object_categories', None)),
            single=single,
            gt_ids=None,
            scores=None)
        if self.format_only:
            return record
        gt = get_sample_field(sample, 'gt_mask', None)
        if gt is None:
            path = get_sample_field(sample, 'gt_mask_path', None)
            if path:
                gt = load_vos_mask(path, single_object=single)
        if gt is None:
            return record
        gt = _to_ids(gt, f'gt_mask of {where}')
        gt = np.where(gt == 255, 0, gt)
        if single:
            gt = (gt > 0).astype(np.uint8)
        if gt.shape != pred.shape:
            raise ValueError(f'pred_mask of {where} is {pred.shape} but its ground truth is '
                             f'{gt.shape}: predict at the original frame size')
        gt_ids = [int(i) for i in np.unique(gt) if i != 0]
        if single:
            score_ids = [1]
        elif record['object_ids'] is not None:
            score_ids = record['object_ids']
        else:
            score_ids = None  # every id in gt or prediction; filtered later
        record['gt_ids'] = gt_ids
        record['scores'] = frame_object_scores(gt, pred, score_ids, self.bound_th)
        return record

    @staticmethod
    def _keys(sample: Any) -> List[str]:
        if isinstance(sample, dict):
            return sorted(sample)
        keys = []
        for fn in ('keys', 'metainfo_keys'):
            if callable(getattr(sample, fn, None)):
                keys += list(getattr(sample, fn)())
        return sorted(keys)

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Score (and write) each frame. One result entry is appended per
        data item of the batch so that MMEngine's ``collect_results``
        truncation by data set size stays right for frame- and
        sequence-level models."""
        extend_per_item(self.results, [self._process_one(s) for s in data_samples], data_batch)

    # ------------------------------------------------------------------ #
    def compute_metrics(self, results: List[List[Dict]]) -> Dict[str, float]:
        frames: Dict[tuple, Dict] = {}
        for rec in flatten_items(results):
            frames.setdefault((rec['video_name'], rec['frame_id']), rec)
        if self.zip_results:
            archive = shutil.make_archive(
                osp.abspath(self.outfile_prefix.rstrip('/\\')), 'zip',
                root_dir=self.outfile_prefix)
            print_log(f'VOS results packed into {archive}', logger='current')
        if self.format_only:
            print_log(f'{len(frames)} result frames written under {self.outfile_prefix} '
                      f'({self.submission_layout} layout); not evaluated (format_only)',
                      logger='current')
            return {}
        by_video: Dict[str, List[Dict]] = {}
        for (video, _), rec in sorted(frames.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            by_video.setdefault(video, []).append(rec)
        records: List[Dict] = []
        for video, recs in by_video.items():
            records.extend(self._video_records(video, recs))
        self.per_object_results = records
        if not records:
            print_log('VOSMetric: no frame had ground truth; nothing evaluated',
                      logger='current', level=30)
            return {}
        summary = summarize_vos(records, self.seen_categories)
        print_log('\n' + format_vos_table(summary, records), logger='current')
        if summary['num_skipped_objects']:
            print_log(f'VOSMetric: {summary["num_skipped_objects"]} object(s) had no evaluated '
                      'frame (first seen in the last frame) and were left out',
                      logger='current', level=30)
        if self.outfile_prefix:
            self._dump(summary, records)
        keys = list(GLOBAL_KEYS) + [
            k for k in ('J-Seen', 'F-Seen', 'J-Unseen', 'F-Unseen', 'Overall') if k in summary
        ]
        return {k: float(summary[k]) for k in keys}

    def _video_records(self, video: str, recs: List[Dict]) -> List[Dict]:
        scored = [r for r in recs if r['scores'] is not None]
        if not scored:
            return []
        num_frames = max(r['frame_id'] for r in recs) + 1
        object_ids = first_frames = categories = None
        for r in recs:
            if r['num_frames'] is not None:
                num_frames = max(num_frames, r['num_frames'])
            object_ids = object_ids if object_ids is not None else r['object_ids']
            first_frames = first_frames if first_frames is not None else r['first_frames']
            categories = categories if categories is not None else r['categories']
        gt_first: Dict[int, int] = {}
        for r in scored:
            for i in r['gt_ids']:
                gt_first.setdefault(i, r['frame_id'])
        ff = dict(gt_first)
        if first_frames is not None:
            ff.update(first_frames)
        if any(r['single'] for r in recs):
            # DAVIS 2016: every object merged into object 1, which starts
            # with the earliest object.
            object_ids = [1]
            ff = {1: min(ff.values()) if ff else 0}
        elif object_ids is None:
            object_ids = sorted(gt_first)
        frame_scores = {r['frame_id']: r['scores'] for r in scored}
        return sequence_object_records(video, frame_scores, object_ids, ff, num_frames,
                                       self.exclude_first, self.exclude_last, categories)

    def _dump(self, summary: Dict, records: List[Dict]) -> None:
        path = osp.join(self.outfile_prefix, 'vos_metrics.json')
        data = dict(
            summary=summary,
            objects=[{k: (v.tolist() if isinstance(v, np.ndarray) else v)
                      for k, v in r.items()} for r in records])
        with open(path, 'w') as f:
            json.dump(data, f, indent=1, default=float)
