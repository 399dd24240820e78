"""MMEngine metric of 3D single-object tracking: Open3DSOT's Success and
Precision (``mmdropmae.evaluation.functional.sot3d_metrics``).

Input: one prediction per frame (dict or data element) with ``video_id``,
``video_name``, ``frame_id``, ``video_length`` (metainfo), ``pred_bbox_3d``
and ``gt_bbox_3d`` (7,) ``(cx, cy, cz, l, w, h, yaw)`` LiDAR boxes. Frames
are regrouped by sequence; every frame must arrive exactly once.

Output files (``outfile_prefix``, written atomically): ``pred/{seq}.txt`` and
``gt/{seq}.txt`` (one ``cx cy cz l w h yaw`` row per frame; the predicted
file holds the ground truth at frame 0, as the tracker starts from it) and
``metrics.json`` (``success``, ``precision``, ``num_frames``), the layout of
``tools/analysis_tools/eval_sot3d.py PRED_DIR GT_DIR``.
"""
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmdropmae.registry import METRICS
from ..functional.sot3d_metrics import evaluate_sot3d, write_box3d_file
from ..functional.sot_results import atomic_write_text
from .sample_utils import MISSING, get_sample_field

__all__ = ['SOT3DMetric']


def _arr(x) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x, np.float64)


@METRICS.register_module()
class SOT3DMetric(BaseMetric):
    """Open3DSOT Success / Precision (percent) over all frames pooled.

    Args:
        outfile_prefix (str, optional): Folder for ``pred/``, ``gt/`` and
            ``metrics.json``.
        vertical (str): Vertical overlap rule of
            :func:`~mmdropmae.evaluation.functional.box3d_overlap`
            ('open3dsot', the default, or 'exact').
        collect_device (str): 'cpu' or 'gpu'.
        prefix (str, optional): Metric name prefix. Defaults to 'sot3d'.
    """

    default_prefix = 'sot3d'

    def __init__(self, outfile_prefix: Optional[str] = None, vertical: str = 'open3dsot',
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.outfile_prefix = outfile_prefix
        self.vertical = vertical

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        for s in data_samples:
            row = {}
            for key in ('video_id', 'frame_id', 'video_length'):
                v = get_sample_field(s, key)
                if v is MISSING:
                    raise KeyError(f'SOT3DMetric: a prediction has no {key!r}')
                row[key] = int(v)
            row['video_name'] = str(get_sample_field(s, 'video_name', row['video_id']))
            for key in ('pred_bbox_3d', 'gt_bbox_3d'):
                v = get_sample_field(s, key, None)
                if v is None:
                    raise KeyError(f"SOT3DMetric: frame {row['frame_id']} of "
                                   f"{row['video_name']!r} has no {key}")
                row[key] = _arr(v).reshape(7)
            self.results.append(row)

    @staticmethod
    def group(results: List[dict]) -> List[dict]:
        """Sequences (by ``video_id``) with ``pred`` and ``gt`` (L, 7)."""
        by: Dict[int, dict] = {}
        for r in results:
            v = by.setdefault(r['video_id'], dict(name=r['video_name'], length=r['video_length'],
                                                  frames={}))
            if r['frame_id'] in v['frames']:
                raise ValueError(f"SOT3DMetric: frame {r['frame_id']} of {v['name']!r} twice")
            v['frames'][r['frame_id']] = r
        seqs = []
        for vid in sorted(by):
            v = by[vid]
            missing = sorted(set(range(v['length'])) - set(v['frames']))
            if missing:
                raise ValueError(f"SOT3DMetric: sequence {v['name']!r} lacks frames "
                                 f'{missing[:10]}')
            frames = [v['frames'][i] for i in range(v['length'])]
            seqs.append(dict(name=v['name'], pred=np.stack([f['pred_bbox_3d'] for f in frames]),
                             gt=np.stack([f['gt_bbox_3d'] for f in frames])))
        return seqs

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        seqs = self.group(results)
        res = evaluate_sot3d([s['pred'] for s in seqs], [s['gt'] for s in seqs],
                             vertical=self.vertical)
        metrics = dict(success=res['success'], precision=res['precision'],
                       num_frames=res['num_frames'])
        if self.outfile_prefix:
            for s in seqs:
                pred = s['pred'].copy()
                pred[0] = s['gt'][0]  # frame 0 = ground truth (Open3DSOT's test loop)
                write_box3d_file(osp.join(self.outfile_prefix, 'pred', f"{s['name']}.txt"), pred)
                write_box3d_file(osp.join(self.outfile_prefix, 'gt', f"{s['name']}.txt"), s['gt'])
            atomic_write_text(osp.join(self.outfile_prefix, 'metrics.json'),
                              json.dumps(metrics, indent=2) + '\n')
            print_log(f'SOT3DMetric: wrote {len(seqs)} sequences to {self.outfile_prefix}',
                      logger='current')
        return metrics
