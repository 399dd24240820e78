"""RAFT's warm start for video sequences (``create_sintel_submission(...,
warm_start=True)``, the setting of RAFT's Sintel test results).

The low-resolution flow of pair ``t`` (frame ``t`` to ``t + 1``) is carried
forward to frame ``t + 1`` by :func:`forward_interpolate` and initialises the
refinement of pair ``t + 1``; the state is dropped when the sequence changes.
"""
from typing import Optional

import numpy as np
import torch
from scipy import interpolate
from torch import Tensor


def forward_interpolate(flow: Tensor) -> Tensor:
    """Forward-warp a flow field to the next frame, as RAFT's
    ``core/utils/utils.py: forward_interpolate``.

    Every pixel ``p`` is moved to ``p + flow(p)``; the moved pixels that land
    strictly inside the grid (``0 < x < W``, ``0 < y < H``, RAFT's test) carry
    their flow, and every pixel of the grid takes the flow of the nearest
    moved pixel (``scipy.interpolate.griddata``, ``method='nearest'``).

    Args:
        flow (Tensor): (2, H, W) flow in grid units (RAFT: the 1/8 flow).

    Returns:
        Tensor: (2, H, W) float32 flow on the same device; zeros where no
        moved pixel stays inside the grid.
    """
    if flow.ndim != 3 or flow.shape[0] != 2:
        raise ValueError(f'forward_interpolate takes a (2, H, W) flow, got {tuple(flow.shape)}')
    device = flow.device
    f = flow.detach().float().cpu().numpy()
    dx, dy = f[0], f[1]
    ht, wd = dx.shape
    x0, y0 = np.meshgrid(np.arange(wd), np.arange(ht))
    x1, y1 = (x0 + dx).reshape(-1), (y0 + dy).reshape(-1)
    valid = (x1 > 0) & (x1 < wd) & (y1 > 0) & (y1 < ht)
    if not valid.any():
        return torch.zeros(2, ht, wd, device=device)
    points = (x1[valid], y1[valid])
    out = [interpolate.griddata(points, d.reshape(-1)[valid], (x0, y0), method='nearest')
           for d in (dx, dy)]
    return torch.from_numpy(np.stack(out, 0)).float().to(device)


class WarmStartState:
    """The flow carried from one pair of a sequence to the next.

    :meth:`take` returns the carried flow for a pair when it continues the
    sequence of the previous pair (same sequence, next frame) and ``None``
    otherwise. RAFT resets on a change of sequence only; the frame check
    additionally refuses to carry a flow across pairs that are not
    consecutive (a shuffled or sharded test loader), which then run cold.
    """

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.sequence: Optional[str] = None
        self.frame: Optional[int] = None
        self.flow: Optional[Tensor] = None

    def take(self, sequence: str, frame: int) -> Optional[Tensor]:
        """The initial low-resolution flow for pair ``frame`` of
        ``sequence`` (None: cold start)."""
        if sequence != self.sequence or self.frame is None or frame != self.frame + 1:
            return None
        return self.flow

    def put(self, sequence: str, frame: int, flow_low: Tensor) -> None:
        """Keep the forward-interpolated ``flow_low`` ((2, h, w)) of pair
        ``frame`` for the next pair."""
        self.sequence, self.frame = sequence, frame
        self.flow = forward_interpolate(flow_low)[None]
