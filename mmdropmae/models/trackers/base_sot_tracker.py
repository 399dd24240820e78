"""Test-time logic of crop-based single-object trackers (OSTrack style).

References: OSTrack (Ye et al., ECCV 2022) ``lib/test/tracker/ostrack.py``
(``initialize``, ``track``, ``map_box_back``), ``lib/test/utils/hann.py``,
``lib/utils/box_ops.py`` (``clip_box``) and
``lib/train/data/processing_utils.py`` (``sample_target``); DropTrack (Wu et
al., CVPR 2023) runs the same code.
"""
import math
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from mmdropmae.structures.data_sample import DataSample
from mmdropmae.utils.image import sample_target
from ..base import BaseOnlineTracker


def hann1d(size: int, centered: bool = True) -> Tensor:
    """OSTrack's ``hann1d`` (``lib/test/utils/hann.py``)."""
    if centered:
        return 0.5 * (1 - torch.cos(
            (2 * math.pi / (size + 1)) * torch.arange(1, size + 1).float()))
    w = 0.5 * (1 + torch.cos(
        (2 * math.pi / (size + 2)) * torch.arange(0, size // 2 + 1).float()))
    return torch.cat([w, w[1:size - size // 2].flip((0, ))])


def hann2d(size: Tuple[int, int], centered: bool = True) -> Tensor:
    """(1, 1, H, W) 2D Hann window."""
    return hann1d(size[0], centered).reshape(1, 1, -1, 1) * \
        hann1d(size[1], centered).reshape(1, 1, 1, -1)


def clip_box(box: Sequence[float], height: int, width: int,
             margin: float = 0.) -> List[float]:
    """Clip an (x, y, w, h) box into the image and keep it at least
    ``margin`` pixels wide and high (OSTrack's ``clip_box``; the margin is
    capped by the image size so that the box always lies inside it)."""
    margin = min(float(margin), float(width), float(height))
    x1, y1, w, h = [float(v) for v in box]
    x2, y2 = x1 + w, y1 + h
    x1 = min(max(0., x1), width - margin)
    x2 = min(max(margin, x2), float(width))
    y1 = min(max(0., y1), height - margin)
    y2 = min(max(margin, y2), float(height))
    return [x1, y1, max(margin, x2 - x1), max(margin, y2 - y1)]


def as_rgb_frame(frame) -> np.ndarray:
    """An RGB uint8 (H, W, 3) array from an array or a (3, H, W) or
    (H, W, 3) tensor (gray frames are repeated to three channels)."""
    if isinstance(frame, Tensor):
        frame = frame.detach().cpu()
        if frame.ndim == 3 and frame.shape[0] in (1, 3) and \
                frame.shape[-1] not in (1, 3):
            frame = frame.permute(1, 2, 0)
        frame = frame.numpy()
    frame = np.asarray(frame)
    if frame.ndim == 2:
        frame = np.repeat(frame[..., None], 3, axis=2)
    if frame.ndim != 3 or frame.shape[2] not in (1, 3):
        raise ValueError('expected an (H, W, 3) frame, got shape '
                         f'{frame.shape}')
    if frame.shape[2] == 1:
        frame = np.repeat(frame, 3, axis=2)
    if frame.dtype != np.uint8:
        frame = np.clip(frame, 0, 255).astype(np.uint8)
    return frame


def check_init_bbox(bbox: Sequence[float], image_size: Tuple[int, int]) -> List[float]:
    """Validate an (x, y, w, h) initial box; raises ``ValueError`` with
    the problem named (degenerate or outside the image)."""
    if len(bbox) != 4:
        raise ValueError(f'the init box needs 4 values (x, y, w, h), got '
                         f'{len(bbox)}: {list(bbox)}')
    x, y, w, h = [float(v) for v in bbox]
    height, width = image_size
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise ValueError(f'the init box {list(bbox)} has non-finite '
                         'values')
    if w <= 0 or h <= 0:
        raise ValueError(f'degenerate init box {list(bbox)}: width and '
                         f'height must be > 0 (got w={w:g}, h={h:g})')
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise ValueError(f'init box {list(bbox)} (x, y, w, h) lies '
                         f'outside the {width}x{height} image')
    return [x, y, w, h]


def init_box_xywh(meta: dict) -> List[float]:
    """The (x, y, w, h) first-frame box of a test item's metainfo
    (``init_bbox_xywh``, ``gt_bbox_xywh`` or the xyxy ``init_bbox``)."""
    if meta.get('init_bbox_xywh') is not None:
        return [float(v) for v in meta['init_bbox_xywh']]
    if meta.get('gt_bbox_xywh') is not None:
        return [float(v) for v in meta['gt_bbox_xywh']]
    box = [float(v) for v in meta['init_bbox']]  # xyxy
    return [box[0], box[1], box[2] - box[0], box[3] - box[1]]


@dataclass
class TrackState:
    """What the tracker keeps between frames of one video."""
    template: Tensor  # (1, 3, Ht, Wt) normalised template crop
    bbox: List[float]  # current (x, y, w, h) in image pixels
    image_size: Tuple[int, int]  # (H, W)
    frame_id: int = 0
    score: float = 1.
    extra: dict = field(default_factory=dict)


class BaseSOTTracker(BaseOnlineTracker):
    """Test-time logic of a crop-based single-object tracker with a centre
    head (OSTrack's ``lib/test/tracker/ostrack.py``).

    :meth:`init_track` crops the template (``template_factor`` context,
    ``template_size`` px) around the first box; :meth:`track` crops the
    search region (``search_factor``, ``search_size`` px) around the previous
    box (``sample_target``, zero padding; by default with OSTrack's exact
    arithmetic, ``test_cfg['crop']``), normalises it (OSTrack's arithmetic,
    ``test_cfg['normalize']``), runs :meth:`forward_pair`,
    multiplies the score map by a Hann window, reads the box at the maximum
    (``head.cal_bbox``), maps it back to the image and clips it
    (``test_cfg['clip_margin']`` px minimum size, OSTrack's
    ``clip_box(margin=10)``); a non-finite prediction keeps the previous box.

    Subclasses set ``template_size``, ``search_size``, ``template_factor``,
    ``search_factor``, ``head`` (with ``cal_bbox``), ``test_cfg`` and the
    non-persistent buffer ``output_window`` (:func:`hann2d` of the score-map
    size), and implement :meth:`forward_pair`.

    Each output sample gets ``pred_bbox`` (float32 (4,) xyxy, image pixels),
    ``pred_bbox_xywh``, ``pred_score`` and ``time``: the input format of
    ``OPEMetric`` / ``GOT10kMetric``.
    """

    def forward_pair(self, template: Tensor, search: Tensor) -> dict:
        """Score, size and offset maps of normalised crops."""
        raise NotImplementedError

    def set_network_backend(self, backend: Optional[Callable[[Tensor, Tensor], dict]]
                            ) -> None:
        """Run the network of :meth:`track` with ``backend(template,
        search) -> dict(score_map, size_map, offset_map)`` instead of
        :meth:`forward_pair`, e.g. an onnxruntime session
        (``tools/deployment/ort_backend.py`` ``ORTNetwork``); None goes back
        to PyTorch. Crop, normalisation, window, read-out, map-back and clip
        stay the same."""
        self.__dict__['_network_backend'] = backend

    def run_network(self, template: Tensor, search: Tensor) -> dict:
        """The network of one step: :meth:`forward_pair` or the backend of
        :meth:`set_network_backend`."""
        backend = self.__dict__.get('_network_backend')
        if backend is None:
            return self.forward_pair(template, search)
        return backend(template, search)

    def _device(self) -> torch.device:
        return self.output_window.device

    def preprocess(self, crop: np.ndarray) -> Tensor:
        """An RGB uint8 (S, S, 3) crop -> normalised (1, 3, S, S) tensor on
        the model's device.

        ``test_cfg['normalize']``: 'ostrack' (default) computes
        ``(x / 255 - mean) / std`` with the mean and std on the 0-1 scale,
        in float32, as OSTrack's ``Preprocessor``
        (``lib/test/tracker/data_utils.py``) does, so the crops are bit for
        bit the reference's; 'preprocessor' uses the data preprocessor's
        ``(x - 255 mean) / (255 std)`` (the training path; the two differ by
        float rounding, about 1e-7 relative).
        """
        t = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1)[None]
        t = t.to(self._device())
        if self.test_cfg.get('normalize', 'ostrack') == 'ostrack':
            mean, std = self._unit_mean_std()
            return (t.float() / 255.0 - mean) / std
        return self.data_preprocessor.normalize(t)

    def _unit_mean_std(self) -> Tuple[Tensor, Tensor]:
        """The data preprocessor's mean and std on the 0-1 scale, as float32
        (1, 3, 1, 1) tensors equal to the constants of the reference
        configs (``DATA.MEAN`` 0.485, 0.456, 0.406 / ``DATA.STD`` 0.229,
        0.224, 0.225 for ImageNet): each stored float32 value is read back
        as its shortest decimal (123.675) and divided by 255 in float64."""
        pre = self.data_preprocessor

        def unit(t: Tensor) -> Tensor:
            vals = [float(np.format_float_positional(np.float32(v))) / 255.
                    for v in t.flatten().tolist()]
            return torch.tensor(vals, dtype=torch.float32,
                                device=self._device()).view(1, -1, 1, 1)

        return unit(pre.mean), unit(pre.std)

    @torch.no_grad()
    def init_track(self, frame, bbox: Sequence[float]) -> TrackState:
        """Start tracking: crop the template (``template_factor`` context)
        around ``bbox`` (x, y, w, h) in the RGB ``frame``."""
        frame = as_rgb_frame(frame)
        size = frame.shape[:2]
        bbox = check_init_bbox(bbox, size)
        crop, _ = sample_target(frame, bbox, self.template_factor, self.template_size,
                                method=self.crop_method)
        return TrackState(template=self.preprocess(crop), bbox=bbox, image_size=size)

    @property
    def crop_method(self) -> str:
        """``test_cfg['crop']``: 'ostrack' (default: OSTrack's rounded,
        padded and resized crop, :func:`~mmdropmae.utils.image.ostrack_crop`)
        or 'warp' (one sub-pixel ``cv2.warpAffine``, the training
        pipelines' crop)."""
        return self.test_cfg.get('crop', 'ostrack')

    def map_box_back(self, pred_box: Sequence[float], prev: Sequence[float],
                     resize_factor: float) -> List[float]:
        """(cx, cy, w, h) in search-crop pixels / resize factor -> image
        (x, y, w, h) (OSTrack's ``map_box_back``)."""
        cx_prev = prev[0] + 0.5 * prev[2]
        cy_prev = prev[1] + 0.5 * prev[3]
        cx, cy, w, h = pred_box
        half_side = 0.5 * self.search_size / resize_factor
        cx_real = cx + (cx_prev - half_side)
        cy_real = cy + (cy_prev - half_side)
        return [cx_real - 0.5 * w, cy_real - 0.5 * h, w, h]

    def search_crop(self, frame: np.ndarray, state: TrackState):
        """The search crop (numpy) around the state's box and the resize
        factor."""
        return sample_target(frame, state.bbox, self.search_factor, self.search_size,
                             method=self.crop_method)

    @torch.no_grad()
    def postprocess(self, out: dict, state: TrackState,
                    resize_factor: float) -> Tuple[List[float], float]:
        """Network outputs of one search crop -> the new (unclipped) image
        box (x, y, w, h) and the score at the chosen location: Hann window
        on the score map, box at its maximum, mapped back to the image."""
        score_map = out['score_map']
        response = score_map * self.output_window \
            if self.test_cfg['window'] == 'hann' else score_map
        box = self.head.cal_bbox(response, out['size_map'], out['offset_map'])
        idx = response.flatten(1).argmax(1, keepdim=True)
        score = float(score_map.flatten(1).gather(1, idx))
        pred = (box[0] * self.search_size / resize_factor).tolist()
        return self.map_box_back(pred, state.bbox, resize_factor), score

    @torch.no_grad()
    def track(self, frame, state: TrackState) -> Tuple[np.ndarray, float]:
        """Track one frame: returns the (x, y, w, h) box, clipped to the
        image (at least ``clip_margin`` px wide and high), and the score at
        the chosen location; ``state`` is updated. A non-finite prediction
        keeps the previous box."""
        frame = as_rgb_frame(frame)
        height, width = frame.shape[:2]
        crop, r = self.search_crop(frame, state)
        out = self.run_network(state.template, self.preprocess(crop))
        box, score = self.postprocess(out, state, r)
        if not all(math.isfinite(v) for v in box):
            box, score = list(state.bbox), 0.
        box = clip_box(box, height, width, self.test_cfg['clip_margin'])
        state.bbox = box
        state.score = score
        state.image_size = (height, width)
        state.frame_id += 1
        return np.asarray(box, dtype=np.float32), score

    # ------------------------------------------------- BaseOnlineTracker
    def init_video(self, frame, data_sample) -> TrackState:
        return self.init_track(frame, init_box_xywh(data_sample.metainfo))

    def track_frame(self, frame, state: TrackState, data_sample) -> None:
        self.track(frame, state)

    def state_to_sample(self, state: TrackState, sample: DataSample) -> DataSample:
        box = np.asarray(state.bbox, np.float32)
        xyxy = box.copy()
        xyxy[2:] += xyxy[:2]
        sample.pred_bbox = xyxy
        sample.pred_bbox_xywh = box
        sample.pred_score = float(state.score)
        return sample
