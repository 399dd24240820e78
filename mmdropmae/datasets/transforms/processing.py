"""Per-frame random augmentations of a frame pair.

Each transform acts on every image of ``results['imgs']`` with its own
random draw, so the two frames of a pair get independent crops and flips, as
in DropMAE. Randomness comes from the global ``np.random`` state, which
MMEngine seeds per data loader worker. Normalisation is not done here: the
model's data preprocessor does it.
"""
import math
from numbers import Number
from typing import Dict, List, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmdropmae.registry import TRANSFORMS
from .loading import RNG, _randint


def _uniform(rng: RNG, low: float, high: float) -> float:
    if rng is None:
        return float(np.random.uniform(low, high))
    return float(rng.uniform(low, high))


def random_resized_crop_params(height: int,
                               width: int,
                               scale: Tuple[float, float] = (0.2, 1.0),
                               ratio: Tuple[float, float] = (3. / 4., 4. / 3.),
                               max_attempts: int = 10,
                               rng: RNG = None) -> Tuple[int, int, int, int]:
    """Sample a crop box with torchvision's ``RandomResizedCrop.get_params``
    semantics.

    Up to ``max_attempts`` times: area fraction uniform in ``scale``, log of
    the aspect ratio (w/h) uniform in ``log(ratio)``, ``w, h`` rounded; the
    first box that fits is placed uniformly. Otherwise a central crop with the
    aspect ratio clamped to ``ratio``.

    Args:
        height (int): Image height.
        width (int): Image width.
        scale (tuple[float, float]): Range of the crop area fraction.
        ratio (tuple[float, float]): Range of the crop aspect ratio (w/h).
        max_attempts (int): Attempts before the central-crop fallback.
        rng (np.random.Generator | np.random.RandomState, optional): Random
            source; ``None`` uses the global ``np.random`` state.

    Returns:
        tuple[int, int, int, int]: ``(top, left, crop_h, crop_w)``.
    """
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(max_attempts):
        target_area = area * _uniform(rng, scale[0], scale[1])
        aspect = math.exp(_uniform(rng, log_ratio[0], log_ratio[1]))
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            top = _randint(rng, 0, height - h + 1)
            left = _randint(rng, 0, width - w + 1)
            return top, left, h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w = width
        h = int(round(w / min(ratio)))
    elif in_ratio > max(ratio):
        h = height
        w = int(round(h * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


@TRANSFORMS.register_module()
class RandomResizedCrop(BaseTransform):
    """Crop a random area and aspect ratio of each frame and resize it,
    independently per frame (torchvision semantics, see
    :func:`random_resized_crop_params`).

    Required keys:

    - imgs

    Modified keys:

    - imgs
    - img_shape

    Added keys:

    - crop_bboxes (np.ndarray): ``(num_imgs, 4)`` ``int64`` boxes
      ``x1, y1, x2, y2`` (exclusive) in the input frames.

    Args:
        size (int | Sequence[int]): Output size; an int gives a square,
            a pair is ``(h, w)``. Defaults to 224.
        scale (Sequence[float]): Range of the crop area fraction. Defaults to
            (0.2, 1.0).
        ratio (Sequence[float]): Range of the crop aspect ratio (w/h).
            Defaults to (3/4, 4/3).
        max_attempts (int): Attempts before the central-crop fallback.
            Defaults to 10.
        interpolation (str): ``'nearest'``, ``'bilinear'``, ``'bicubic'``,
            ``'area'`` or ``'lanczos'``. Defaults to ``'bicubic'``
            (``cv2.INTER_CUBIC`` with the cv2 backend, no anti-aliasing when
            shrinking, like mmpretrain's cv2 default).
        backend (str): ``'cv2'`` or ``'pillow'`` (PIL's resize, which
            anti-aliases like torchvision on PIL images). Defaults to 'cv2'.
    """

    def __init__(self,
                 size: Union[int, Sequence[int]] = 224,
                 scale: Sequence[float] = (0.2, 1.0),
                 ratio: Sequence[float] = (3. / 4., 4. / 3.),
                 max_attempts: int = 10,
                 interpolation: str = 'bicubic',
                 backend: str = 'cv2') -> None:
        if isinstance(size, Number):
            size = (int(size), int(size))
        size = tuple(int(s) for s in size)
        if len(size) != 2 or min(size) <= 0:
            raise ValueError(f'size must be a positive int or (h, w), got {size}')
        if not 0 < scale[0] <= scale[1]:
            raise ValueError(f'scale must satisfy 0 < min <= max, got {scale}')
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f'ratio must satisfy 0 < min <= max, got {ratio}')
        if backend not in ('cv2', 'pillow'):
            raise ValueError(f'backend must be "cv2" or "pillow", got {backend!r}')
        self.size = size
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.max_attempts = max_attempts
        self.interpolation = interpolation
        self.backend = backend

    def _crop_resize(self, img: np.ndarray) -> Tuple[np.ndarray, List[int]]:
        h, w = img.shape[:2]
        top, left, ch, cw = random_resized_crop_params(h, w, self.scale, self.ratio,
                                                       self.max_attempts)
        crop = img[top:top + ch, left:left + cw]
        out_h, out_w = self.size
        out = mmcv.imresize(crop, (out_w, out_h), interpolation=self.interpolation,
                            backend=self.backend)
        return out, [left, top, left + cw, top + ch]

    def transform(self, results: Dict) -> Dict:
        imgs, boxes = [], []
        for img in results['imgs']:
            out, box = self._crop_resize(img)
            imgs.append(out)
            boxes.append(box)
        results['imgs'] = imgs
        results['crop_bboxes'] = np.array(boxes, np.int64).reshape(-1, 4)
        results['img_shape'] = self.size
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, scale={self.scale}, '
                f'ratio={tuple(round(r, 4) for r in self.ratio)}, '
                f'max_attempts={self.max_attempts}, interpolation={self.interpolation!r}, '
                f'backend={self.backend!r})')


#: ``cv2.flip`` codes of the flip directions (as ``mmcv.imflip``).
_CV2_FLIP_CODES = dict(horizontal=1, vertical=0, diagonal=-1)


@TRANSFORMS.register_module()
class RandomFlip(BaseTransform):
    """Flip each frame with probability ``prob``, independently per frame.

    Required keys:

    - imgs

    Modified keys:

    - imgs

    Added keys:

    - flip (list[bool]): Whether each frame was flipped.
    - flip_direction (str)

    Args:
        prob (float): Flip probability. Defaults to 0.5.
        direction (str): ``'horizontal'``, ``'vertical'`` or ``'diagonal'``.
            Defaults to 'horizontal'.
    """

    def __init__(self, prob: float = 0.5, direction: str = 'horizontal') -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        if direction not in ('horizontal', 'vertical', 'diagonal'):
            raise ValueError(f'unknown flip direction {direction!r}')
        self.prob = prob
        self.direction = direction

    def _flip(self, img: np.ndarray) -> np.ndarray:
        if img.dtype == np.uint8 and (img.ndim == 2 or (img.ndim == 3 and img.shape[2] <= 4)):
            # A contiguous copy (~6 us at 224x224): later steps (packing)
            # copy contiguous images several times faster than the
            # negative-stride view mmcv.imflip returns.
            return cv2.flip(img, _CV2_FLIP_CODES[self.direction])
        return mmcv.imflip(img, self.direction)

    def transform(self, results: Dict) -> Dict:
        imgs, flags = [], []
        for img in results['imgs']:
            flip = bool(np.random.rand() < self.prob)
            imgs.append(self._flip(img) if flip else img)
            flags.append(flip)
        results['imgs'] = imgs
        results['flip'] = flags
        results['flip_direction'] = self.direction
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob}, direction={self.direction!r})'
