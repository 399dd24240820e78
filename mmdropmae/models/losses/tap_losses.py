"""Losses of the point tracker (CoTracker / PIPs sequence losses)."""
from typing import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from mmdropmae.registry import MODELS


@MODELS.register_module()
class TrackSequenceLoss(nn.Module):
    """Huber loss of every refinement iteration's positions, weighted
    ``gamma ** (K - 1 - k)`` (PIPs / CoTracker: later iterations count more),
    over the supervised frames where the ground truth is visible.

    Args:
        gamma (float): Iteration discount. PIPs / CoTracker: 0.8.
        delta (float): Huber threshold in pixels.
        loss_weight (float): Weight of the loss.
    """

    def __init__(self, gamma: float = 0.8, delta: float = 4.0, loss_weight: float = 1.0):
        super().__init__()
        self.gamma = gamma
        self.delta = delta
        self.loss_weight = loss_weight

    def forward(self, preds: Sequence[Tensor], target: Tensor, weight: Tensor) -> Tensor:
        """``preds``: K tensors (B, N, S, 2); ``target`` (B, N, S, 2);
        ``weight`` (B, N, S) (1 = supervised)."""
        w = weight.float()
        denom = w.sum().clamp(min=1.0)
        total = target.new_zeros(())
        k = len(preds)
        for i, p in enumerate(preds):
            err = F.huber_loss(p, target, reduction='none', delta=self.delta).sum(-1)
            total = total + self.gamma**(k - 1 - i) * (err * w).sum() / denom
        return self.loss_weight * total


@MODELS.register_module()
class VisibilityBCELoss(nn.Module):
    """Binary cross-entropy of visibility logits over the supervised frames.

    Args:
        loss_weight (float): Weight of the loss.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, logits: Tensor, visible: Tensor, weight: Tensor) -> Tensor:
        w = weight.float()
        bce = F.binary_cross_entropy_with_logits(logits, visible.float(), reduction='none')
        return self.loss_weight * (bce * w).sum() / w.sum().clamp(min=1.0)
