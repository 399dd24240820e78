"""Probes of what a pre-trained DropMAE/TwinMAE decoder has learned.

Used by :class:`TemporalMatchingMonitorHook` during training and by
``tools/analysis_tools/temporal_matching.py`` on checkpoints (the paper's
Fig. 2, 4 and 5).
"""
from contextlib import contextmanager
from typing import Dict, Iterator, List

import numpy as np
import torch
from torch import Tensor, nn

from mmdropmae.models.layers import Attention, frame_attention_stats


def decoder_attention_layers(model: nn.Module) -> List[Attention]:
    """The attention layers of the decoder blocks, in order."""
    return [m for m in model.neck.modules() if isinstance(m, Attention)]


@contextmanager
def keep_decoder_attention(model: nn.Module) -> Iterator[List[Attention]]:
    """Make the decoder attention layers keep their weights during the
    block and free them afterwards."""
    layers = decoder_attention_layers(model)
    for layer in layers:
        layer.keep_attn = True
    try:
        yield layers
    finally:
        for layer in layers:
            layer.keep_attn = False
            layer.last_attn = None


@contextmanager
def eval_mode(model: nn.Module):
    """Evaluation mode (ASAD off, no dropout) for the block."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@torch.no_grad()
def probe_temporal_matching(model: nn.Module, inputs: Tensor) -> Dict:
    """Masked reconstruction of a batch with the decoder attention recorded.

    Runs in eval mode, so ASAD does not act: the numbers show what the
    decoder has learned to attend to.

    Args:
        model (nn.Module): A :class:`DropMAE` model.
        inputs (Tensor): (B, 2, C, H, W) normalised frame pairs.

    Returns:
        dict: ``within`` and ``between`` (lists, one float per decoder layer:
        the mean attention mass a query puts on its own frame / on the other
        frame), ``f_tem`` ((B, 2, h, w) temporal matching score of every
        token of the last decoder layer, averaged over heads), and the
        :meth:`DropMAE.reconstruct` outputs ``pred``, ``mask``, ``loss``.
    """
    with eval_mode(model), keep_decoder_attention(model) as layers:
        out = model.reconstruct(inputs)
        stats = [frame_attention_stats(layer.last_attn) for layer in layers]
        last = layers[-1].last_attn.float()
    b, _, length, _ = last.shape
    n = length // 2
    a = last.view(b, -1, 2, n, 2, n)
    f_tem = torch.stack(
        [a[:, :, 0, :, 1].amax(-1), a[:, :, 1, :, 0].amax(-1)], dim=2)
    h, w = model.backbone.grid_size
    out['f_tem'] = f_tem.mean(1).view(b, 2, h, w)
    out['within'] = [s['within'] for s in stats]
    out['between'] = [s['between'] for s in stats]
    return out


def denormalize(frames: Tensor, mean: Tensor, std: Tensor) -> np.ndarray:
    """(..., C, H, W) normalised RGB -> (..., H, W, C) uint8."""
    img = frames.float() * std.to(frames.device).view(-1, 1, 1) + \
        mean.to(frames.device).view(-1, 1, 1)
    img = img.clamp(0, 255).round().byte()
    return img.movedim(-3, -1).cpu().numpy()


def reconstruction_grid(inputs: Tensor, out: Dict, mean: Tensor,
                        std: Tensor, max_samples: int = 4) -> np.ndarray:
    """An RGB image of masked reconstructions (the paper's Fig. 2).

    One row per frame pair; columns: frame x, masked x, reconstructed x
    (visible patches pasted back), then the same for frame z.

    Returns:
        np.ndarray: (rows * H, 6 * W, 3) uint8.
    """
    rows = []
    for i in range(min(max_samples, inputs.shape[0])):
        cols = []
        for t in range(inputs.shape[1]):
            frame = inputs[i, t]
            mask = out['mask'][i, t]
            masked = frame * (1 - mask) + mask * (-mean.view(-1, 1, 1).to(
                frame.device) / std.view(-1, 1, 1).to(frame.device))
            pasted = frame * (1 - mask) + out['pred'][i, t] * mask
            cols += [frame, masked, pasted]
        rows.append(np.concatenate([denormalize(c, mean, std) for c in cols],
                                   axis=1))
    return np.concatenate(rows, axis=0)
