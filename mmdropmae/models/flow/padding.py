"""Padding to a size grid, as RAFT's ``InputPadder`` (princeton-vl/RAFT
``core/utils/utils.py``), with the divisor as an argument (RAFT: 8; a ViT
needs its patch size and the flow stride)."""
from typing import List, Sequence

import torch.nn.functional as F
from torch import Tensor


class InputPadder:
    """Pad images so that their sides are multiples of ``divisor``.

    ``mode='sintel'``: the padding is split evenly (extra pixel at the
    bottom/right); ``'kitti'``: the height is padded at the bottom only, the
    width split evenly. Values are replicated from the border
    (``F.pad(mode='replicate')``), as RAFT.

    Args:
        dims (Sequence[int]): The input shape (..., H, W).
        mode (str): ``'sintel'`` or ``'kitti'``.
        divisor (int): Size grid.
    """

    def __init__(self, dims: Sequence[int], mode: str = 'sintel', divisor: int = 8):
        if mode not in ('sintel', 'kitti'):
            raise ValueError(f"padding mode must be 'sintel' or 'kitti', got {mode!r}")
        self.ht, self.wd = int(dims[-2]), int(dims[-1])
        d = int(divisor)
        pad_ht = (((self.ht // d) + 1) * d - self.ht) % d
        pad_wd = (((self.wd // d) + 1) * d - self.wd) % d
        if mode == 'sintel':
            self._pad = [pad_wd // 2, pad_wd - pad_wd // 2, pad_ht // 2, pad_ht - pad_ht // 2]
        else:
            self._pad = [pad_wd // 2, pad_wd - pad_wd // 2, 0, pad_ht]

    @property
    def padded_size(self):
        """(H, W) after padding."""
        return (self.ht + self._pad[2] + self._pad[3], self.wd + self._pad[0] + self._pad[1])

    def pad(self, *inputs: Tensor) -> List[Tensor]:
        """Pad (N, C, H, W) tensors (or (N, T, C, H, W): flattened first)."""
        out = []
        for x in inputs:
            if x.ndim == 5:
                n, t = x.shape[:2]
                y = F.pad(x.flatten(0, 1), self._pad, mode='replicate')
                out.append(y.view(n, t, *y.shape[1:]))
            else:
                out.append(F.pad(x, self._pad, mode='replicate'))
        return out

    def unpad(self, x: Tensor) -> Tensor:
        """Crop (..., H', W') back to the unpadded size."""
        ht, wd = x.shape[-2:]
        c = [self._pad[2], ht - self._pad[3], self._pad[0], wd - self._pad[1]]
        return x[..., c[0]:c[1], c[2]:c[3]]
