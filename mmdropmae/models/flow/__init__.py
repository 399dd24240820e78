"""Two-frame optical flow on the DropMAE ViT: the model, RAFT-style input
padding and CroCo-style tiled inference."""
from .dropflow import DropFlow
from .padding import InputPadder
from .tiling import overlapping_starts, tiled_flow, window_weights

__all__ = ['DropFlow', 'InputPadder', 'overlapping_starts', 'tiled_flow', 'window_weights']
