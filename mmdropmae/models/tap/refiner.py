"""Iterative refinement of tracks over a temporal window, and the
visibility (occlusion) head (PIPs / CoTracker style).

Each iteration reads, for every query ``n`` and frame ``s`` of the window,
the correlation windows around the current estimate, the displacement from
the query point, the estimate's place in the image, whether the frame is at
or after the query frame, and the
track's feature at that frame; a stack of residual temporal blocks (1-D
convolutions over the window, PIPs' MLP-Mixer role) mixes the frames, and
linear heads return a position update and a feature update. The visibility
head reads the last hidden state.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdropmae.registry import MODELS


class _TemporalBlock(nn.Module):
    """LayerNorm -> depthwise temporal convolution -> MLP, residual.

    The depthwise convolution over the window (kernel ``k``, zero padding)
    is written as a sum of shifted copies: the same operation as
    ``nn.Conv1d(groups=dims)``, several times faster on CPU for the short
    windows used here.
    """

    def __init__(self, dims: int, kernel: int = 3, mlp_ratio: float = 2.):
        super().__init__()
        if kernel % 2 == 0:
            raise ValueError(f'the temporal kernel must be odd, got {kernel}')
        self.kernel = kernel
        self.norm1 = nn.LayerNorm(dims)
        self.weight = nn.Parameter(torch.empty(kernel, dims))
        self.bias = nn.Parameter(torch.zeros(dims))
        nn.init.trunc_normal_(self.weight, std=0.2)
        self.norm2 = nn.LayerNorm(dims)
        hidden = int(dims * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dims, hidden), nn.GELU(), nn.Linear(hidden, dims))

    def temporal_conv(self, x: Tensor) -> Tensor:
        """(M, S, D) -> (M, S, D): ``y[t] = b + sum_j w[j] * x[t + j - k // 2]``."""
        r = self.kernel // 2
        s = x.shape[1]
        xp = F.pad(x, (0, 0, r, r))
        out = self.bias + xp[:, 0:s] * self.weight[0]
        for j in range(1, self.kernel):
            out = out + xp[:, j:j + s] * self.weight[j]
        return out

    def forward(self, x: Tensor) -> Tensor:
        """(M, S, D) -> (M, S, D)."""
        x = x + self.temporal_conv(self.norm1(x))
        return x + self.mlp(self.norm2(x))


@MODELS.register_module()
class TAPRefiner(nn.Module):
    """The update network of the point tracker.

    Args:
        corr_dims (int): Correlation features per frame (levels x window).
        feat_dims (int): Track feature channels.
        hidden_dims (int): Width of the temporal blocks.
        depth (int): Temporal blocks.
        kernel (int): Temporal kernel size.
        motion_scale (float): Displacements are divided by this (pixels)
            before entering the network.
    """

    def __init__(self, corr_dims: int, feat_dims: int, hidden_dims: int = 128, depth: int = 3,
                 kernel: int = 3, motion_scale: float = 32.):
        super().__init__()
        self.motion_scale = motion_scale
        self.inp = nn.Linear(corr_dims + feat_dims + 5, hidden_dims)
        self.blocks = nn.Sequential(*[_TemporalBlock(hidden_dims, kernel) for _ in range(depth)])
        self.norm = nn.LayerNorm(hidden_dims)
        self.delta = nn.Linear(hidden_dims, 2)
        self.feat_update = nn.Linear(hidden_dims, feat_dims)
        nn.init.zeros_(self.delta.weight)
        nn.init.zeros_(self.delta.bias)

    def forward(self, corr: Tensor, feats: Tensor, rel: Tensor, active: Tensor,
                where: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """One iteration.

        Args:
            corr (Tensor): (B, N, S, corr_dims).
            feats (Tensor): (B, N, S, feat_dims) track features.
            rel (Tensor): (B, N, S, 2) estimate minus query point (pixels).
            active (Tensor): (B, N, S) 1 at and after the query frame.
            where (Tensor): (B, N, S, 2) estimate in [-1, 1] image
                coordinates (outside: out of the frame, likely occluded).

        Returns:
            tuple: position update (B, N, S, 2) in pixels, feature update
            (B, N, S, feat_dims), hidden state (B, N, S, hidden_dims).
        """
        b, n, s, _ = corr.shape
        x = torch.cat([corr, feats, rel / self.motion_scale, where, active[..., None]], -1)
        x = self.inp(x).reshape(b * n, s, -1)
        x = self.norm(self.blocks(x)).reshape(b, n, s, -1)
        return self.delta(x) * self.motion_scale / 4, self.feat_update(x), x


@MODELS.register_module()
class TAPVisibilityHead(nn.Module):
    """Occlusion logits from the refiner's hidden state and the correlation
    window at the final estimate: positive = visible.

    Args:
        hidden_dims (int): Refiner width.
        corr_dims (int): Correlation features per frame.
    """

    def __init__(self, hidden_dims: int, corr_dims: int):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(hidden_dims + corr_dims, hidden_dims), nn.GELU(),
                                 nn.Linear(hidden_dims, 1))

    def forward(self, hidden: Tensor, corr: Tensor) -> Tensor:
        """(B, N, S, D), (B, N, S, K) -> (B, N, S) visibility logits."""
        return self.mlp(torch.cat([hidden, corr], -1))[..., 0]
