"""Weighted focal loss on a centre heat map with Gaussian targets (CenterNet /
OSTrack ``FocalLoss`` with alpha=2, beta=4)."""
import torch
from torch import Tensor, nn

from mmdropmae.registry import MODELS


@MODELS.register_module()
class CenterFocalLoss(nn.Module):
    """Penalty-reduced pixel-wise focal loss (CenterNet, as in OSTrack).

    Positives are the pixels where the target equals 1 (the Gaussian peak);
    every other pixel is a negative down-weighted by ``(1 - target)**beta``.
    The sum over the whole batch is divided by the number of positives in
    the batch (OSTrack's ``lib/utils/focal_loss.py``), or negated alone when
    there is none.

    Args:
        alpha (float): Focusing exponent. Defaults to 2.
        beta (float): Negative down-weighting exponent. Defaults to 4.
        loss_weight (float): Weight of the loss. Defaults to 1 (OSTrack's
            ``focal`` weight).
    """

    def __init__(self, alpha: float = 2., beta: float = 4.,
                 loss_weight: float = 1.):
        super().__init__()
        self.alpha = alpha
        self.beta = beta
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """``pred`` and ``target``: (B, 1, H, W), ``pred`` in (0, 1)."""
        pos = target.eq(1).float()
        neg = target.lt(1).float()
        neg_weights = torch.pow(1 - target, self.beta)
        pred = pred.clamp(1e-12)
        pos_loss = torch.log(pred) * torch.pow(1 - pred, self.alpha) * pos
        neg_loss = (torch.log((1 - pred).clamp(1e-12)) *
                    torch.pow(pred, self.alpha) * neg_weights * neg)
        num_pos = pos.sum()
        if num_pos == 0:
            loss = -neg_loss.sum()
        else:
            loss = -(pos_loss.sum() + neg_loss.sum()) / num_pos
        return self.loss_weight * loss
