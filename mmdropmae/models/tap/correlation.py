"""Correlation sampling of the point tracker.

A query's feature is correlated with every cell of each frame's feature
map (a cost volume, RAFT / PIPs / CoTracker style), the volume is average
pooled into a pyramid (pooling the volume equals correlating with pooled
features, RAFT's trick), and the tracker reads, around its current estimate
of each frame, a ``(2r + 1)^2`` window of every level.

Coordinates are raster pixels of the network input (pixel ``i`` covers
``[i, i + 1)``), so that ``x`` maps to ``2 x / W - 1`` for
``grid_sample(align_corners=False)`` at every stride and level.
"""
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['raster_to_grid', 'bilinear_sample', 'correlation_volume', 'CorrelationPyramid',
           'soft_argmax_init']


def raster_to_grid(points: Tensor, size: Tuple[int, int]) -> Tensor:
    """(..., 2) raster (x, y) of an image of ``size`` (h, w) -> [-1, 1]
    coordinates of ``grid_sample(align_corners=False)``."""
    h, w = size
    scale = points.new_tensor([2.0 / w, 2.0 / h])
    return points * scale - 1.0


def bilinear_sample(fmap: Tensor, points: Tensor, size: Tuple[int, int]) -> Tensor:
    """Features of ``fmap`` (B, C, h, w) at raster ``points`` (B, N, 2) of
    an image of ``size`` -> (B, N, C) (zeros outside)."""
    grid = raster_to_grid(points, size)[:, :, None]  # B, N, 1, 2
    out = F.grid_sample(fmap, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
    return out[..., 0].transpose(1, 2)


def correlation_volume(query_feats: Tensor, fmaps: Tensor) -> Tensor:
    """Dot products of each query with each cell of each frame.

    Args:
        query_feats (Tensor): (B, N, C).
        fmaps (Tensor): (B, S, C, h, w).

    Returns:
        Tensor: (B, N, S, h, w), divided by ``sqrt(C)``.
    """
    c = query_feats.shape[-1]
    return torch.einsum('bnc,bschw->bnshw', query_feats, fmaps) / c**0.5


class CorrelationPyramid:
    """Multi-level windows of a correlation volume.

    Args:
        corr (Tensor): (B, N, S, h, w) volume of :func:`correlation_volume`.
        img_size (tuple): (H, W) of the network input.
        num_levels (int): Pyramid levels (each average-pools x2).
        radius (int): Window radius in cells of each level.
    """

    def __init__(self, corr: Tensor, img_size: Tuple[int, int], num_levels: int = 3,
                 radius: int = 3):
        b, n, s, h, w = corr.shape
        self.shape = (b, n, s)
        self.img_size = tuple(img_size)
        self.radius = radius
        x = corr.reshape(b * n * s, 1, h, w)
        self.levels: List[Tensor] = [x]
        for _ in range(num_levels - 1):
            if min(x.shape[-2:]) < 2:
                break
            x = F.avg_pool2d(x, 2, 2)
            self.levels.append(x)
        r = radius
        d = torch.arange(-r, r + 1, dtype=corr.dtype, device=corr.device)
        dy, dx = torch.meshgrid(d, d, indexing='ij')
        self.offsets = torch.stack([dx, dy], -1).reshape(-1, 2)  # K, 2 (x, y)

    @property
    def dims(self) -> int:
        return len(self.levels) * self.offsets.shape[0]

    def sample(self, points: Tensor) -> Tensor:
        """Windows around ``points`` (B, N, S, 2) raster -> (B, N, S, L * K)."""
        b, n, s = self.shape
        H, W = self.img_size
        pts = points.reshape(b * n * s, 1, 2)
        out = []
        for lvl in self.levels:
            cell = points.new_tensor([W / lvl.shape[-1], H / lvl.shape[-2]])
            grid = raster_to_grid(pts + self.offsets[None] * cell, self.img_size)
            v = F.grid_sample(lvl, grid[:, None], mode='bilinear', padding_mode='zeros',
                              align_corners=False)  # BNS, 1, 1, K
            out.append(v[:, 0, 0])
        return torch.cat(out, -1).reshape(b, n, s, -1)


def soft_argmax_init(query_feats: Tensor, fmaps: Tensor, img_size: Sequence[int],
                     temperature: float = 0.05, radius: int = 2) -> Tensor:
    """Global initial estimate of each query in each frame (TAPIR-style
    track initialisation): the cosine-similarity map's argmax, refined by a
    soft-argmax over the cells within ``radius`` of it.

    Args:
        query_feats (Tensor): (B, N, C).
        fmaps (Tensor): (B, S, C, h, w).
        img_size (tuple): (H, W) of the network input.
        temperature (float): Softmax temperature of the cosine similarity.
        radius (int): Cells around the argmax in the soft-argmax.

    Returns:
        Tensor: (B, N, S, 2) raster (x, y).
    """
    b, s, c, h, w = fmaps.shape
    q = F.normalize(query_feats, dim=-1)
    f = F.normalize(fmaps, dim=2)
    sim = torch.einsum('bnc,bschw->bnshw', q, f).flatten(3)  # B, N, S, hw
    H, W = img_size
    ys = (torch.arange(h, device=sim.device, dtype=sim.dtype) + 0.5) * (H / h)
    xs = (torch.arange(w, device=sim.device, dtype=sim.dtype) + 0.5) * (W / w)
    gy, gx = torch.meshgrid(ys, xs, indexing='ij')
    gx, gy = gx.flatten(), gy.flatten()
    idx = sim.argmax(-1, keepdim=True)
    cy, cx = gy[idx], gx[idx]
    near = ((gx - cx).abs() <= radius * W / w + 1e-3) & ((gy - cy).abs() <= radius * H / h + 1e-3)
    logits = (sim / temperature).masked_fill(~near, float('-inf'))
    wgt = logits.softmax(-1)
    return torch.stack([(wgt * gx).sum(-1), (wgt * gy).sum(-1)], -1)
