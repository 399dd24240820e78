"""Position embeddings: MAE's fixed 2D sin-cos table and grid resizing."""
from typing import Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


def _sincos_1d(embed_dims: int, pos: np.ndarray) -> np.ndarray:
    """1D sin-cos embedding of positions ``pos`` -> (len(pos), embed_dims)."""
    assert embed_dims % 2 == 0, 'embed_dims must be even'
    omega = np.arange(embed_dims // 2, dtype=np.float64) / (embed_dims / 2.)
    omega = 1. / 10000**omega
    out = np.einsum('m,d->md', pos.reshape(-1).astype(np.float64), omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def build_2d_sincos_position_embedding(grid_size: Tuple[int, int],
                                       embed_dims: int,
                                       cls_token: bool = True) -> Tensor:
    """The fixed 2D sin-cos position embedding of MAE (and DropMAE).

    The first half of the channels encodes the column (x) coordinate and the
    second half the row (y) coordinate, exactly as MAE's reference
    ``get_2d_sincos_pos_embed`` (``np.meshgrid(grid_w, grid_h)``), so tables
    built here equal those stored in reference checkpoints.

    Args:
        grid_size (tuple[int, int]): (rows, cols) of the patch grid.
        embed_dims (int): Channels, divisible by 4.
        cls_token (bool): Prepend an all-zero row for the (unused) class
            slot, as in the reference checkpoint layout (1 x (1+HW) x D).

    Returns:
        Tensor: (1, [1+] rows*cols, embed_dims), float32.
    """
    assert embed_dims % 4 == 0, 'embed_dims must be divisible by 4'
    h, w = grid_size
    grid_x, grid_y = np.meshgrid(
        np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    emb = np.concatenate([
        _sincos_1d(embed_dims // 2, grid_x),
        _sincos_1d(embed_dims // 2, grid_y)
    ], axis=1)
    if cls_token:
        emb = np.concatenate([np.zeros([1, embed_dims]), emb], axis=0)
    return torch.from_numpy(emb).float().unsqueeze(0)


def resize_pos_embed(pos_embed: Tensor,
                     src_shape: Sequence[int],
                     dst_shape: Sequence[int],
                     num_extra_tokens: int = 1,
                     mode: str = 'bicubic') -> Tensor:
    """Resize the grid part of a position embedding to another patch grid.

    Args:
        pos_embed (Tensor): (1, num_extra_tokens + H*W, D).
        src_shape (Sequence[int]): (H, W) of the stored grid.
        dst_shape (Sequence[int]): (H', W') wanted.
        num_extra_tokens (int): Leading non-grid rows (the class slot),
            kept unchanged.
        mode (str): Interpolation mode of ``F.interpolate``.

    Returns:
        Tensor: (1, num_extra_tokens + H'*W', D).
    """
    if tuple(src_shape) == tuple(dst_shape):
        return pos_embed
    assert pos_embed.ndim == 3, 'pos_embed must be (1, L, D)'
    src_h, src_w = src_shape
    expected = num_extra_tokens + src_h * src_w
    if pos_embed.shape[1] != expected:
        raise ValueError(f'pos_embed has {pos_embed.shape[1]} rows, expected '
                         f'{expected} for a {src_h}x{src_w} grid plus '
                         f'{num_extra_tokens} extra token(s)')
    extra = pos_embed[:, :num_extra_tokens]
    grid = pos_embed[:, num_extra_tokens:]
    dim = grid.shape[-1]
    grid = grid.reshape(1, src_h, src_w, dim).permute(0, 3, 1, 2)
    grid = F.interpolate(
        grid.float(), size=tuple(dst_shape), mode=mode, align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, -1, dim).to(pos_embed.dtype)
    return torch.cat([extra, grid], dim=1)
