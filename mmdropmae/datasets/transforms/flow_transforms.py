"""Transforms of optical-flow pairs that keep the flow consistent with the
images, following RAFT's ``core/utils/augmentor.py`` (princeton-vl/RAFT:
``FlowAugmentor`` for dense, ``SparseFlowAugmentor`` for KITTI/HD1K ground
truth), split into one registered transform per step.

Results keys: ``img1``, ``img2`` (H, W, 3) RGB ``uint8``; ``gt_flow``
(H, W, 2) ``float32`` forward flow of ``img1`` (pixel centres at integer
coordinates: pixel ``x`` of ``img1`` is at ``x + flow(x)`` in ``img2``);
``gt_valid`` (H, W) ``float32`` (1 = ground truth); ``sparse`` (bool, KITTI
style ground truth); optionally ``gt_occlusion`` (H, W) bool, transformed
along (synthetic data and tests).

How each spatial step changes the flow:

* resize by ``(sx, sy)`` (``cv2.resize`` with ``fx, fy``, which maps pixel
  centres ``x' = (x + 0.5) sx - 0.5``): ``flow' = flow * (sx, sy)``; sparse
  ground truth is scattered to the rounded new positions (RAFT's
  ``resize_sparse_flow_map``) instead of interpolated;
* horizontal flip ``x' = W - 1 - x``: ``u' = -u`` (vertical: ``v' = -v``);
* crop: unchanged values.
"""
import os.path as osp
from typing import Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmdropmae.registry import TRANSFORMS
from mmdropmae.structures import DataSample
from mmdropmae.utils.image import load_rgb_image
from ..flow.pfm import read_pfm


def _pair(x: Union[int, Sequence[int]]) -> Tuple[int, int]:
    return (int(x), int(x)) if isinstance(x, (int, float)) else (int(x[0]), int(x[1]))


def read_flow_gt(path: str, fmt: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Read a ground-truth flow file.

    Args:
        path (str): The file.
        fmt (str): ``'flo'`` (``mmcv.flowread``), ``'pfm'`` (first two
            channels, RAFT's ``read_gen``) or ``'kitti'``
            (``mmcv.sparse_flow_from_bytes``).

    Returns:
        tuple: ``float32`` (H, W, 2) flow and the valid mask (KITTI) or None.

    Raises:
        FileNotFoundError: Missing file. ValueError: unreadable file (both
            name it).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'flow ground truth not found: {path}')
    try:
        if fmt == 'flo':
            return mmcv.flowread(path).astype(np.float32), None
        if fmt == 'pfm':
            return np.ascontiguousarray(read_pfm(path)[..., :2]), None
        if fmt == 'kitti':
            with open(path, 'rb') as f:
                flow, valid = mmcv.sparse_flow_from_bytes(f.read())
            return flow.astype(np.float32), valid.astype(np.float32)
    except FileNotFoundError:
        raise
    except Exception as e:  # mmcv raises IOError / cv2 errors / asserts
        raise ValueError(f'cannot read the {fmt} flow file {path}: {e}') from None
    raise ValueError(f"unknown flow format {fmt!r} of {path}; use 'flo', 'pfm' or 'kitti'")


@TRANSFORMS.register_module()
class LoadFlowPair(BaseTransform):
    """Load the two frames and (when ``flow_path`` is set) the ground truth
    of a flow data set item (:mod:`mmdropmae.datasets.flow`).

    Adds ``img1``, ``img2``, ``gt_flow``, ``gt_valid`` (sparse: the file's
    valid channel; dense: ``|u| < 1000 and |v| < 1000``, RAFT's rule),
    ``ori_shape`` and ``img_shape``.
    """

    def transform(self, results: dict) -> dict:
        img1 = load_rgb_image(results['img1_path'])
        img2 = load_rgb_image(results['img2_path'])
        if img1.shape != img2.shape:
            raise ValueError(f"{results['img1_path']} ({img1.shape[:2]}) and "
                             f"{results['img2_path']} ({img2.shape[:2]}) differ in size")
        results['img1'], results['img2'] = img1, img2
        results['ori_shape'] = results['img_shape'] = img1.shape[:2]
        path = results.get('flow_path')
        if path:
            flow, valid = read_flow_gt(path, results.get('flow_format', 'flo'))
            if flow.shape[:2] != img1.shape[:2]:
                raise ValueError(f'{path}: flow of size {flow.shape[:2]} for images of size '
                                 f'{img1.shape[:2]}')
            if valid is None:
                valid = ((np.abs(flow[..., 0]) < 1000) & (np.abs(flow[..., 1]) < 1000))
            results['gt_flow'] = flow
            results['gt_valid'] = valid.astype(np.float32)
        return results


# --------------------------------------------------------------------- photometric
def _gray(img: np.ndarray) -> np.ndarray:
    """PIL's ``convert('L')`` luma (ITU-R 601-2) of float RGB."""
    return img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114


def adjust_brightness(img: np.ndarray, f: float) -> np.ndarray:
    return np.clip(img * f, 0, 255)


def adjust_contrast(img: np.ndarray, f: float) -> np.ndarray:
    mean = float(np.round(_gray(img).mean()))
    return np.clip(f * img + (1 - f) * mean, 0, 255)


def adjust_saturation(img: np.ndarray, f: float) -> np.ndarray:
    return np.clip(f * img + (1 - f) * _gray(img)[..., None], 0, 255)


def adjust_hue(img: np.ndarray, f: float) -> np.ndarray:
    """Rotate the hue by ``f`` turns (``f`` in [-0.5, 0.5])."""
    hsv = cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = np.mod(hsv[..., 0] + f * 360.0, 360.0)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0


@TRANSFORMS.register_module()
class FlowColorJitter(BaseTransform):
    """RAFT's photometric augmentation: torchvision's ``ColorJitter``
    (brightness, contrast, saturation factors in ``[1 - b, 1 + b]``, hue
    shift in ``[-h, h]`` turns, the four in random order, rounded to
    ``uint8`` after each), on both images stacked (one set of factors) or,
    with probability ``asymmetric_prob``, on each image separately.

    Defaults are RAFT's ``FlowAugmentor`` (0.4, 0.4, 0.4, 0.5/3.14,
    asymmetric 0.2); its ``SparseFlowAugmentor`` uses 0.3, 0.3, 0.3,
    0.3/3.14 and never asymmetric.
    """

    def __init__(self, brightness: float = 0.4, contrast: float = 0.4,
                 saturation: float = 0.4, hue: float = 0.5 / 3.14,
                 asymmetric_prob: float = 0.2):
        self.brightness, self.contrast, self.saturation = brightness, contrast, saturation
        self.hue = hue
        self.asymmetric_prob = asymmetric_prob

    def _jitter(self, img: np.ndarray) -> np.ndarray:
        ops = [
            (adjust_brightness, np.random.uniform(max(0, 1 - self.brightness),
                                                  1 + self.brightness)),
            (adjust_contrast, np.random.uniform(max(0, 1 - self.contrast), 1 + self.contrast)),
            (adjust_saturation, np.random.uniform(max(0, 1 - self.saturation),
                                                  1 + self.saturation)),
            (adjust_hue, np.random.uniform(-self.hue, self.hue)),
        ]
        out = img.astype(np.float32)
        for i in np.random.permutation(4):
            fn, f = ops[i]
            out = np.round(fn(out, f))
        return np.clip(out, 0, 255).astype(np.uint8)

    def transform(self, results: dict) -> dict:
        img1, img2 = results['img1'], results['img2']
        if np.random.rand() < self.asymmetric_prob:
            results['img1'], results['img2'] = self._jitter(img1), self._jitter(img2)
        else:
            both = self._jitter(np.concatenate([img1, img2], 0))
            results['img1'], results['img2'] = np.split(both, [img1.shape[0]], 0)
        return results


@TRANSFORMS.register_module()
class FlowEraser(BaseTransform):
    """RAFT's occlusion augmentation: with probability ``prob``, 1 to
    ``max_boxes`` rectangles of side ``[bounds[0], bounds[1])`` pixels at
    random positions of ``img2`` are filled with its mean colour (the flow
    is unchanged: the points become occluded)."""

    def __init__(self, prob: float = 0.5, bounds: Tuple[int, int] = (50, 100),
                 max_boxes: int = 2):
        self.prob, self.bounds, self.max_boxes = prob, tuple(bounds), max_boxes

    def transform(self, results: dict) -> dict:
        img2 = results['img2']
        ht, wd = img2.shape[:2]
        if np.random.rand() < self.prob:
            img2 = img2.copy()
            mean_color = np.mean(img2.reshape(-1, 3), axis=0)
            for _ in range(np.random.randint(1, self.max_boxes + 1)):
                x0, y0 = np.random.randint(0, wd), np.random.randint(0, ht)
                dx = np.random.randint(self.bounds[0], self.bounds[1])
                dy = np.random.randint(self.bounds[0], self.bounds[1])
                img2[y0:y0 + dy, x0:x0 + dx, :] = mean_color
            results['img2'] = img2
        return results


# --------------------------------------------------------------------- spatial
def resize_sparse_flow_map(flow: np.ndarray, valid: np.ndarray, fx: float, fy: float):
    """RAFT's ``resize_sparse_flow_map``: the valid points move to the
    rounded ``(x fx, y fy)`` with flow ``(u fx, v fy)``; every other pixel
    of the new map is invalid. Returns (flow, valid)."""
    ht, wd = flow.shape[:2]
    coords = np.stack(np.meshgrid(np.arange(wd), np.arange(ht)), -1).reshape(-1, 2)
    coords = coords.astype(np.float32)
    flow = flow.reshape(-1, 2).astype(np.float32)
    keep = valid.reshape(-1) >= 1
    coords0, flow0 = coords[keep], flow[keep]
    ht1, wd1 = int(round(ht * fy)), int(round(wd * fx))
    coords1 = coords0 * [fx, fy]
    flow1 = flow0 * [fx, fy]
    xx = np.round(coords1[:, 0]).astype(np.int32)
    yy = np.round(coords1[:, 1]).astype(np.int32)
    v = (xx > 0) & (xx < wd1) & (yy > 0) & (yy < ht1)
    flow_img = np.zeros([ht1, wd1, 2], np.float32)
    valid_img = np.zeros([ht1, wd1], np.float32)
    flow_img[yy[v], xx[v]] = flow1[v]
    valid_img[yy[v], xx[v]] = 1
    return flow_img, valid_img


@TRANSFORMS.register_module()
class FlowRandomResize(BaseTransform):
    """RAFT's random scaling (the first part of ``spatial_transform``).

    ``scale = 2 ** U(min_scale, max_scale)``; dense ground truth: with
    probability ``stretch_prob`` each axis is stretched by ``2 ** U(-s, s)``;
    both factors are clipped below at ``max((crop_h + 1) / H, (crop_w + 1) /
    W)`` so that the crop fits; with probability ``prob`` the images are
    resized (bilinear), the dense flow resized and multiplied by ``(sx, sy)``
    and sparse ground truth scattered (:func:`resize_sparse_flow_map`,
    RAFT's ``SparseFlowAugmentor``, which does not stretch). An image
    smaller than the crop is always resized (RAFT would fail on it).

    RAFT stages (``min_scale``, ``max_scale``): chairs -0.1, 1.0; things
    -0.4, 0.8; sintel -0.2, 0.6; KITTI -0.2, 0.4 (in the sintel stage KITTI
    -0.3, 0.5 and HD1K -0.5, 0.2).
    """

    def __init__(self, crop_size: Union[int, Sequence[int]], min_scale: float = -0.2,
                 max_scale: float = 0.5, prob: float = 0.8, stretch_prob: float = 0.8,
                 max_stretch: float = 0.2):
        self.crop_size = _pair(crop_size)
        self.min_scale, self.max_scale = min_scale, max_scale
        self.prob, self.stretch_prob, self.max_stretch = prob, stretch_prob, max_stretch

    def transform(self, results: dict) -> dict:
        img1 = results['img1']
        ht, wd = img1.shape[:2]
        ch, cw = self.crop_size
        floor = max((ch + 1) / float(ht), (cw + 1) / float(wd))
        sparse = bool(results.get('sparse', False))
        scale = 2**np.random.uniform(self.min_scale, self.max_scale)
        sx = sy = scale
        if not sparse and np.random.rand() < self.stretch_prob:
            sx *= 2**np.random.uniform(-self.max_stretch, self.max_stretch)
            sy *= 2**np.random.uniform(-self.max_stretch, self.max_stretch)
        sx, sy = float(np.clip(sx, floor, None)), float(np.clip(sy, floor, None))
        if np.random.rand() < self.prob or ht < ch or wd < cw:
            self.resize(results, sx, sy)
        return results

    @staticmethod
    def resize(results: dict, sx: float, sy: float) -> dict:
        """Resize a pair and its ground truth by ``(sx, sy)``."""
        for k in ('img1', 'img2'):
            results[k] = cv2.resize(results[k], None, fx=sx, fy=sy,
                                    interpolation=cv2.INTER_LINEAR)
        if 'gt_flow' in results:
            if results.get('sparse', False):
                results['gt_flow'], results['gt_valid'] = resize_sparse_flow_map(
                    results['gt_flow'], results['gt_valid'], sx, sy)
            else:
                flow = cv2.resize(results['gt_flow'], None, fx=sx, fy=sy,
                                  interpolation=cv2.INTER_LINEAR)
                results['gt_flow'] = (flow * np.array([sx, sy], np.float32)).astype(
                    np.float32)
                results['gt_valid'] = cv2.resize(results['gt_valid'], None, fx=sx, fy=sy,
                                                 interpolation=cv2.INTER_NEAREST)
        if 'gt_occlusion' in results:
            occ = cv2.resize(results['gt_occlusion'].astype(np.uint8), None, fx=sx, fy=sy,
                             interpolation=cv2.INTER_NEAREST)
            results['gt_occlusion'] = occ.astype(bool)
        results['img_shape'] = results['img1'].shape[:2]
        return results


@TRANSFORMS.register_module()
class FlowRandomFlip(BaseTransform):
    """RAFT's flips: horizontal with probability ``h_prob`` (``u -> -u``),
    vertical with ``v_prob`` (``v -> -v``). RAFT: 0.5 / 0.1 dense; sparse
    (KITTI) 0.5 / 0; the KITTI fine-tuning stage does not flip."""

    def __init__(self, h_prob: float = 0.5, v_prob: float = 0.1):
        self.h_prob, self.v_prob = h_prob, v_prob

    @staticmethod
    def flip(results: dict, axis: int) -> dict:
        """Flip along ``axis`` (1: horizontal, 0: vertical)."""
        sl = (slice(None), slice(None, None, -1)) if axis == 1 else (slice(None, None, -1), )
        for k in ('img1', 'img2', 'gt_valid', 'gt_occlusion'):
            if k in results:
                results[k] = np.ascontiguousarray(results[k][sl])
        if 'gt_flow' in results:
            sign = np.array([-1.0, 1.0] if axis == 1 else [1.0, -1.0], np.float32)
            results['gt_flow'] = np.ascontiguousarray(results['gt_flow'][sl] * sign)
        return results

    def transform(self, results: dict) -> dict:
        if np.random.rand() < self.h_prob:
            self.flip(results, 1)
        if np.random.rand() < self.v_prob:
            self.flip(results, 0)
        return results


@TRANSFORMS.register_module()
class FlowRandomCrop(BaseTransform):
    """RAFT's random crop: the corner is drawn with a margin beyond the
    borders and clipped into the image (so borders are cropped more often).
    Dense: ``y0 ~ randint(-m, H - ch + m)``, ``x0`` likewise, ``m = 20``;
    sparse (RAFT's ``SparseFlowAugmentor``): ``y0 ~ randint(0, H - ch +
    20)``, ``x0 ~ randint(-50, W - cw + 50)``.

    Raises:
        ValueError: The pair is smaller than the crop (put
            :class:`FlowRandomResize` first).
    """

    def __init__(self, crop_size: Union[int, Sequence[int]], margin: int = 20,
                 sparse_margin: Tuple[int, int] = (20, 50)):
        self.crop_size = _pair(crop_size)
        self.margin, self.sparse_margin = margin, tuple(sparse_margin)

    def transform(self, results: dict) -> dict:
        ht, wd = results['img1'].shape[:2]
        ch, cw = self.crop_size
        if ht < ch or wd < cw:
            raise ValueError(f"pair of size {ht}x{wd} ({results.get('img1_path', '?')}) is "
                             f'smaller than the crop {ch}x{cw}')
        if results.get('sparse', False):
            my, mx = self.sparse_margin
            y0 = np.random.randint(0, ht - ch + my)
            x0 = np.random.randint(-mx, wd - cw + mx)
        else:
            m = self.margin
            y0 = np.random.randint(-m, ht - ch + m)
            x0 = np.random.randint(-m, wd - cw + m)
        y0, x0 = int(np.clip(y0, 0, ht - ch)), int(np.clip(x0, 0, wd - cw))
        for k in ('img1', 'img2', 'gt_flow', 'gt_valid', 'gt_occlusion'):
            if k in results:
                results[k] = np.ascontiguousarray(results[k][y0:y0 + ch, x0:x0 + cw])
        results['img_shape'] = (ch, cw)
        results['crop_offset'] = (y0, x0)
        return results


@TRANSFORMS.register_module()
class PackFlowInputs(BaseTransform):
    """Pack a pair for the model: ``inputs`` a (2, 3, H, W) ``uint8`` tensor
    (frame 1, frame 2: :class:`~mmdropmae.models.PairDataPreprocessor`
    stacks and normalises it), ``data_samples`` a :class:`DataSample` with
    ``gt_flow`` (H, W, 2), ``flow_valid`` (H, W) (when there is ground
    truth) and the metainfo ``meta_keys``."""

    def __init__(self, meta_keys: Sequence[str] = ('img1_path', 'img2_path', 'out_name',
                                                   'dataset_name', 'sparse', 'ori_shape',
                                                   'img_shape', 'flow_path')):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        imgs = np.stack([results['img1'], results['img2']])
        inputs = torch.from_numpy(np.ascontiguousarray(imgs.transpose(0, 3, 1, 2)))
        sample = DataSample(metainfo={k: results[k] for k in self.meta_keys if k in results})
        if results.get('gt_flow') is not None:
            sample.gt_flow = torch.from_numpy(np.ascontiguousarray(results['gt_flow']))
            valid = results.get('gt_valid')
            if valid is None:
                valid = np.ones(results['gt_flow'].shape[:2], np.float32)
            sample.flow_valid = torch.from_numpy(np.ascontiguousarray(valid, np.float32))
        return dict(inputs=inputs, data_samples=sample)
