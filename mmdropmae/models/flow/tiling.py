"""Tiled inference over overlapping windows, blended, so that memory stays
that of one window at any image size (CroCo-Flow, naver/croco
``stereoflow/engine.py`` ``tiled_pred`` / ``_overlapping``)."""
from typing import Callable, List, Tuple

import numpy as np
import torch
from torch import Tensor


def overlapping_starts(total: int, window: int, overlap: float = 0.5) -> List[int]:
    """Window offsets along one axis, as CroCo's ``_overlapping``:
    ``1 + ceil((total - window) / ((1 - overlap) * window))`` windows with
    offsets evenly spread (rounded) from 0 to ``total - window``.

    Raises:
        ValueError: ``window > total`` or ``overlap`` outside [0, 1).
    """
    if window > total or not 0 <= overlap < 1:
        raise ValueError(f'need window <= total and 0 <= overlap < 1, got total {total}, '
                         f'window {window}, overlap {overlap}')
    num = 1 + int(np.ceil((total - window) / ((1 - overlap) * window)))
    return np.linspace(0, total - window, num).round().astype(int).tolist()


def window_weights(height: int, width: int, floor: float = 1e-2, device=None) -> Tensor:
    """(height, width) blending weights: 1 at the window centre falling
    linearly to ``floor`` at its border (separable tent, product of the two
    axes). CroCo weights tiles by the confidence its head predicts; this
    head has none, so a fixed centre-weighted window (as CroCo-Flow forks
    without confidence) gives the borders, where context is missing, less
    say."""

    def tent(n):
        t = torch.linspace(-1, 1, n, device=device) if n > 1 else torch.zeros(1, device=device)
        return 1 - t.abs() * (1 - floor)

    return tent(height)[:, None] * tent(width)[None, :]


@torch.no_grad()
def tiled_flow(estimate: Callable[[Tensor, Tensor], Tensor], img1: Tensor, img2: Tensor,
               tile_size: Tuple[int, int], overlap: float = 0.5) -> Tensor:
    """Flow of a large pair from overlapping windows.

    Args:
        estimate (callable): ``(img1 crop, img2 crop) -> (B, 2, h, w)`` flow
            of the crops (same size as the crops).
        img1 (Tensor): (B, C, H, W) frame 1 (normalised, padded as the
            estimator needs; ``tile_size`` must be valid for it).
        img2 (Tensor): (B, C, H, W) frame 2.
        tile_size (tuple): (h, w) window, at most (H, W).
        overlap (float): Share of a window overlapping its neighbour.

    Returns:
        Tensor: (B, 2, H, W) blended flow: the weighted mean of the windows'
        predictions (:func:`window_weights`) at every pixel.
    """
    b, _, h, w = img1.shape
    th, tw = tile_size
    acc = img1.new_zeros(b, 2, h, w)
    wsum = img1.new_zeros(1, 1, h, w)
    weight = window_weights(th, tw, device=img1.device).to(img1.dtype)[None, None]
    for y0 in overlapping_starts(h, th, overlap):
        for x0 in overlapping_starts(w, tw, overlap):
            sl = (Ellipsis, slice(y0, y0 + th), slice(x0, x0 + tw))
            flow = estimate(img1[sl], img2[sl])
            acc[sl] += flow * weight
            wsum[sl] += weight
    return acc / wsum
