"""MMEngine metrics of single-object tracking: ``OPEMetric`` (success AUC,
precision, normalised precision) and ``GOT10kMetric`` (AO, SR0.5, SR0.75).

Input: one data sample per frame
--------------------------------
``process`` takes the tracker's per-frame outputs, either plain dicts or
``BaseDataElement`` s (e.g. mmtracking-style ``TrackDataSample``) whose
metainfo / fields hold:

=====================  =====================================================
``video_id``           int, sequence index (dataset ``video_id``); required
``frame_id``           int, 0-based frame index; required
``video_length``       int, frames in the sequence; required
``video_name``         str, sequence name (result file names); optional
``pred_bbox``          (4,) predicted box **x1, y1, x2, y2** in original
                       image pixels; or ``pred_track_instances.bboxes``
                       (1, 4) xyxy (mmtracking 1.x). Tensor or array.
``gt_bbox``            (4,) ground-truth xyxy (the dataset's test-mode
                       ``gt_bbox``; NaN = no annotation); or
                       ``gt_instances.bboxes`` (1, 4)
``visible``            bool, target visible (dataset ``visible``); default True
``target_visible``     bool, optional: the visibility *labels* alone (LaSOT:
                       not fully occluded and not out of view), without the
                       box check that ``visible`` includes; the OPE rules use
                       it where given, else ``visible`` (they only differ on
                       a zero-size box the labels call visible, which
                       pytracking's LaSOT rule treats differently)
``has_gt``             bool, the frame has a ground-truth box; default:
                       ``gt_bbox`` present and finite
``ori_shape``          (h, w), optional: GOT-10k clips boxes to the image
``time``               float seconds spent on the frame, optional (GOT-10k
                       ``{seq}_time.txt``; 0 = unknown)
=====================  =====================================================

Every frame of every sequence must arrive exactly once (any order, any rank:
frames are regrouped by ``video_id`` and sorted by ``frame_id``).

The conventions (thresholds, first frame, absent frames, averaging) are those
of ``mmdropmae.evaluation.functional.sot_metrics``; see its docstring and
``docs/sot_evaluation.md``. Metric values are fractions in [0, 1].

``OPEMetric`` follows the analysis code of OSTrack / DropTrack / pytracking
(``lib/test/analysis/extract_results.py``, default
``exclude_invalid_frames=False``) for every dataset preset: every frame is in
the denominator, a frame with invalid or absent ground truth has overlap -1
(a success failure), centre error inf (a precision failure) and normalised
error -1 (a normalised-precision *pass*; LaSOT only: inf for frames the labels
mark invisible). ``absent='exclude'`` is the cleaner variant (such frames
leave the numerators and the denominator). ``GOT10kMetric`` follows the
official GOT-10k toolkit.
"""
import json
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmdropmae.registry import METRICS
from ..functional.sot_metrics import (ABSENT_RULES, FIRST_FRAME_RULES, GOT10K_THRESHOLDS,
                                      NORM_PRECISION_THRESHOLDS, PRECISION_THRESHOLDS,
                                      SUCCESS_THRESHOLDS, evaluate_got10k, evaluate_ope,
                                      ope_rules, xyxy_to_xywh)
from ..functional.sot_eval import evaluate_result_dir, load_sequences_gt
from ..functional.sot_results import LAYOUTS, atomic_write_text, write_sot_result
from .sample_utils import MISSING as _MISSING
from .sample_utils import get_sample_field


def _to_numpy(x) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def _instances_bbox(sample: Any, key: str):
    inst = get_sample_field(sample, key, None)
    if inst is None:
        return None
    bboxes = inst.get('bboxes') if isinstance(inst, dict) else getattr(inst, 'bboxes', None)
    if bboxes is None:
        return None
    b = _to_numpy(bboxes).reshape(-1, 4)
    return b[0] if len(b) else None


def parse_sot_sample(sample: Any) -> dict:
    """Normalise one per-frame sample (see the module docstring) to
    ``dict(video_id, video_name, frame_id, video_length, pred (4,) xyxy,
    gt (4,) xyxy (NaN if none), visible, target_visible (None if not given),
    has_gt, ori_shape, time)``."""
    out = {}
    for key in ('video_id', 'frame_id', 'video_length'):
        v = get_sample_field(sample, key)
        if v is _MISSING:
            raise KeyError(f'SOT metric: data sample has no {key!r} (keys: '
                           f'{list(sample.keys()) if isinstance(sample, dict) else sample}')
        out[key] = int(v)
    name = get_sample_field(sample, 'video_name', None)
    out['video_name'] = str(name) if name is not None else str(out['video_id'])
    pred = _instances_bbox(sample, 'pred_track_instances')
    if pred is None:
        p = get_sample_field(sample, 'pred_bbox', None)
        if p is None:
            raise KeyError('SOT metric: data sample has neither pred_track_instances.bboxes '
                           'nor pred_bbox')
        pred = _to_numpy(p).reshape(4)
    out['pred'] = np.asarray(pred, np.float64).reshape(4)
    gt = get_sample_field(sample, 'gt_bbox', None)
    gt = _to_numpy(gt).reshape(4) if gt is not None else _instances_bbox(sample, 'gt_instances')
    out['gt'] = np.full(4, np.nan) if gt is None else np.asarray(gt, np.float64).reshape(4)
    has_gt = get_sample_field(sample, 'has_gt', None)
    out['has_gt'] = bool(np.isfinite(out['gt']).all()) if has_gt is None else \
        bool(has_gt) and bool(np.isfinite(out['gt']).all())
    vis = get_sample_field(sample, 'visible', None)
    if vis is None:
        inst = get_sample_field(sample, 'gt_instances', None)
        vis = getattr(inst, 'visible', None) if inst is not None and not isinstance(inst, dict) \
            else (inst.get('visible') if isinstance(inst, dict) else None)
    out['visible'] = True if vis is None else bool(np.asarray(_to_numpy(vis)).reshape(-1)[0])
    tvis = get_sample_field(sample, 'target_visible', None)
    out['target_visible'] = None if tvis is None else \
        bool(np.asarray(_to_numpy(tvis)).reshape(-1)[0])
    shape = get_sample_field(sample, 'ori_shape', None)
    out['ori_shape'] = tuple(int(s) for s in shape[:2]) if shape is not None else None
    t = get_sample_field(sample, 'time', None)
    out['time'] = float(t) if t is not None else 0.0
    return out


def group_sot_results(results: List[dict]) -> List[dict]:
    """Regroup parsed per-frame results into sequences ordered by
    ``video_id``; checks that every frame 0..L-1 is there exactly once.

    Returns:
        list[dict]: ``video_id``, ``video_name``, ``pred`` (L, 4) xywh,
        ``gt`` (L, 4) xywh (NaN rows = no annotation), ``visible`` (L,),
        ``target_visible`` (L,) (the samples' ``target_visible``, else
        ``visible``), ``has_gt`` (L,), ``ori_shape``, ``times`` (L,).
    """
    by_video: Dict[int, dict] = {}
    for r in results:
        v = by_video.setdefault(r['video_id'], dict(name=r['video_name'],
                                                    length=r['video_length'], frames={}))
        if r['frame_id'] in v['frames']:
            raise ValueError(f'SOT metric: frame {r["frame_id"]} of sequence {v["name"]!r} '
                             'was received twice (does the sampler repeat frames?)')
        v['frames'][r['frame_id']] = r
    seqs = []
    for vid in sorted(by_video):
        v = by_video[vid]
        n = v['length']
        missing = [f for f in range(n) if f not in v['frames']]
        if missing:
            raise ValueError(f'SOT metric: sequence {v["name"]!r} has {n - len(missing)} of '
                             f'{n} frames (missing e.g. {missing[:5]}); use VideoSampler and '
                             'run every frame')
        frames = [v['frames'][f] for f in range(n)]
        seqs.append(dict(
            video_id=vid, video_name=v['name'],
            pred=xyxy_to_xywh(np.stack([f['pred'] for f in frames])),
            gt=xyxy_to_xywh(np.stack([f['gt'] for f in frames])),
            visible=np.array([f['visible'] and f['has_gt'] for f in frames], bool),
            target_visible=np.array(
                [(f['visible'] if f.get('target_visible') is None else f['target_visible'])
                 and f['has_gt'] for f in frames], bool),
            has_gt=np.array([f['has_gt'] for f in frames], bool),
            ori_shape=frames[0]['ori_shape'],
            times=np.array([f['time'] for f in frames], np.float64)))
    return seqs


class _BaseSOTMetric(BaseMetric):
    """Shared parts: per-frame collection, regrouping, result files."""
    default_layout = 'pytracking'

    def __init__(self, outfile_prefix: Optional[str] = None, format_only: bool = False,
                 result_layout: Optional[str] = None, curves_file: Optional[str] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if format_only and not outfile_prefix:
            raise ValueError('format_only=True needs outfile_prefix (the result folder)')
        self.outfile_prefix = outfile_prefix
        self.format_only = format_only
        layout = (result_layout or self.default_layout).lower()
        if layout not in LAYOUTS:
            raise ValueError(f'unknown result_layout {layout!r}; choose from {LAYOUTS}')
        self.result_layout = layout
        self.curves_file = curves_file
        self.last_results: Optional[dict] = None
        self._open_videos: Dict[int, List[dict]] = {}

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Store one parsed record per frame (see the module docstring).

        With ``outfile_prefix``, a sequence's result file is written as soon
        as its last frame arrives, so an interrupted run keeps every finished
        sequence (``tools/test.py --resume-results`` then skips them).
        """
        for s in data_samples:
            record = parse_sot_sample(s)
            self.results.append(record)
            if not self.outfile_prefix:
                continue
            frames = self._open_videos.setdefault(record['video_id'], [])
            frames.append(record)
            if len(frames) == record['video_length']:
                self.write_results(
                    group_sot_results(self._open_videos.pop(record['video_id'])),
                    verbose=False)

    def write_results(self, seqs: List[dict], verbose: bool = True) -> None:
        """Write every sequence's boxes in ``result_layout`` under
        ``outfile_prefix`` (atomically)."""
        for s in seqs:
            write_sot_result(self.outfile_prefix, s['video_name'], s['pred'], self.result_layout,
                             times=s['times'])
        if verbose:
            print_log(f'SOT results of {len(seqs)} sequences written to '
                      f'{self.outfile_prefix} ({self.result_layout} layout)', logger='current')

    def compute_metrics(self, results: list) -> dict:
        seqs = group_sot_results(results)
        if self.outfile_prefix:
            self.write_results(seqs)
        if self.format_only:
            return {}
        complete = [s for s in seqs if s['has_gt'].all()]
        if len(complete) < len(seqs):
            print_log(f'{type(self).__name__}: {len(seqs) - len(complete)} of {len(seqs)} '
                      'sequences have no full ground truth (test split?): not scored; set '
                      'format_only=True and submit the result files', logger='current',
                      level=30)
        if not complete:
            return {}
        metrics, curves = self.score(complete)
        self.last_results = curves
        if self.curves_file:
            atomic_write_text(self.curves_file, json.dumps(
                {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in curves.items()
                 if k != 'per_sequence'}, indent=1))
        return metrics

    def score(self, seqs: List[dict]):
        raise NotImplementedError

    # ------------------------------------------------------------ resuming
    # ``tools/test.py --resume-results`` asks the test evaluator's metrics for
    # these two class methods; any metric that writes per-video result files
    # can offer them.
    @classmethod
    def _layout_of(cls, cfg: dict) -> str:
        return cfg.get('result_layout') or cls.default_layout

    @classmethod
    def resume_dataset_cfg(cls, cfg: dict) -> dict:
        """Test-dataset overrides that skip the sequences whose result files
        under ``outfile_prefix`` are complete (``BaseSOTDataset``'s
        ``skip_finished``)."""
        if not cfg.get('outfile_prefix'):
            raise ValueError(f'--resume-results: the {cfg.get("type")} test evaluator needs '
                             'outfile_prefix (the folder of the result files)')
        return dict(skip_finished=dict(root=cfg['outfile_prefix'], layout=cls._layout_of(cfg)))

    @classmethod
    def report_resumed(cls, runner, cfg: dict) -> None:
        """After a resumed run, score every sequence (this run's and the
        earlier runs') from the result folder, and log the table."""
        dataset = runner.test_dataloader.dataset
        if not getattr(dataset, 'skipped_videos', None) or cfg.get('format_only'):
            return
        seqs = load_sequences_gt(dataset)
        result = evaluate_result_dir(seqs, cfg['outfile_prefix'], cls._dataset_name(cfg),
                                     dataset.skip_finished['layout'], absent=cfg.get('absent'),
                                     first_frame=cfg.get('first_frame'),
                                     use_visible=cfg.get('use_visible'))
        table = '  '.join(f'{k}: {v:.4f}' for k, v in result['metrics'].items())
        print_log(f'all {len(seqs)} sequences ({len(dataset.skipped_videos)} from earlier '
                  f'runs) scored from {cfg["outfile_prefix"]}: {table}', logger=runner.logger)

    @classmethod
    def _dataset_name(cls, cfg: dict) -> str:
        return cfg.get('dataset', 'default')


@METRICS.register_module()
class OPEMetric(_BaseSOTMetric):
    """One-pass evaluation: success AUC, precision@20px, normalised
    precision@0.2, with the rules of OSTrack's / DropTrack's / pytracking's
    ``lib/test/analysis/extract_results.py`` (see
    ``mmdropmae.evaluation.functional.sot_metrics`` and
    ``docs/sot_evaluation.md``).

    Every preset keeps every frame in the denominator (the reference's
    default ``exclude_invalid_frames=False``) and replaces the first
    prediction by the ground truth. A frame is valid when its ground-truth
    box has ``w > 0`` and ``h > 0`` and, for ``'lasot'`` / ``'lasot_ext'``
    (whose reference dataset classes pass ``target_visible``), the target is
    visible; an invalid frame fails success and precision and *passes*
    normalised precision, except on ``'lasot'``, where frames the labels mark
    invisible fail it too. ``'tnl2k'``, ``'trackingnet'``, ``'itb'``,
    ``'got10k'`` and ``'otb'`` ignore the visibility flags (GOT-10k's
    ``absence`` / ``cover``), as the reference does; ``'default'`` uses them.

    TrackingNet: the value printed as ``norm_precision`` is pytracking's,
    the normalised-precision curve at 0.20; the TrackingNet server reports
    the area under its 21-point curve over 0-0.5 instead (see
    ``docs/sot_evaluation.md``), so the two are not comparable.

    Args:
        dataset (str): Preset: ``'lasot'``, ``'lasot_ext'``, ``'tnl2k'``,
            ``'trackingnet'``, ``'itb'``, ``'got10k'``, ``'otb'`` or
            ``'default'`` (any other name). Defaults to ``'default'``.
        absent (str, optional): Override of the invalid-frame rule:
            ``'pytracking'`` (the presets' rule), ``'fail'`` (every invalid
            frame also fails normalised precision) or ``'exclude'`` (the
            cleaner variant: invalid frames leave the numerators and the
            denominator).
        first_frame (str, optional): Override: ``'gt'`` (default), ``'pred'``
            or ``'exclude'``.
        use_visible (bool, optional): Override: use the samples' visibility
            flags (``target_visible``, else ``visible``) or only the boxes.
        outfile_prefix (str, optional): Folder for the result files.
        format_only (bool): Only write the result files (test splits).
        result_layout (str, optional): Defaults to ``dataset`` when it is a
            known layout, else ``'pytracking'`` (``{seq}.txt``).
        curves_file (str, optional): JSON file for the averaged curves.

    Metrics (fractions): ``auc``, ``precision``, ``norm_precision``,
    ``success_rate_50``. ``self.last_results`` keeps the curves
    (``success_curve`` over ``SUCCESS_THRESHOLDS`` etc.), the rules used and
    the per-sequence data.
    """

    def __init__(self, dataset: str = 'default', absent: Optional[str] = None,
                 first_frame: Optional[str] = None, use_visible: Optional[bool] = None,
                 result_layout: Optional[str] = None, **kwargs) -> None:
        self.dataset = dataset.lower()
        rules = ope_rules(self.dataset)
        self.absent = absent or rules['absent']
        self.first_frame = first_frame or rules['first_frame']
        self.use_visible = rules['use_visible'] if use_visible is None else bool(use_visible)
        if self.absent not in ABSENT_RULES:
            raise ValueError(f'OPEMetric: absent must be one of {ABSENT_RULES}, '
                             f'got {absent!r}')
        if self.first_frame not in FIRST_FRAME_RULES:
            raise ValueError(f'OPEMetric: first_frame must be one of {FIRST_FRAME_RULES}, '
                             f'got {first_frame!r}')
        super().__init__(
            result_layout=self._layout_of(dict(dataset=dataset, result_layout=result_layout)),
            **kwargs)

    @classmethod
    def _layout_of(cls, cfg: dict) -> str:
        """The result layout of a metric config: ``result_layout``, else the
        dataset's when it is a known layout, else ``'pytracking'``."""
        dataset = cfg.get('dataset', 'default').lower()
        return cfg.get('result_layout') or (dataset if dataset in LAYOUTS else 'pytracking')

    def score(self, seqs):
        res = evaluate_ope([s['pred'] for s in seqs], [s['gt'] for s in seqs],
                           [s['target_visible'] for s in seqs], dataset=self.dataset,
                           absent=self.absent, first_frame=self.first_frame,
                           use_visible=self.use_visible)
        res['sequence_names'] = [s['video_name'] for s in seqs]
        res['success_thresholds'] = SUCCESS_THRESHOLDS
        res['precision_thresholds'] = PRECISION_THRESHOLDS
        res['norm_precision_thresholds'] = NORM_PRECISION_THRESHOLDS
        metrics = OrderedDict(auc=res['auc'], precision=res['precision'],
                              norm_precision=res['norm_precision'],
                              success_rate_50=res['success_rate_50'])
        return metrics, res


@METRICS.register_module()
class GOT10kMetric(_BaseSOTMetric):
    """GOT-10k AO, SR0.5, SR0.75 (official toolkit conventions: first frame
    and invisible frames excluded, continuous IoU clipped to the image,
    frame-averaged). Results default to the GOT-10k layout
    (``{seq}/{seq}_001.txt`` + ``{seq}_time.txt``).

    Metrics (fractions): ``ao``, ``sr50``, ``sr75``.
    ``self.last_results`` keeps ``success_curve`` (101 thresholds) and
    ``per_sequence_ao``.
    """
    default_layout = 'got10k'

    @classmethod
    def _dataset_name(cls, cfg: dict) -> str:
        return 'got10k'

    def score(self, seqs):
        bounds = [(s['ori_shape'][1], s['ori_shape'][0]) if s['ori_shape'] else None
                  for s in seqs]
        res = evaluate_got10k([s['pred'] for s in seqs], [s['gt'] for s in seqs],
                              [s['visible'] for s in seqs], bounds)
        res['sequence_names'] = [s['video_name'] for s in seqs]
        res['success_thresholds'] = GOT10K_THRESHOLDS
        return OrderedDict(ao=res['ao'], sr50=res['sr50'], sr75=res['sr75']), res
