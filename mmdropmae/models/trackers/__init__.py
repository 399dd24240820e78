from ..heads.center_head import CenterHead, generate_heatmap
from ..losses import BoxL1Loss, CenterFocalLoss, GIoULoss
from .data_preprocessor import TrackingDataPreprocessor
from .droptrack import (DropTrack, TrackState, adjust_keep_rate, candidate_elimination, clip_box,
                        hann2d, template_center_rows)

__all__ = [
    'DropTrack', 'TrackState', 'TrackingDataPreprocessor', 'CenterHead', 'generate_heatmap',
    'CenterFocalLoss', 'GIoULoss', 'BoxL1Loss', 'adjust_keep_rate', 'candidate_elimination',
    'clip_box', 'hann2d', 'template_center_rows'
]
