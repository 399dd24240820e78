"""The data sample of every task: metainfo, ground truth and predictions.

One MMEngine data element for all tasks, as mmpretrain's ``DataSample``:
the fields of a task are flat (``pred_bbox``, ``pred_mask``,
``pred_flow``, ...), so a metric reads them by name from a sample or from
the dict MMEngine's ``Evaluator`` makes of it (``to_dict()``), and the
values of the known fields are checked when they are set, so that a model
that writes a wrong shape fails where it writes it, naming the field.
"""
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.structures import BaseDataElement

#: Known data fields -> (expected trailing shape, what it holds). ``None`` in
#: a shape is any size; the leading dimensions are free unless ``ndim`` says.
FIELD_SPECS: Dict[str, Tuple[Tuple[Optional[int], ...], Optional[int], str]] = {
    # single-object tracking (image pixels unless said otherwise)
    'gt_bbox': ((4, ), None, 'box (x1, y1, x2, y2), or a crop-normalised training box'),
    'pred_bbox': ((4, ), 1, 'box (x1, y1, x2, y2)'),
    'pred_bbox_xywh': ((4, ), 1, 'box (x, y, w, h)'),
    # segmentation: object ids per pixel
    'gt_mask': ((None, None), 2, '(H, W) object ids'),
    'pred_mask': ((None, None), 2, '(H, W) object ids'),
    # optical flow: (u, v) per pixel
    'gt_flow': ((None, None, 2), 3, '(H, W, 2) flow (u, v)'),
    'pred_flow': ((None, None, 2), 3, '(H, W, 2) flow (u, v)'),
    'flow_valid': ((None, None), 2, '(H, W) valid-pixel mask'),
    # point tracks: N queries over T frames, (x, y) pixels
    'query_points': ((None, 3), 2, '(N, 3) queries (t, y, x)'),
    'gt_tracks': ((None, None, 2), 3, '(N, T, 2) tracks (x, y)'),
    'pred_tracks': ((None, None, 2), 3, '(N, T, 2) tracks (x, y)'),
    'gt_occluded': ((None, None), 2, '(N, T) occlusion flags'),
    'pred_occluded': ((None, None), 2, '(N, T) occlusion flags'),
    # 3D boxes: centre, size, heading
    'gt_bbox_3d': ((7, ), None, 'LiDAR box (cx, cy, cz, l, w, h, yaw)'),
    'pred_bbox_3d': ((7, ), None, 'LiDAR box (cx, cy, cz, l, w, h, yaw)'),
    'gt_offset_3d': ((4, ), 1, 'target in the reference box frame (dx, dy, dz, dyaw)'),
    # keypoints (J joints, (x, y) pixels)
    'gt_keypoints': ((None, 2), 2, '(J, 2) keypoints (x, y)'),
    'pred_keypoints': ((None, 2), 2, '(J, 2) keypoints (x, y)'),
}


def check_field(name: str, value: Any) -> None:
    """Raise ``ValueError`` when ``value`` does not have the shape of the
    known field ``name`` (unknown names pass)."""
    spec = FIELD_SPECS.get(name)
    if spec is None or value is None:
        return
    shape, ndim, what = spec
    if not isinstance(value, (np.ndarray, torch.Tensor)):
        raise TypeError(f'{name} must be a numpy array or tensor ({what}), got '
                        f'{type(value).__name__}')
    got = tuple(value.shape)
    bad = len(got) < len(shape) or (ndim is not None and len(got) != ndim) or any(
        s is not None and g != s for g, s in zip(got[len(got) - len(shape):], shape))
    if bad:
        want = 'x'.join('?' if s is None else str(s) for s in shape)
        raise ValueError(f'{name} must be {what} (shape ...x{want}), got shape {got}')


class DataSample(BaseDataElement):
    """A data sample of any task (see :data:`FIELD_SPECS` for the fields
    whose shapes are checked on assignment).

    Examples:
        >>> s = DataSample(metainfo=dict(video_name='v', frame_id=0))
        >>> s.pred_bbox = np.array([1, 2, 30, 40], np.float32)
        >>> s.pred_mask = np.zeros((2, 3, 4))  # raises ValueError
    """

    def set_field(self, value: Any, name: str, dtype=None, field_type: str = 'data') -> None:
        if field_type == 'data':
            check_field(name, value)
        super().set_field(value, name, dtype=dtype, field_type=field_type)


#: Video metainfo keys copied into every per-frame output sample.
VIDEO_KEYS = ('video_name', 'num_frames', 'height', 'width', 'object_ids', 'first_frames',
              'object_categories', 'single_object')


def video_frame_samples(meta: dict, num_frames: int) -> List[DataSample]:
    """One output sample per frame of a whole-video item: the video keys of
    ``meta`` (:data:`VIDEO_KEYS`) plus ``frame_id``, ``frame_name`` and
    ``gt_mask_path``; the model adds its predictions."""
    names = meta.get('frame_names') or [f'{i:05d}' for i in range(num_frames)]
    gt_paths = meta.get('mask_paths') or []
    shared = {k: meta[k] for k in VIDEO_KEYS if meta.get(k) is not None}
    shared.setdefault('num_frames', num_frames)
    return [
        DataSample(metainfo=dict(shared, frame_id=t, frame_name=names[t],
                                 gt_mask_path=gt_paths[t] if t < len(gt_paths) else None))
        for t in range(num_frames)
    ]
