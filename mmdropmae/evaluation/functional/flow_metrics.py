"""Optical-flow metrics exactly as RAFT's ``evaluate.py`` computes them
(princeton-vl/RAFT: ``validate_chairs``, ``validate_sintel``,
``validate_kitti``), in numpy only.

Per pixel, the end-point error is ``EPE = ||pred - gt||_2`` and the ground
truth magnitude ``mag = ||gt||_2``. Two protocols:

``'chairs'`` / ``'sintel'`` (dense ground truth)
    Every pixel of every image counts (RAFT ignores valid masks here):
    ``epe`` is the mean EPE **pooled over all pixels of all images**
    (``np.mean(np.concatenate(epe_list))``), ``px1 / px3 / px5`` the share of
    those pixels with ``EPE < 1 / 3 / 5`` (strict ``<``, as RAFT).

``'kitti'`` (sparse ground truth, KITTI-2015 / HD1K)
    Only pixels with ``valid >= 0.5`` count. ``epe`` is the **mean over
    images of the per-image mean EPE** over its valid pixels (RAFT's
    ``epe_list.append(epe[val].mean())``, then ``np.mean``); ``fl_all`` is
    the share of outliers ``EPE > 3 and EPE / mag > 0.05`` **pooled over the
    valid pixels of all images** (the KITTI devkit's Fl-all; RAFT prints it
    x100). An image without any valid pixel has no mean EPE (RAFT: NaN); it
    is left out of the image mean (and counts nothing in the pooled shares).

Beyond RAFT's printout, every protocol also reports the other numbers, with
its own pixel set: ``fl_all`` for chairs/sintel (over all pixels) and
``px1/px3/px5`` for kitti (pooled over the valid pixels). Values are pixels
(``epe``) and fractions in [0, 1] (the rest). ``EPE / mag > 0.05`` is
evaluated as ``EPE > 0.05 * mag`` (equal for ``mag > 0``; for ``mag = 0``
both count an EPE > 3 as an outlier).

Statistics are accumulated per image (:func:`flow_image_stats`, a few
numbers) and summarised (:func:`summarize_flow`), so that a metric never
keeps full-resolution maps.
"""
from typing import Dict, Iterable, List, Optional

import numpy as np

__all__ = [
    'FLOW_PROTOCOLS', 'FLOW_KEYS', 'end_point_error', 'flow_image_stats', 'summarize_flow',
    'evaluate_flow', 'zero_flow_stats', 'format_flow_table'
]

#: Protocols of :func:`flow_image_stats`.
FLOW_PROTOCOLS = ('chairs', 'sintel', 'kitti')
#: Keys of :func:`summarize_flow`'s result.
FLOW_KEYS = ('epe', 'px1', 'px3', 'px5', 'fl_all', 'num_images')


def _as_flow(x, what: str) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim != 3 or x.shape[-1] != 2:
        raise ValueError(f'{what} must be (H, W, 2) flow, got shape {x.shape}')
    return x


def _check_protocol(protocol: str) -> str:
    p = protocol.lower()
    if p not in FLOW_PROTOCOLS:
        raise ValueError(f'unknown flow protocol {protocol!r}; choose from {FLOW_PROTOCOLS}')
    return p


def end_point_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-pixel ``||pred - gt||_2`` of two (H, W, 2) flows -> (H, W)."""
    pred, gt = _as_flow(pred, 'pred flow'), _as_flow(gt, 'gt flow')
    if pred.shape != gt.shape:
        raise ValueError(f'pred flow {pred.shape} and gt flow {gt.shape} differ in shape')
    return np.sqrt(np.sum((pred - gt)**2, axis=-1))


def flow_image_stats(pred: np.ndarray,
                     gt: np.ndarray,
                     valid: Optional[np.ndarray] = None,
                     protocol: str = 'sintel') -> Dict[str, float]:
    """The counts one image contributes to :func:`summarize_flow`.

    Args:
        pred (np.ndarray): (H, W, 2) predicted flow.
        gt (np.ndarray): (H, W, 2) ground truth.
        valid (np.ndarray, optional): (H, W) valid mask (``>= 0.5`` valid);
            used by ``'kitti'`` only (None: all valid); ignored by
            ``'chairs'``/``'sintel'``, as RAFT.
        protocol (str): ``'chairs'``, ``'sintel'`` or ``'kitti'``.

    Returns:
        dict: ``n`` (pixels counted), ``epe_sum``, ``n_px1``, ``n_px3``,
        ``n_px5``, ``n_out`` (Fl outliers) and ``epe_mean`` (this image's
        mean EPE, NaN without pixels).
    """
    protocol = _check_protocol(protocol)
    epe = end_point_error(pred, gt)
    mag = np.sqrt(np.sum(_as_flow(gt, 'gt flow')**2, axis=-1))
    if protocol == 'kitti' and valid is not None:
        valid = np.asarray(valid)
        if valid.shape != epe.shape:
            raise ValueError(f'valid mask {valid.shape} does not match the flow '
                             f'{epe.shape}')
        keep = valid >= 0.5
        epe, mag = epe[keep], mag[keep]
    else:
        epe, mag = epe.ravel(), mag.ravel()
    n = int(epe.size)
    out = (epe > 3.0) & (epe > 0.05 * mag)
    return dict(n=n, epe_sum=float(epe.sum()), n_px1=int((epe < 1).sum()),
                n_px3=int((epe < 3).sum()), n_px5=int((epe < 5).sum()),
                n_out=int(out.sum()), epe_mean=float(epe.mean()) if n else float('nan'))


def summarize_flow(stats: Iterable[Dict[str, float]], protocol: str = 'sintel'
                   ) -> Dict[str, float]:
    """Combine per-image :func:`flow_image_stats` as RAFT's ``evaluate.py``.

    Returns:
        dict: ``epe`` (px), ``px1``, ``px3``, ``px5``, ``fl_all`` (fractions)
        and ``num_images``; NaN where nothing was counted.
    """
    protocol = _check_protocol(protocol)
    stats = list(stats)
    n = sum(s['n'] for s in stats)

    def share(key):
        return float(sum(s[key] for s in stats) / n) if n else float('nan')

    if protocol == 'kitti':
        means = [s['epe_mean'] for s in stats if s['n'] > 0]
        epe = float(np.mean(means)) if means else float('nan')
    else:
        epe = float(sum(s['epe_sum'] for s in stats) / n) if n else float('nan')
    return dict(epe=epe, px1=share('n_px1'), px3=share('n_px3'), px5=share('n_px5'),
                fl_all=share('n_out'), num_images=len(stats))


def evaluate_flow(preds: List[np.ndarray],
                  gts: List[np.ndarray],
                  valids: Optional[List[Optional[np.ndarray]]] = None,
                  protocol: str = 'sintel') -> Dict[str, float]:
    """:func:`summarize_flow` of lists of per-image flows (and valid masks)."""
    if len(preds) != len(gts):
        raise ValueError(f'{len(preds)} predictions for {len(gts)} ground truths')
    valids = valids if valids is not None else [None] * len(gts)
    return summarize_flow(
        [flow_image_stats(p, g, v, protocol) for p, g, v in zip(preds, gts, valids)],
        protocol)


def zero_flow_stats(gt: np.ndarray, valid: Optional[np.ndarray] = None,
                    protocol: str = 'sintel') -> Dict[str, float]:
    """:func:`flow_image_stats` of the zero-flow baseline (predict no motion)."""
    return flow_image_stats(np.zeros_like(np.asarray(gt, np.float64)), gt, valid, protocol)


def format_flow_table(results: Dict[str, float], protocol: str, title: str = '') -> str:
    """A one-row text table of :func:`summarize_flow` results (shares in %)."""
    head = ['protocol', 'images', 'EPE', '1px %', '3px %', '5px %', 'Fl-all %']
    row = [protocol, str(int(results['num_images'])), f"{results['epe']:.4f}"] + [
        f'{100 * results[k]:.2f}' for k in ('px1', 'px3', 'px5', 'fl_all')
    ]
    widths = [max(len(a), len(b)) for a, b in zip(head, row)]
    lines = [' | '.join(h.ljust(w) for h, w in zip(head, widths)),
             '-+-'.join('-' * w for w in widths),
             ' | '.join(r.ljust(w) for r, w in zip(row, widths))]
    return (title + '\n' if title else '') + '\n'.join(lines)
