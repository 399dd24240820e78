"""Box regression losses of the tracker: GIoU and L1 on (x1, y1, x2, y2).

The box conversions live in :mod:`mmdropmae.structures.bbox`; they are
re-exported here under the same names.
"""
from typing import Tuple

import torch
from torch import Tensor, nn

from mmdropmae.registry import MODELS
from mmdropmae.structures.bbox import box_cxcywh_to_xyxy, box_xywh_to_xyxy, box_xyxy_to_cxcywh

__all__ = [
    'box_cxcywh_to_xyxy', 'box_xywh_to_xyxy', 'box_xyxy_to_cxcywh', 'generalized_box_iou',
    'GIoULoss', 'BoxL1Loss'
]


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor,
                        eps: float = 1e-7) -> Tuple[Tensor, Tensor]:
    """Element-wise GIoU and IoU of two (N, 4) xyxy box sets."""
    area1 = (boxes1[:, 2] - boxes1[:, 0]).clamp(0) * \
        (boxes1[:, 3] - boxes1[:, 1]).clamp(0)
    area2 = (boxes2[:, 2] - boxes2[:, 0]).clamp(0) * \
        (boxes2[:, 3] - boxes2[:, 1]).clamp(0)
    lt = torch.max(boxes1[:, :2], boxes2[:, :2])
    rb = torch.min(boxes1[:, 2:], boxes2[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    union = area1 + area2 - inter
    iou = inter / (union + eps)
    lt_c = torch.min(boxes1[:, :2], boxes2[:, :2])
    rb_c = torch.max(boxes1[:, 2:], boxes2[:, 2:])
    area_c = (rb_c - lt_c).clamp(min=0).prod(-1)
    giou = iou - (area_c - union) / (area_c + eps)
    return giou, iou


@MODELS.register_module()
class GIoULoss(nn.Module):
    """``mean(1 - GIoU)`` of (N, 4) xyxy boxes (OSTrack's ``giou_loss``).

    Args:
        loss_weight (float): Defaults to 2 (OSTrack/DropTrack GIOU_WEIGHT).
    """

    def __init__(self, loss_weight: float = 2.):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor) -> Tuple[Tensor, Tensor]:
        """Returns the weighted loss and the (detached) IoU per box."""
        giou, iou = generalized_box_iou(pred, target)
        return self.loss_weight * (1 - giou).mean(), iou.detach()


@MODELS.register_module()
class BoxL1Loss(nn.Module):
    """Mean absolute error of (N, 4) boxes (``nn.L1Loss`` as in OSTrack).

    Args:
        loss_weight (float): Defaults to 5 (OSTrack/DropTrack L1_WEIGHT).
    """

    def __init__(self, loss_weight: float = 5.):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        return self.loss_weight * (pred - target).abs().mean()
