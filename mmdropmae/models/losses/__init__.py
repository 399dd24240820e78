from .box_losses import (BoxL1Loss, GIoULoss, box_cxcywh_to_xyxy, box_xywh_to_xyxy,
                         box_xyxy_to_cxcywh, generalized_box_iou)
from .center_focal_loss import CenterFocalLoss
from .tap_losses import TrackSequenceLoss, VisibilityBCELoss  # noqa: F401
from .sequence_loss import SequenceLoss  # noqa: F401

__all__ = [
    'CenterFocalLoss', 'GIoULoss', 'BoxL1Loss', 'generalized_box_iou', 'box_cxcywh_to_xyxy',
    'box_xywh_to_xyxy', 'box_xyxy_to_cxcywh'
]
