from ..heads.center_head import CenterHead, generate_heatmap
from ..layers import adjust_keep_rate, candidate_elimination, template_center_rows
from ..losses import BoxL1Loss, CenterFocalLoss, GIoULoss
from .base_sot_tracker import BaseSOTTracker, TrackState, clip_box, hann2d
from ..data_preprocessors import TrackingDataPreprocessor
from .droptrack import DropTrack

__all__ = [
    'DropTrack', 'BaseSOTTracker', 'TrackState', 'TrackingDataPreprocessor', 'CenterHead',
    'generate_heatmap', 'CenterFocalLoss', 'GIoULoss', 'BoxL1Loss', 'adjust_keep_rate',
    'candidate_elimination', 'clip_box', 'hann2d', 'template_center_rows'
]
