"""Metrics of the label-propagation correspondence evaluation.

PCK (JHMDB pose)
    A predicted joint is correct when its distance to the ground truth is
    below ``alpha * max(w, h)``, where ``(w, h)`` is the size of the bounding
    box of *that frame's ground-truth joints* (the convention of the
    CRW / UVC JHMDB evaluation: the person box from the gt joints, alpha
    times its longer side). PCK@alpha = correct joints / evaluated joints,
    accumulated over all joints of all evaluated frames; frame 0 (given) is
    excluded by default; joints with non-finite ground truth are skipped.

mIoU (VIP parts)
    A ``num_classes`` x ``num_classes`` confusion matrix is accumulated over
    all frames (``ignore_index`` pixels skipped); IoU_c = TP / (TP + FP + FN)
    per class, mIoU = mean over the classes with a non-empty union
    (present in ground truth or prediction). Frame 0 is scored by default
    (``exclude_first=False``: "all frames"), set True to skip it.
"""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmdropmae.registry import METRICS
from mmdropmae.utils.fileio import read_label_png
from .sample_utils import get_sample_field


def _np(x) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def pck_correct(pred: np.ndarray, gt: np.ndarray, alpha: float) -> np.ndarray:
    """Per-joint correctness (bool, (J,)) of one frame, and validity.

    Returns:
        tuple: (correct (J,) bool, valid (J,) bool).
    """
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 2)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 2)
    valid = np.isfinite(gt).all(1)
    if not valid.any():
        return np.zeros(len(gt), bool), valid
    g = gt[valid]
    size = max(g[:, 0].max() - g[:, 0].min(), g[:, 1].max() - g[:, 1].min())
    dist = np.linalg.norm(pred - gt, axis=1)
    correct = valid & (dist < alpha * size)
    return correct, valid


@METRICS.register_module()
class PCKMetric(BaseMetric):
    """PCK@alpha of propagated keypoints (see the module docstring).

    Samples: ``pred_keypoints`` (J, 2) and ``gt_keypoints`` (J, 2) pixel
    (x, y), ``frame_id``; ``video_name`` optional.

    Args:
        alphas (Sequence[float]): Thresholds. Defaults to (0.1, 0.2).
        exclude_first (bool): Skip frame 0. Defaults to True.
    """
    default_prefix: Optional[str] = 'jhmdb'

    def __init__(self, alphas: Sequence[float] = (0.1, 0.2), exclude_first: bool = True,
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.alphas = tuple(float(a) for a in alphas)
        self.exclude_first = exclude_first

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        for s in data_samples:
            gt = get_sample_field(s, 'gt_keypoints', None)
            pred = get_sample_field(s, 'pred_keypoints', None)
            if gt is None:
                continue
            if pred is None:
                raise KeyError('PCKMetric needs pred_keypoints in every data sample')
            if self.exclude_first and int(get_sample_field(s, 'frame_id', 1)) == 0:
                continue
            gt, pred = _np(gt), _np(pred)
            rec = {}
            for a in self.alphas:
                c, v = pck_correct(pred, gt, a)
                rec[a] = (int(c.sum()), int(v.sum()))
            self.results.append(rec)

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        out = {}
        for a in self.alphas:
            correct = sum(r[a][0] for r in results)
            total = sum(r[a][1] for r in results)
            out[f'PCK@{a:g}'] = correct / total if total else float('nan')
        MMLogger.get_current_instance().info(
            'PCK: ' + ', '.join(f'{k} {v:.4f}' for k, v in out.items()))
        return out


@METRICS.register_module()
class mIoUMetric(BaseMetric):  # noqa: N801
    """Mean IoU over ``num_classes`` accumulated over all frames (VIP).

    Samples: ``pred_mask`` (H, W) class ids; ``gt_mask`` or ``gt_mask_path``
    (a label PNG); ``frame_id``.

    Args:
        num_classes (int): Defaults to 20 (VIP).
        ignore_index (int): Ground-truth value skipped. Defaults to 255.
        exclude_first (bool): Skip frame 0. Defaults to False.
    """
    default_prefix: Optional[str] = 'vip'

    def __init__(self, num_classes: int = 20, ignore_index: int = 255,
                 exclude_first: bool = False, collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.exclude_first = exclude_first

    def confusion(self, pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
        if pred.shape != gt.shape:
            raise ValueError(f'pred_mask {pred.shape} and ground truth {gt.shape} differ')
        keep = (gt != self.ignore_index) & (gt >= 0) & (gt < self.num_classes)
        n = self.num_classes
        idx = gt[keep].astype(np.int64) * n + np.clip(pred[keep].astype(np.int64), 0, n - 1)
        return np.bincount(idx, minlength=n * n).reshape(n, n)

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        for s in data_samples:
            if self.exclude_first and int(get_sample_field(s, 'frame_id', 1)) == 0:
                continue
            gt = get_sample_field(s, 'gt_mask', None)
            if gt is None:
                path = get_sample_field(s, 'gt_mask_path', None)
                if not path:
                    continue
                gt = read_label_png(path)
            pred = get_sample_field(s, 'pred_mask', None)
            if pred is None:
                raise KeyError('mIoUMetric needs pred_mask in every data sample')
            pred, gt = _np(pred), _np(gt)
            while pred.ndim > 2 and pred.shape[0] == 1:
                pred = pred[0]
            self.results.append(self.confusion(pred, gt))

    def compute_metrics(self, results: List[np.ndarray]) -> Dict[str, float]:
        cm = np.sum(results, axis=0) if results else np.zeros(
            (self.num_classes, self.num_classes), np.int64)
        tp = np.diag(cm).astype(np.float64)
        union = cm.sum(0) + cm.sum(1) - tp
        present = union > 0
        iou = np.where(present, tp / np.maximum(union, 1), np.nan)
        miou = float(np.nanmean(iou)) if present.any() else float('nan')
        self.per_class_iou = iou
        MMLogger.get_current_instance().info(
            'IoU per class: ' + ' '.join('nan' if np.isnan(v) else f'{v:.3f}' for v in iou))
        return {'mIoU': miou}
