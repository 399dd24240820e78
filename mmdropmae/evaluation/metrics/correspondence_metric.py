"""Metrics of the label-propagation correspondence evaluation.

PCK (JHMDB pose)
    The JHMDB evaluation of the video-correspondence papers, CRW
    (ajabri/videowalk, ``code/eval/eval_pck.py``) and UVC
    (Liusifei/UVC, ``eval_pck.py``; the two scripts are the same):

    - a joint is *evaluated* in a frame when it is visible; CRW marks a
      joint invisible when its propagated heat map is empty
      (``process_pose`` in ``code/utils/test_utils.py`` writes ``-1``, and
      ``eval_pck.py`` skips ``predres[0, j, k] < 0``); here a joint is
      skipped when its ground truth is not finite or its prediction is not
      finite or has ``x < 0``;
    - the reference length of a frame is ``0.6 * ||(maxx - minx, maxy - miny)||``,
      0.6 times the *diagonal* of the box of that frame's ground-truth joints
      over the evaluated joints (``now_boxes[k] = 0.6 * np.linalg.norm(...)``);
    - the normalised distance is ``d / ref`` and the joint is correct when
      ``d / ref <= alpha`` (``computePCK``: ``distAll[pidx] <= distThresh``);
    - frame 0 (given) is never scored (``if k == 0: continue``);
    - the normalised distances are pooled per joint *index* over all frames
      of all videos, PCK_j = correct_j / evaluated_j, and PCK@alpha is the
      mean of PCK_j over the joints (``np.mean(pckAll[0:len(distAll), 0])``;
      the pooled ``nCorrect / nTotal`` is commented out there). Joints never
      evaluated are left out of the mean (CRW would divide by zero).

    A box of zero size (a single evaluated joint) gives ``d / 0`` = inf or
    nan, never correct, as in CRW.

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
from .sample_utils import extend_per_item, flatten_items, get_sample_field


def _np(x) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def pck_reference(gt: np.ndarray, valid: np.ndarray) -> float:
    """CRW's reference length of one frame: 0.6 x the diagonal of the box
    of the evaluated (``valid``) ground-truth joints (``now_boxes[k]`` in
    ajabri/videowalk ``code/eval/eval_pck.py``)."""
    g = np.asarray(gt, dtype=np.float64).reshape(-1, 2)[np.asarray(valid, bool)]
    if not len(g):
        return float('nan')
    # CRW starts the running max at -1 and the min at 1e6
    hi, lo = np.maximum(g.max(0), -1.), np.minimum(g.min(0), 1e6)
    return 0.6 * float(np.linalg.norm(hi - lo))


def pck_distances(pred: np.ndarray, gt: np.ndarray):
    """Normalised distances of one frame's joints.

    Args:
        pred (np.ndarray): (J, 2) predicted (x, y).
        gt (np.ndarray): (J, 2) ground-truth (x, y).

    Returns:
        tuple: (dnorm (J,) float, ``d / ref`` with :func:`pck_reference`;
        valid (J,) bool, the evaluated joints: finite ground truth and a
        finite prediction with ``x >= 0``).
    """
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 2)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 2)
    if pred.shape != gt.shape:
        raise ValueError(f'pred_keypoints {pred.shape} and gt_keypoints {gt.shape} differ')
    valid = np.isfinite(gt).all(1) & np.isfinite(pred).all(1) & ~(pred[:, 0] < 0)
    dnorm = np.full(len(gt), np.nan)
    if valid.any():
        ref = pck_reference(gt, valid)
        d = np.linalg.norm(pred[valid] - gt[valid], axis=1)
        with np.errstate(divide='ignore', invalid='ignore'):
            dnorm[valid] = d / ref
    return dnorm, valid


def pck_correct(pred: np.ndarray, gt: np.ndarray, alpha: float):
    """Per-joint correctness of one frame: ``d / ref <= alpha``.

    Returns:
        tuple: (correct (J,) bool, valid (J,) bool).
    """
    dnorm, valid = pck_distances(pred, gt)
    with np.errstate(invalid='ignore'):
        correct = valid & (dnorm <= alpha)
    return correct, valid


def pck_per_joint(joint_ids: np.ndarray, dnorm: np.ndarray, alpha: float,
                  num_joints: int) -> np.ndarray:
    """PCK_j of each joint index (nan for joints never evaluated)."""
    total = np.bincount(joint_ids, minlength=num_joints).astype(np.float64)
    with np.errstate(invalid='ignore'):
        hit = dnorm <= alpha
    correct = np.bincount(joint_ids, weights=hit.astype(np.float64), minlength=num_joints)
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(total > 0, correct / total, np.nan)


@METRICS.register_module()
class PCKMetric(BaseMetric):
    """PCK@alpha of propagated keypoints, CRW's JHMDB convention (see the
    module docstring): reference 0.6 x the diagonal of the frame's
    ground-truth joint box, ``d / ref <= alpha``, frame 0 excluded, the mean
    over joints of the per-joint PCK pooled over all frames and videos.

    Samples: ``pred_keypoints`` (J, 2) and ``gt_keypoints`` (J, 2) pixel
    (x, y), ``frame_id``; ``video_name`` optional. After
    :meth:`compute_metrics`, ``per_joint_pck`` maps each alpha to the (J,)
    PCK_j.

    Args:
        alphas (Sequence[float]): Thresholds. Defaults to (0.1, 0.2).
        exclude_first (bool): Skip frame 0 (CRW does). Defaults to True.
    """
    default_prefix: Optional[str] = 'jhmdb'

    def __init__(self, alphas: Sequence[float] = (0.1, 0.2), exclude_first: bool = True,
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.alphas = tuple(float(a) for a in alphas)
        self.exclude_first = exclude_first

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        entries = []
        for s in data_samples:
            gt = get_sample_field(s, 'gt_keypoints', None)
            pred = get_sample_field(s, 'pred_keypoints', None)
            if gt is None:
                continue
            if pred is None:
                raise KeyError('PCKMetric needs pred_keypoints in every data sample')
            if self.exclude_first and int(get_sample_field(s, 'frame_id', 1)) == 0:
                continue
            dnorm, valid = pck_distances(_np(pred), _np(gt))
            entries.append(dict(num_joints=len(valid), joint_ids=np.flatnonzero(valid),
                                dnorm=dnorm[valid]))
        extend_per_item(self.results, entries, data_batch)

    def compute_metrics(self, results: List[List[Dict]]) -> Dict[str, float]:
        results = flatten_items(results)
        num_joints = max((r['num_joints'] for r in results), default=0)
        ids = np.concatenate([r['joint_ids'] for r in results] or [np.zeros(0, np.int64)])
        dnorm = np.concatenate([r['dnorm'] for r in results] or [np.zeros(0)])
        out, self.per_joint_pck = {}, {}
        for a in self.alphas:
            per_joint = pck_per_joint(ids.astype(np.int64), dnorm, a, num_joints)
            self.per_joint_pck[a] = per_joint
            seen = np.isfinite(per_joint)
            out[f'PCK@{a:g}'] = float(per_joint[seen].mean()) if seen.any() else float('nan')
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
        entries = []
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
            entries.append(self.confusion(pred, gt))
        extend_per_item(self.results, entries, data_batch)

    def compute_metrics(self, results: List[List[np.ndarray]]) -> Dict[str, float]:
        results = flatten_items(results)
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
