"""All-pairs correlation volume with a multi-scale local lookup, as RAFT's
``core/corr.py`` ``CorrBlock`` (princeton-vl/RAFT), and the coordinate
helpers of its ``core/utils/utils.py``."""
from typing import List

import torch
import torch.nn.functional as F
from torch import Tensor


def coords_grid(batch: int, height: int, width: int, device=None,
                dtype=torch.float32) -> Tensor:
    """(B, 2, H, W) pixel coordinates, channel 0 = x, 1 = y (RAFT)."""
    ys, xs = torch.meshgrid(torch.arange(height, device=device, dtype=dtype),
                            torch.arange(width, device=device, dtype=dtype), indexing='ij')
    return torch.stack([xs, ys])[None].expand(batch, -1, -1, -1)


def bilinear_sampler(img: Tensor, coords: Tensor) -> Tensor:
    """Sample ``img`` (N, C, H, W) at pixel coordinates ``coords`` (N, h, w, 2)
    (x, y; pixel centres at integers, zeros outside), RAFT's wrapper of
    ``grid_sample(align_corners=True)``."""
    h, w = img.shape[-2:]
    x, y = coords.split([1, 1], dim=-1)
    x = 2 * x / max(w - 1, 1) - 1
    y = 2 * y / max(h - 1, 1) - 1
    return F.grid_sample(img, torch.cat([x, y], -1), align_corners=True)


class CorrBlock:
    """RAFT's correlation pyramid.

    ``corr(i, j) = <f1_i, f2_j> / sqrt(C)`` for every pixel ``i`` of map 1 and
    ``j`` of map 2, average-pooled over map 2 by 2 ``num_levels - 1`` times;
    :meth:`__call__` samples, for every pixel of map 1, the
    ``(2r + 1)^2`` window around its current match ``coords / 2^l`` on every
    level (bilinear) -> ``num_levels * (2r + 1)^2`` channels. The window is
    ordered (dy, dx) row-major with offsets added as (x + dx, y + dy).
    (RAFT's own ``meshgrid(dy, dx)`` adds them transposed, which only
    permutes the channels.)

    Args:
        fmap1 (Tensor): (B, C, H, W) features of frame 1.
        fmap2 (Tensor): (B, C, H, W) features of frame 2.
        num_levels (int): Pyramid levels (RAFT: 4).
        radius (int): Lookup radius (RAFT: 4).
    """

    def __init__(self, fmap1: Tensor, fmap2: Tensor, num_levels: int = 4, radius: int = 4):
        self.num_levels, self.radius = num_levels, radius
        b, c, h, w = fmap1.shape
        corr = torch.matmul(fmap1.flatten(2).transpose(1, 2), fmap2.flatten(2))
        corr = (corr / c**0.5).reshape(b * h * w, 1, h, w)
        self.pyramid: List[Tensor] = [corr]
        for _ in range(num_levels - 1):
            corr = F.avg_pool2d(corr, 2, stride=2)
            self.pyramid.append(corr)
        self.shape = (b, h, w)

    @property
    def out_channels(self) -> int:
        return self.num_levels * (2 * self.radius + 1)**2

    def __call__(self, coords: Tensor) -> Tensor:
        """(B, 2, H, W) matches in map 2 -> (B, levels * (2r+1)^2, H, W)."""
        r = self.radius
        b, h, w = self.shape
        coords = coords.permute(0, 2, 3, 1).reshape(b * h * w, 1, 1, 2)
        d = torch.linspace(-r, r, 2 * r + 1, device=coords.device, dtype=coords.dtype)
        dy, dx = torch.meshgrid(d, d, indexing='ij')
        delta = torch.stack([dx, dy], -1).view(1, 2 * r + 1, 2 * r + 1, 2)
        out = []
        for i, corr in enumerate(self.pyramid):
            sampled = bilinear_sampler(corr, coords / 2**i + delta)
            out.append(sampled.view(b, h, w, -1))
        return torch.cat(out, -1).permute(0, 3, 1, 2).contiguous()
