"""Transforms of video object segmentation.

Training clips (:class:`~mmdropmae.datasets.VOSClipDataset` items): load the
frames and masks (:class:`LoadVOSClip`, remapping the chosen objects to ids
``1..K``), a random resized crop and a horizontal flip drawn once per clip
and applied to every frame and mask (:class:`VOSClipRandomResizedCrop`,
:class:`VOSClipRandomFlip`), colour jitter (:class:`VOSClipColorJitter`:
one draw per clip plus a small per-frame one, as STCN's
``all_im_lone_transform`` / ``pair_im_lone_transform``), then
:class:`PackVOSClip`.

Testing: one whole sequence per item (``mode='sequence'`` data sets):
:class:`LoadVOSSequence` reads every frame and the reference masks of the
frames where objects are initialised; :class:`PackVOSSequence` packs them for
:class:`~mmdropmae.models.DropSeg`.

Randomness comes from the global ``np.random`` state (seeded per worker by
MMEngine).
"""
import math
from typing import Dict, List, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmdropmae.registry import TRANSFORMS
from mmdropmae.structures.data_sample import DataSample
from mmdropmae.utils.fileio import load_vos_mask
from mmdropmae.utils.image import load_rgb_image


def _size(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    """(h, w) of an int or (h, w) size."""
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


@TRANSFORMS.register_module()
class LoadVOSClip(BaseTransform):
    """Read ``img_paths`` / ``mask_paths`` of a clip; objects in
    ``object_ids`` become ids ``1..K`` (in that order), all others 0.

    Adds ``imgs`` (list of (H, W, 3) uint8 RGB) and ``gt_masks`` (list of
    (H, W) uint8).
    """

    def transform(self, results: dict) -> dict:
        imgs = [load_rgb_image(p) for p in results['img_paths']]
        single = bool(results.get('single_object', False))
        keep = list(results.get('object_ids') or [])
        lut = np.zeros(256, np.uint8)
        for new, old in enumerate(keep, start=1):
            lut[int(old)] = new
        masks = []
        for img, p in zip(imgs, results['mask_paths']):
            if p is None:
                raise ValueError('training frame without annotation in '
                                 f'{results.get("video_name")}')
            m = load_vos_mask(p, single_object=single)
            if m.shape != img.shape[:2]:
                raise ValueError(f'mask {p} is {m.shape} but its frame is {img.shape[:2]}')
            masks.append(lut[m.astype(np.int64).clip(0, 255)])
        results['imgs'] = imgs
        results['gt_masks'] = masks
        results['num_objects'] = len(keep)
        return results


@TRANSFORMS.register_module()
class VOSClipRandomResizedCrop(BaseTransform):
    """One random resized crop for the whole clip (image bilinear, masks
    nearest), retried up to ``max_tries`` times until the first (reference)
    frame keeps ``min_ref_pixels`` object pixels.

    Args:
        size (int | tuple): Output (h, w).
        scale (tuple): Area fraction range (STCN: (0.36, 1.0)).
        ratio (tuple): Aspect ratio range (w / h).
        min_ref_pixels (int): Object pixels wanted in the reference crop.
        max_tries (int): Crop draws before keeping the last one.
    """

    def __init__(self, size: Union[int, Sequence[int]], scale=(0.36, 1.0),
                 ratio=(3 / 4, 4 / 3), min_ref_pixels: int = 10, max_tries: int = 5):
        self.size = _size(size)
        self.scale = scale
        self.ratio = ratio
        self.min_ref_pixels = min_ref_pixels
        self.max_tries = max_tries

    def _params(self, h: int, w: int):
        area = h * w
        for _ in range(10):
            target = area * np.random.uniform(*self.scale)
            log_r = (math.log(self.ratio[0]), math.log(self.ratio[1]))
            ar = math.exp(np.random.uniform(*log_r))
            cw = int(round(math.sqrt(target * ar)))
            ch = int(round(math.sqrt(target / ar)))
            if 0 < cw <= w and 0 < ch <= h:
                return np.random.randint(0, h - ch + 1), np.random.randint(0, w - cw + 1), ch, cw
        return 0, 0, h, w

    def transform(self, results: dict) -> dict:
        h, w = results['imgs'][0].shape[:2]
        for _ in range(max(1, self.max_tries)):
            y, x, ch, cw = self._params(h, w)
            ref = results['gt_masks'][0][y:y + ch, x:x + cw]
            if (ref > 0).sum() >= self.min_ref_pixels:
                break
        oh, ow = self.size
        results['imgs'] = [
            cv2.resize(im[y:y + ch, x:x + cw], (ow, oh), interpolation=cv2.INTER_LINEAR)
            for im in results['imgs']
        ]
        results['gt_masks'] = [
            cv2.resize(m[y:y + ch, x:x + cw], (ow, oh), interpolation=cv2.INTER_NEAREST)
            for m in results['gt_masks']
        ]
        results['crop_bbox'] = (x, y, cw, ch)
        return results


@TRANSFORMS.register_module()
class VOSClipRandomFlip(BaseTransform):
    """Horizontal flip of every frame and mask of a clip with ``prob``."""

    def __init__(self, prob: float = 0.5):
        self.prob = prob

    def transform(self, results: dict) -> dict:
        flip = np.random.rand() < self.prob
        if flip:
            results['imgs'] = [np.ascontiguousarray(im[:, ::-1]) for im in results['imgs']]
            results['gt_masks'] = [np.ascontiguousarray(m[:, ::-1]) for m in results['gt_masks']]
        results['flip'] = bool(flip)
        return results


@TRANSFORMS.register_module()
class VOSClipColorJitter(BaseTransform):
    """Brightness / contrast / saturation jitter: one draw for the clip
    (``brightness, contrast, saturation``; STCN 0.1, 0.03, 0.03) times a
    per-frame draw (``frame_jitter``; STCN 0.01), and grayscale of the whole
    clip with ``gray_prob`` (STCN 0.05)."""

    def __init__(self, brightness: float = 0.1, contrast: float = 0.03,
                 saturation: float = 0.03, frame_jitter: float = 0.01, gray_prob: float = 0.05):
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.frame_jitter = frame_jitter
        self.gray_prob = gray_prob

    @staticmethod
    def _factor(amount: float) -> float:
        return float(np.random.uniform(max(0., 1 - amount), 1 + amount)) if amount > 0 else 1.

    def _jitter(self, img: np.ndarray, b: float, c: float, s: float) -> np.ndarray:
        x = img.astype(np.float32) * b
        gray = x @ np.array([0.299, 0.587, 0.114], np.float32)
        x = (x - gray.mean()) * c + gray.mean()
        gray = x @ np.array([0.299, 0.587, 0.114], np.float32)
        x = (x - gray[..., None]) * s + gray[..., None]
        return np.clip(x, 0, 255).astype(np.uint8)

    def transform(self, results: dict) -> dict:
        b, c, s = (self._factor(self.brightness), self._factor(self.contrast),
                   self._factor(self.saturation))
        gray = np.random.rand() < self.gray_prob
        out = []
        for im in results['imgs']:
            fj = self.frame_jitter
            im = self._jitter(im, b * self._factor(fj), c * self._factor(fj), s * self._factor(fj))
            if gray:
                g = cv2.cvtColor(im, cv2.COLOR_RGB2GRAY)
                im = np.repeat(g[..., None], 3, axis=2)
            out.append(im)
        results['imgs'] = out
        return results


@TRANSFORMS.register_module()
class PackVOSClip(BaseTransform):
    """``inputs = dict(imgs=(T, 3, H, W) uint8, masks=(T, H, W) uint8)``;
    ``data_samples`` a ``DataSample`` with the clip's metainfo."""

    meta_keys = ('video_name', 'frame_ids', 'object_ids', 'num_objects', 'flip', 'crop_bbox')

    def transform(self, results: dict) -> dict:
        imgs = torch.from_numpy(np.stack(results['imgs'])).permute(0, 3, 1, 2).contiguous()
        masks = torch.from_numpy(np.stack(results['gt_masks']).astype(np.uint8))
        sample = DataSample(metainfo={k: results[k] for k in self.meta_keys if k in results})
        return dict(inputs=dict(imgs=imgs, masks=masks), data_samples=sample)


@TRANSFORMS.register_module()
class LoadVOSSequence(BaseTransform):
    """Read every frame of a sequence entry (``frame_paths``) and the
    reference masks: for each frame where objects are initialised
    (``first_frames``), its annotation restricted to those objects.

    Adds ``frames`` ((T, H, W, 3) uint8) and ``init_masks`` (frame index ->
    (H, W) uint8 ids).
    """

    def transform(self, results: dict) -> dict:
        frames = [load_rgb_image(p) for p in results['frame_paths']]
        shapes = {f.shape for f in frames}
        if len(shapes) != 1:
            raise ValueError(f'frames of {results.get("video_name")} differ in size: {shapes}')
        starts: Dict[int, List[int]] = {}
        for obj, t in results['first_frames'].items():
            starts.setdefault(int(t), []).append(int(obj))
        init_masks = {}
        for t, objs in sorted(starts.items()):
            path = results['mask_paths'][t]
            if path is None:
                raise ValueError(f'{results.get("video_name")}: no annotation at frame {t} '
                                 f'where objects {objs} are initialised')
            m = load_vos_mask(path, single_object=bool(results.get('single_object', False)))
            keep = np.isin(m, objs)
            init_masks[t] = np.where(keep, m, 0).astype(np.uint8)
        results['frames'] = np.stack(frames)
        results['init_masks'] = init_masks
        return results


@TRANSFORMS.register_module()
class PackVOSSequence(BaseTransform):
    """``inputs = dict(frames=(T, 3, H, W) uint8)``; ``data_samples`` holds
    the sequence entry's keys and ``init_masks`` as metainfo."""

    meta_keys = ('video_name', 'frame_names', 'mask_paths', 'num_frames', 'height', 'width',
                 'object_ids', 'first_frames', 'object_categories', 'single_object',
                 'init_masks')

    def transform(self, results: dict) -> dict:
        frames = torch.from_numpy(results['frames']).permute(0, 3, 1, 2).contiguous()
        sample = DataSample(metainfo={k: results[k] for k in self.meta_keys if k in results})
        return dict(inputs=dict(frames=frames), data_samples=sample)
