"""DataSample: the data sample of every task, with shape-checked fields."""
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmdropmae.structures import DataSample, video_frame_samples


def test_known_fields_are_checked_on_assignment():
    s = DataSample(metainfo=dict(video_name='v', frame_id=3))
    s.pred_bbox = np.array([1, 2, 30, 40], np.float32)
    s.pred_mask = np.zeros((4, 5), np.uint8)
    s.pred_flow = torch.zeros(4, 5, 2)
    s.pred_tracks = np.zeros((7, 10, 2))
    s.pred_occluded = np.zeros((7, 10), bool)
    s.query_points = np.zeros((7, 3))
    s.pred_bbox_3d = np.zeros(7)
    s.gt_bbox = torch.zeros(2, 4)  # a batch of boxes is fine for ground truth
    with pytest.raises(ValueError, match=r'pred_mask must be \(H, W\) object ids'):
        s.pred_mask = np.zeros((2, 4, 5))
    with pytest.raises(ValueError, match='pred_flow'):
        s.pred_flow = np.zeros((4, 5, 3))
    with pytest.raises(ValueError, match='pred_bbox'):
        s.pred_bbox = np.zeros(5)
    with pytest.raises(ValueError, match='pred_bbox'):
        s.pred_bbox = np.zeros((1, 4))  # one box per frame
    with pytest.raises(ValueError, match='query_points'):
        s.query_points = np.zeros((7, 2))
    with pytest.raises(TypeError, match='pred_tracks'):
        s.pred_tracks = [[0, 0]]
    s.anything_else = [1, 2]  # unknown fields are not checked
    s.gt_keypoints = None  # absent ground truth
    assert s.pred_bbox.tolist() == [1, 2, 30, 40]


def test_metainfo_is_not_checked_and_to_dict_is_flat():
    s = DataSample(metainfo=dict(pred_mask='a path, say'))  # metainfo is free
    s.pred_score = 0.5
    d = s.to_dict()
    assert d['pred_mask'] == 'a path, say' and d['pred_score'] == 0.5
    assert isinstance(s, BaseDataElement)


def test_video_frame_samples():
    meta = dict(video_name='v', frame_names=['a', 'b'], mask_paths=['m0.png'], num_frames=2,
                object_ids=[1, 2], height=None, frame_paths=['x', 'y'])
    out = video_frame_samples(meta, 2)
    assert [o.frame_id for o in out] == [0, 1]
    assert [o.frame_name for o in out] == ['a', 'b']
    assert [o.gt_mask_path for o in out] == ['m0.png', None]
    assert out[1].object_ids == [1, 2] and 'height' not in out[1]  # None values dropped
    assert 'frame_paths' not in out[0]  # only the video keys are copied
    assert video_frame_samples(dict(video_name='w'), 3)[2].frame_name == '00002'
