"""Transforms of single object tracking: template/search pair crops for
training (OSTrack's ``STARKProcessing``) and per-frame packing for testing.

The crop geometry (:func:`~mmdropmae.utils.image.sample_target`,
:func:`~mmdropmae.utils.image.transform_box_to_crop`, re-exported here) lives
in :mod:`mmdropmae.utils.image`, shared with the test-time tracker, so that
training and inference see the same search-region framing. Boxes are
``(x, y, w, h)`` in continuous pixel coordinates (pixel ``i`` covers
``[i, i + 1)``).

Randomness comes from the global ``np.random`` state, which MMEngine seeds
per data loader worker.
"""
import math
from typing import Dict, Optional, Sequence

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmdropmae.registry import TRANSFORMS
from mmdropmae.structures.data_sample import DataSample
from mmdropmae.utils.image import (crop_size_of, crop_valid_region, load_rgb_image, sample_target,
                                   transform_box_to_crop)

__all__ = [
    'crop_size_of', 'sample_target', 'crop_valid_region', 'transform_box_to_crop', 'jitter_box',
    'LoadSOTPairImages', 'SOTPairCrop', 'SOTPairGrayscale', 'SOTPairBrightnessJitter',
    'SOTPairRandomFlip', 'PackSOTPairInputs', 'LoadTrackingFrame', 'PackTrackingFrame'
]


def jitter_box(bbox: Sequence[float], scale_jitter: float,
               center_jitter: float) -> np.ndarray:
    """OSTrack's ``_get_jittered_box``: size times ``exp(N(0, 1) *
    scale_jitter)`` per side, centre moved uniformly by up to
    ``+-0.5 * center_jitter * sqrt(w' * h')``."""
    bbox = np.asarray(bbox, dtype=np.float64)
    size = bbox[2:4] * np.exp(np.random.randn(2) * scale_jitter)
    max_offset = math.sqrt(max(float(size.prod()), 0.)) * center_jitter
    center = bbox[:2] + 0.5 * bbox[2:4] + max_offset * (np.random.rand(2) - 0.5)
    return np.concatenate([center - 0.5 * size, size])


# --------------------------------------------------------------------------
# training pairs
# --------------------------------------------------------------------------
@TRANSFORMS.register_module()
class LoadSOTPairImages(BaseTransform):
    """Read the template and search frames (RGB ``uint8``).

    Required keys: ``template_img_path``, ``search_img_path`` (or
    ``template_img``/``search_img`` already in memory).
    Added keys: ``template_img``, ``search_img``, ``template_ori_shape``,
    ``search_ori_shape``.
    """

    def transform(self, results: Dict) -> Dict:
        for s in ('template', 'search'):
            if results.get(f'{s}_img') is None:
                results[f'{s}_img'] = load_rgb_image(results[f'{s}_img_path'])
            results[f'{s}_ori_shape'] = results[f'{s}_img'].shape[:2]
        return results


@TRANSFORMS.register_module()
class SOTPairCrop(BaseTransform):
    """Jittered template and search crops (OSTrack's ``STARKProcessing``).

    For each of template and search, the ground-truth box is jittered
    (:func:`jitter_box`), a square region of ``ceil(sqrt(w'h') * factor)``
    around the jittered box is cropped with zero padding and resized, and
    the true box is mapped into the crop and normalised to [0, 1].
    OSTrack's defaults (``experiments/ostrack/vitb_256_mae_ce_32x4_*.yaml``):
    template 128 px, factor 2, no jitter; search 256 px, factor 4, scale
    jitter 0.25, centre jitter 3. DropTrack's 384 variant: template 192,
    search 384, factor 5, scale jitter 0.5, centre jitter 4.5.

    The pair is rejected (the transform returns ``None`` and the dataset
    draws another pair) like OSTrack does when a crop side would be < 1 px
    or when a crop shows no image at its feature-map resolution
    (the ``att`` mask downsampled to ``size // stride`` is all padding).

    Required keys: ``template_img``, ``search_img``, ``template_bbox``,
    ``search_bbox`` ((4,) xywh image boxes).
    Modified keys: ``template_img``, ``search_img`` (the crops).
    Added keys: ``template_bbox_crop``, ``search_bbox_crop`` (normalised
    xywh in the crops), ``search_resize_factor``.

    Args:
        template_size (int), search_size (int): Output sides.
        template_factor (float), search_factor (float): Context factors.
        template_scale_jitter, template_center_jitter,
        search_scale_jitter, search_center_jitter (float): Jitter factors.
        stride (int): Patch stride for the validity check. Defaults to 16.
    """

    def __init__(self,
                 template_size: int = 128,
                 search_size: int = 256,
                 template_factor: float = 2.,
                 search_factor: float = 4.,
                 template_scale_jitter: float = 0.,
                 template_center_jitter: float = 0.,
                 search_scale_jitter: float = 0.25,
                 search_center_jitter: float = 3.,
                 stride: int = 16):
        self.size = dict(template=template_size, search=search_size)
        self.factor = dict(template=template_factor, search=search_factor)
        self.scale_jitter = dict(
            template=template_scale_jitter, search=search_scale_jitter)
        self.center_jitter = dict(
            template=template_center_jitter, search=search_center_jitter)
        self.stride = stride

    def _shows_image(self, img_shape, center, crop_sz, out) -> bool:
        u0, v0, u1, v1 = crop_valid_region(img_shape, center, crop_sz, out)
        # nearest downsampling to out // stride samples pixels i * stride
        cells = np.arange(out // self.stride) * (out / (out // self.stride))
        cell_centres = np.floor(cells) + 0.5
        in_u = ((cell_centres >= u0) & (cell_centres < u1)).any()
        in_v = ((cell_centres >= v0) & (cell_centres < v1)).any()
        return bool(in_u and in_v)

    def transform(self, results: Dict) -> Optional[Dict]:
        for s in ('template', 'search'):
            bbox = np.asarray(results[f'{s}_bbox'], dtype=np.float64)
            img = results[f'{s}_img']
            jit = jitter_box(bbox, self.scale_jitter[s], self.center_jitter[s])
            crop_sz = crop_size_of(jit, self.factor[s])
            if crop_sz < 1:
                return None
            center = (jit[0] + 0.5 * jit[2], jit[1] + 0.5 * jit[3])
            out = self.size[s]
            if not self._shows_image(img.shape, center, crop_sz, out):
                return None
            crop, r = sample_target(img, jit, self.factor[s], out,
                                    center=center)
            results[f'{s}_img'] = crop
            results[f'{s}_bbox_crop'] = transform_box_to_crop(
                bbox, center, r, out)
            results[f'{s}_resize_factor'] = r
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, '
                f'factor={self.factor}, scale_jitter={self.scale_jitter}, '
                f'center_jitter={self.center_jitter})')


@TRANSFORMS.register_module()
class SOTPairGrayscale(BaseTransform):
    """Turn both crops to 3-channel grayscale with probability ``prob``
    (OSTrack's joint ``ToGrayscale(probability=0.05)``)."""

    def __init__(self, prob: float = 0.05):
        self.prob = prob

    def transform(self, results: Dict) -> Dict:
        if np.random.rand() < self.prob:
            for s in ('template', 'search'):
                gray = cv2.cvtColor(results[f'{s}_img'], cv2.COLOR_RGB2GRAY)
                results[f'{s}_img'] = np.repeat(gray[..., None], 3, axis=2)
        return results


@TRANSFORMS.register_module()
class SOTPairBrightnessJitter(BaseTransform):
    """Multiply each crop by its own factor uniform in ``[max(0, 1 - b),
    1 + b]`` and clip (OSTrack's ``ToTensorAndJitter(0.2)``, drawn per
    image)."""

    def __init__(self, brightness: float = 0.2):
        self.brightness = brightness

    def transform(self, results: Dict) -> Dict:
        lo, hi = max(0., 1 - self.brightness), 1 + self.brightness
        for s in ('template', 'search'):
            f = np.random.uniform(lo, hi)
            img = results[f'{s}_img'].astype(np.float32) * f
            results[f'{s}_img'] = np.clip(img, 0, 255).astype(np.uint8)
        return results


@TRANSFORMS.register_module()
class SOTPairRandomFlip(BaseTransform):
    """Flip template and search crops horizontally together with
    probability ``prob``; the normalised boxes follow (``x' = 1 - x - w``).

    OSTrack flips the full frames jointly (p=0.5) and then each crop again
    independently (``RandomHorizontalFlip_Norm``); ``independent_prob`` > 0
    adds that second, per-crop flip.
    """

    def __init__(self, prob: float = 0.5, independent_prob: float = 0.):
        self.prob = prob
        self.independent_prob = independent_prob

    @staticmethod
    def _flip(results: Dict, s: str) -> None:
        results[f'{s}_img'] = np.ascontiguousarray(results[f'{s}_img'][:, ::-1])
        box = results[f'{s}_bbox_crop'].copy()
        box[0] = 1. - box[0] - box[2]
        results[f'{s}_bbox_crop'] = box

    def transform(self, results: Dict) -> Dict:
        flipped = np.random.rand() < self.prob
        if flipped:
            for s in ('template', 'search'):
                self._flip(results, s)
        if self.independent_prob > 0:
            for s in ('template', 'search'):
                if np.random.rand() < self.independent_prob:
                    self._flip(results, s)
        results['flip'] = flipped
        return results


def _to_chw_tensor(img: np.ndarray) -> torch.Tensor:
    if img.ndim == 2:
        img = img[..., None]
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackSOTPairInputs(BaseTransform):
    """Pack a training pair.

    Returns:
        dict: ``inputs`` = ``dict(template=uint8 (3, Ht, Wt), search=uint8
        (3, Hs, Ws))`` and ``data_samples``, a ``DataSample`` with
        ``gt_bbox`` (float32 (4,), search box xywh normalised to [0, 1]),
        ``template_bbox`` (same for the template) and the ``meta_keys``
        present as metainfo.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('dataset_name', 'video_name',
                                             'template_frame_id',
                                             'search_frame_id', 'flip')):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Dict:
        inputs = dict(
            template=_to_chw_tensor(results['template_img']),
            search=_to_chw_tensor(results['search_img']))
        sample = DataSample(
            metainfo={k: results[k] for k in self.meta_keys if k in results})
        sample.gt_bbox = torch.as_tensor(
            results['search_bbox_crop'], dtype=torch.float32)
        sample.template_bbox = torch.as_tensor(
            results['template_bbox_crop'], dtype=torch.float32)
        return dict(inputs=inputs, data_samples=sample)


# --------------------------------------------------------------------------
# test frames
# --------------------------------------------------------------------------
@TRANSFORMS.register_module()
class LoadTrackingFrame(BaseTransform):
    """Read ``img_path`` as an RGB ``uint8`` image into ``img`` and set
    ``ori_shape``/``img_shape`` (trackers normalise RGB crops)."""

    def transform(self, results: Dict) -> Dict:
        img = load_rgb_image(results['img_path'])
        results['img'] = img
        results['ori_shape'] = img.shape[:2]
        results['img_shape'] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class PackTrackingFrame(BaseTransform):
    """Pack one test frame for a tracker.

    Returns:
        dict: ``inputs``, the full RGB ``uint8`` (H, W, 3) frame as a numpy
        array (the tracker crops it around its state; the data preprocessor
        leaves it on the host), and ``data_samples``, a ``DataSample``
        whose metainfo holds the ``meta_keys`` present (``frame_id``,
        ``video_id``, ``video_name``, ``init_bbox`` xyxy, ``gt_bbox`` xyxy,
        ... from the SOT datasets' per-frame test view).
    """

    def __init__(self,
                 meta_keys: Sequence[str] = (
                     'img_path', 'frame_id', 'video_id', 'video_name',
                     'video_length', 'gt_bbox', 'gt_bbox_xywh', 'init_bbox',
                     'visible', 'target_visible', 'has_gt', 'ori_shape', 'img_shape',
                     'dataset', 'sample_idx')):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Dict:
        img = results['img']
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        sample = DataSample(
            metainfo={k: results[k] for k in self.meta_keys if k in results})
        return dict(inputs=np.ascontiguousarray(img), data_samples=sample)
