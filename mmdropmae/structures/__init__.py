"""Data structures shared by data sets, models and evaluation: the data
sample of every task and box conversions (numpy, torch and mmengine only)."""
from .bbox import box_cxcywh_to_xyxy, box_xywh_to_xyxy, box_xyxy_to_cxcywh, box_xyxy_to_xywh
from .data_sample import FIELD_SPECS, VIDEO_KEYS, DataSample, check_field, video_frame_samples

__all__ = [
    'box_xywh_to_xyxy', 'box_xyxy_to_xywh', 'box_cxcywh_to_xyxy', 'box_xyxy_to_cxcywh',
    'DataSample', 'FIELD_SPECS', 'VIDEO_KEYS', 'check_field', 'video_frame_samples'
]
