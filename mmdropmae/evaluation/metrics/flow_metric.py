"""MMEngine metric of two-frame optical flow: EPE, 1/3/5-px and Fl-all as
RAFT's ``evaluate.py`` (princeton-vl/RAFT) computes them, and the writers of
the flow files and benchmark submission layouts.

Input: one data sample per image pair
-------------------------------------
``pred_flow``   (H, W, 2) predicted flow ``(u, v)`` at the pair's original
                size (numpy array or tensor; a (2, H, W) array is
                transposed); required
``gt_flow``     (H, W, 2) ground truth; absent / None: the pair is only
                written (test splits, ``format_only``)
``flow_valid``  (H, W) valid mask (KITTI/HD1K); used by ``protocol='kitti'``
``out_name``    relative output path without ending (the data sets set it:
                ``'00001'`` Chairs, ``'clean/alley_1/frame0001'`` Sintel,
                ``'000000_10'`` KITTI); default ``'{index:06d}'`` in arrival
                order

Protocols and conventions: :mod:`mmdropmae.evaluation.functional.flow_metrics`.
"""
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmdropmae.registry import METRICS
from ..functional.flow_io import write_flo, write_kitti_flow
from ..functional.flow_metrics import (FLOW_PROTOCOLS, flow_image_stats, format_flow_table,
                                       summarize_flow)
from .sample_utils import get_sample_field

#: Written file of a pair per layout (``{prefix}`` = ``outfile_prefix``,
#: ``{name}`` = the sample's ``out_name``).
#: ``sintel``: RAFT's ``create_sintel_submission`` names
#: ``{pass}/{scene}/frame%04d.flo`` (frame index + 1), the Sintel data set's
#: ``out_name``; ``kitti``: the KITTI-2015 server's zip holds a ``flow/``
#: folder of ``{image}_10.png`` 16-bit PNGs (RAFT's ``create_kitti_submission``
#: writes the same files without the folder); ``flo`` / ``png``: plain files.
SUBMISSION_LAYOUTS = {
    'flo': '{prefix}/{name}.flo',
    'png': '{prefix}/{name}.png',
    'sintel': '{prefix}/{name}.flo',
    'kitti': '{prefix}/flow/{name}.png',
}


def _to_hw2(x: Any, what: str) -> Optional[np.ndarray]:
    if x is None:
        return None
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[0] == 1:
        x = x[0]
    if x.ndim == 3 and x.shape[0] == 2 and x.shape[-1] != 2:
        x = x.transpose(1, 2, 0)
    if x.ndim != 3 or x.shape[-1] != 2:
        raise ValueError(f'{what} must be (H, W, 2) flow, got shape {x.shape}')
    return x.astype(np.float32)


def _to_hw(x: Any) -> Optional[np.ndarray]:
    if x is None:
        return None
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    while x.ndim > 2 and x.shape[0] == 1:
        x = x[0]
    return x


@METRICS.register_module()
class FlowMetric(BaseMetric):
    """Optical-flow evaluation (RAFT ``evaluate.py``) and result writing.

    Returns ``epe``, ``px1``, ``px3``, ``px5``, ``fl_all`` (fractions) and
    ``num_images``, prefixed ``flow/`` by default, and logs them as a table.

    Args:
        protocol (str): ``'chairs'`` / ``'sintel'`` (all pixels, pooled EPE)
            or ``'kitti'`` (valid pixels, per-image mean EPE, pooled Fl-all).
        outfile_prefix (str, optional): Write every prediction under this
            folder in ``submission_layout``.
        submission_layout (str): One of :data:`SUBMISSION_LAYOUTS`.
        format_only (bool): Only write results (test splits without ground
            truth); needs ``outfile_prefix``.
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): Metric name prefix (default ``'flow'``).
    """

    default_prefix: Optional[str] = 'flow'

    def __init__(self,
                 protocol: str = 'sintel',
                 outfile_prefix: Optional[str] = None,
                 submission_layout: str = 'flo',
                 format_only: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if protocol.lower() not in FLOW_PROTOCOLS:
            raise ValueError(f'unknown flow protocol {protocol!r}; choose from '
                             f'{FLOW_PROTOCOLS}')
        if submission_layout not in SUBMISSION_LAYOUTS:
            raise ValueError(f'unknown submission_layout {submission_layout!r}; choose '
                             f'from {sorted(SUBMISSION_LAYOUTS)}')
        if format_only and not outfile_prefix:
            raise ValueError('format_only=True needs an outfile_prefix to write to')
        self.protocol = protocol.lower()
        self.outfile_prefix = outfile_prefix
        self.submission_layout = submission_layout
        self.format_only = format_only
        self._count = 0

    def result_path(self, name: str) -> str:
        """The file a prediction named ``name`` is written to."""
        return SUBMISSION_LAYOUTS[self.submission_layout].format(
            prefix=self.outfile_prefix, name=name)

    def write(self, name: str, flow: np.ndarray) -> str:
        """Write one prediction (atomic) and return its path."""
        path = self.result_path(name)
        if path.endswith('.png'):
            write_kitti_flow(path, flow)
        else:
            write_flo(path, flow)
        return path

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        for sample in data_samples:
            pred = _to_hw2(get_sample_field(sample, 'pred_flow', None), 'pred_flow')
            if pred is None:
                raise KeyError('FlowMetric needs pred_flow in every output sample')
            name = get_sample_field(sample, 'out_name', None) or f'{self._count:06d}'
            self._count += 1
            if self.outfile_prefix:
                self.write(str(name), pred)
            if self.format_only:
                continue
            gt = _to_hw2(get_sample_field(sample, 'gt_flow', None), 'gt_flow')
            if gt is None:
                continue
            if gt.shape != pred.shape:
                raise ValueError(f'{name}: pred_flow {pred.shape} and gt_flow {gt.shape} '
                                 'differ in size; predict at the original resolution')
            valid = _to_hw(get_sample_field(sample, 'flow_valid', None))
            stats = flow_image_stats(pred, gt, valid, self.protocol)
            stats['name'] = str(name)
            self.results.append(stats)

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        if self.format_only:
            print_log(f'flow predictions written to {osp.abspath(self.outfile_prefix)}',
                      logger='current')
            return {}
        if not results:
            raise ValueError('FlowMetric: no pair with ground truth was evaluated')
        summary = summarize_flow(results, self.protocol)
        print_log('\n' + format_flow_table(summary, self.protocol, 'Optical flow (RAFT '
                                           'evaluate.py conventions)'), logger='current')
        return summary
