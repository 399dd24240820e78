"""RAFT's sequence loss over the iterations of a flow estimator
(princeton-vl/RAFT ``train.py`` ``sequence_loss``)."""
from typing import Dict, Sequence, Tuple

import torch
from torch import Tensor, nn

from mmdropmae.registry import MODELS


@MODELS.register_module()
class SequenceLoss(nn.Module):
    """``sum_i gamma^(N - i - 1) * mean(valid * |pred_i - gt|)`` over the N
    predictions (last = most refined, weight 1), as RAFT.

    Pixels count when ``valid >= 0.5`` and ``|gt| < max_flow`` (RAFT: 400);
    the mean is over **all** pixels and both channels (invalid pixels add 0
    but stay in the denominator, exactly as RAFT's
    ``(valid[:, None] * i_loss).mean()``). RAFT's gamma: 0.8 (chairs,
    things), 0.85 (sintel, KITTI fine-tuning).

    Args:
        gamma (float): Decay of the weights of earlier predictions.
        max_flow (float): Ground truth at least this long is ignored.
        loss_weight (float): Factor of the whole loss.
    """

    def __init__(self, gamma: float = 0.8, max_flow: float = 400.0, loss_weight: float = 1.0):
        super().__init__()
        if not 0 < gamma <= 1:
            raise ValueError(f'gamma must be in (0, 1], got {gamma}')
        self.gamma, self.max_flow, self.loss_weight = gamma, max_flow, loss_weight

    def forward(self, preds: Sequence[Tensor], gt: Tensor, valid: Tensor
                ) -> Tuple[Tensor, Dict[str, Tensor]]:
        """Loss and training metrics.

        Args:
            preds (Sequence[Tensor]): (B, 2, H, W) predictions, first to last.
            gt (Tensor): (B, 2, H, W) ground truth.
            valid (Tensor): (B, H, W) valid mask.

        Returns:
            tuple: The loss, and ``epe`` / ``1px`` / ``3px`` / ``5px`` of the
            last prediction over the counted pixels (detached), as RAFT logs.
        """
        if not preds:
            raise ValueError('SequenceLoss needs at least one prediction')
        n = len(preds)
        mag = torch.sum(gt**2, dim=1).sqrt()
        keep = (valid >= 0.5) & (mag < self.max_flow)
        loss = gt.new_zeros(())
        for i, pred in enumerate(preds):
            if pred.shape != gt.shape:
                raise ValueError(f'prediction {i} of shape {tuple(pred.shape)} for ground '
                                 f'truth of shape {tuple(gt.shape)}')
            w = self.gamma**(n - i - 1)
            loss = loss + w * (keep[:, None] * (pred - gt).abs()).mean()
        with torch.no_grad():
            epe = torch.sum((preds[-1] - gt)**2, dim=1).sqrt()[keep]
            if epe.numel():
                stats = {'epe': epe.mean(), '1px': (epe < 1).float().mean(),
                         '3px': (epe < 3).float().mean(), '5px': (epe < 5).float().mean()}
            else:
                z = gt.new_zeros(())
                stats = {'epe': z, '1px': z, '3px': z, '5px': z}
        return self.loss_weight * loss, stats
