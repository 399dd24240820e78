"""TAP-Vid metric for ``tools/test.py``.

Each prediction is one video (``query_points`` (N, 3) (t, y, x),
``gt_tracks`` / ``pred_tracks`` (N, T, 2) (x, y), ``gt_occluded`` /
``pred_occluded`` (N, T), raster pixels of the evaluation resolution,
``video_name``, ``query_mode``). The per-video metrics are
:func:`~mmdropmae.evaluation.functional.compute_tapvid_metrics` (the port of
google-deepmind/tapnet ``tapnet/tapvid/evaluation_datasets.py``) with a
batch of one, and the benchmark value of each key is their plain mean over
videos, as the TAP-Vid evaluation reports it. Values are fractions in
[0, 1] (the paper prints them x 100).

With ``outfile_prefix`` the predictions of each video are written to
``{outfile_prefix}/{video_name}.npz`` (atomically; the arrays above plus
``query_mode``), the input of ``tools/analysis_tools/eval_tap.py``, and the
per-video and mean metrics to ``{outfile_prefix}/metrics.json``.
"""
import io
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmdropmae.registry import METRICS
from mmdropmae.utils.fileio import atomic_open, atomic_write_text
from ..functional.tap_metrics import TAPVID_KEYS, compute_tapvid_metrics
from .sample_utils import get_sample_field

PRED_KEYS = ('query_points', 'gt_tracks', 'gt_occluded', 'pred_tracks', 'pred_occluded')


def _np(x) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def save_tap_prediction(path: str, arrays: Dict[str, np.ndarray], query_mode: str) -> None:
    """Write one video's arrays (:data:`PRED_KEYS`) as an ``.npz``, atomically."""
    buf = io.BytesIO()
    np.savez_compressed(buf, query_mode=np.array(query_mode), **arrays)
    with atomic_open(path, 'wb', suffix='.npz') as f:
        f.write(buf.getvalue())


@METRICS.register_module()
class TAPVidMetric(BaseMetric):
    """TAP-Vid AJ, delta_avg and OA (see the module docstring).

    Args:
        query_mode (str, optional): 'first' or 'strided'; default: each
            sample's ``query_mode``.
        outfile_prefix (str, optional): Folder for per-video predictions
            and ``metrics.json``.
    """
    default_prefix: Optional[str] = 'tapvid'

    def __init__(self, query_mode: Optional[str] = None, outfile_prefix: Optional[str] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if query_mode not in (None, 'first', 'strided'):
            raise ValueError(f"query_mode must be 'first' or 'strided', got {query_mode!r}")
        self.query_mode = query_mode
        self.outfile_prefix = outfile_prefix

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        for s in data_samples:
            name = get_sample_field(s, 'video_name', None)
            arrays = {}
            for k in PRED_KEYS:
                v = get_sample_field(s, k, None)
                if v is None:
                    raise KeyError(f'video {name}: the prediction has no {k!r} (TAPVidMetric '
                                   f'needs {PRED_KEYS})')
                arrays[k] = _np(v)
            mode = self.query_mode or get_sample_field(s, 'query_mode', None)
            if mode is None:
                raise KeyError(f'video {name}: no query_mode (set TAPVidMetric.query_mode)')
            m = compute_tapvid_metrics(
                arrays['query_points'][None], arrays['gt_occluded'][None].astype(bool),
                arrays['gt_tracks'][None], arrays['pred_occluded'][None].astype(bool),
                arrays['pred_tracks'][None], mode)
            if self.outfile_prefix:
                save_tap_prediction(osp.join(self.outfile_prefix, f'{name}.npz'), arrays, mode)
            self.results.append(dict(video_name=name, query_mode=mode,
                                     num_queries=int(len(arrays['query_points'])),
                                     **{k: float(v[0]) for k, v in m.items()}))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        if not results:
            raise ValueError('TAPVidMetric: no videos were evaluated')
        out = {k: float(np.mean([r[k] for r in results])) for k in TAPVID_KEYS}
        lines = [f'{"video":<24}{"AJ":>8}{"<d_avg":>8}{"OA":>8}{"queries":>9}']
        for r in results:
            lines.append(f'{str(r["video_name"]):<24}{100 * r["average_jaccard"]:8.2f}'
                         f'{100 * r["average_pts_within_thresh"]:8.2f}'
                         f'{100 * r["occlusion_accuracy"]:8.2f}{r["num_queries"]:9d}')
        lines.append(f'{"mean (" + str(len(results)) + " videos)":<24}'
                     f'{100 * out["average_jaccard"]:8.2f}'
                     f'{100 * out["average_pts_within_thresh"]:8.2f}'
                     f'{100 * out["occlusion_accuracy"]:8.2f}')
        logger.info('TAP-Vid (x100)\n' + '\n'.join(lines))
        if self.outfile_prefix:
            atomic_write_text(osp.join(self.outfile_prefix, 'metrics.json'),
                              json.dumps(dict(mean=out, videos=results), indent=1))
        return out
