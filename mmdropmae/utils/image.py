"""Image reading and the crop geometry of the trackers, shared by the data
pipelines and the models.

Only numpy, OpenCV and PIL are imported, so both ``mmdropmae.datasets`` and
``mmdropmae.models`` may use this module without importing each other.

The crop geometry follows OSTrack (Ye et al., "Joint Feature Learning and
Relation Modeling for Tracking: A One-Stream Framework", ECCV 2022;
https://github.com/botaoye/OSTrack, ``lib/train/data/processing_utils.py``),
which DropTrack uses for training and inference: the same square context
region around the target, so that training and test-time tracking see the
same framing. Boxes are ``(x, y, w, h)`` in continuous pixel coordinates
(pixel ``i`` covers ``[i, i + 1)``).
"""
import math
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

__all__ = [
    'load_rgb_image', 'write_rgb_image', 'image_size', 'crop_size_of', 'sample_target',
    'crop_valid_region', 'transform_box_to_crop'
]  # ostrack_crop: import it from this module (the lazy list of mmdropmae.utils is fixed)


# --------------------------------------------------------------------------
# reading and writing
# --------------------------------------------------------------------------
def load_rgb_image(path: str) -> np.ndarray:
    """Read an image file as RGB ``uint8`` with OpenCV.

    Args:
        path (str): Image file (any format OpenCV decodes).

    Returns:
        np.ndarray: ``(H, W, 3)`` RGB ``uint8``.

    Raises:
        FileNotFoundError: The file is missing or cannot be decoded
            (``cannot read image {path}``); an ``OSError``.
    """
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f'cannot read image {path}')
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def write_rgb_image(path: str, rgb: np.ndarray, quality: int = 95) -> None:
    """Write an RGB ``uint8`` image with OpenCV (the format follows the file
    ending; ``quality`` is the JPEG quality).

    Args:
        path (str): Output file.
        rgb (np.ndarray): ``(H, W, 3)`` RGB ``uint8``.
        quality (int): JPEG quality (0-100).

    Raises:
        OSError: OpenCV could not write the file (``could not write {path}``).
    """
    ok = cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                     [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise OSError(f'could not write {path}')


def image_size(path: str) -> tuple:
    """``(width, height)`` of an image, reading only its header.

    Args:
        path (str): Image file.

    Returns:
        tuple: ``(width, height)``.

    Raises:
        OSError: The file is missing or not an image (the message names it).
    """
    try:
        with Image.open(path) as img:
            return img.size
    except (OSError, SyntaxError) as err:
        raise OSError(f'cannot read image {path}: {err}') from err


# --------------------------------------------------------------------------
# crop geometry (data pipelines and trackers)
# --------------------------------------------------------------------------
def crop_size_of(bbox: Sequence[float], factor: float) -> int:
    """Side of the square context region of a box: ``ceil(sqrt(w * h) *
    factor)`` (OSTrack's ``sample_target``).

    Args:
        bbox (Sequence[float]): ``(x, y, w, h)``.
        factor (float): Context factor.

    Returns:
        int: The side; 0 when ``w`` or ``h`` is not finite or not positive.
    """
    w, h = float(bbox[2]), float(bbox[3])
    if not (math.isfinite(w) and math.isfinite(h)) or w <= 0 or h <= 0:
        return 0
    return math.ceil(math.sqrt(w * h) * factor)


def sample_target(img: np.ndarray,
                  bbox: Sequence[float],
                  factor: float,
                  output_size: int,
                  center: Optional[Sequence[float]] = None,
                  border_value: int = 0,
                  method: str = 'warp') -> Tuple[np.ndarray, float]:
    """Crop a square region of side ``ceil(sqrt(w*h) * factor)`` centred on
    the box (or on ``center``) and resize it to ``output_size``; parts
    outside the image are filled with ``border_value`` (zero padding as in
    OSTrack).

    ``method='warp'`` (the default, used by the training pipelines): one
    ``cv2.warpAffine`` does the crop, the padding and the (bilinear)
    resize, so the cost depends on the output size only. The region starts
    exactly at ``cx - crop/2`` (no rounding to whole pixels), which keeps it
    consistent with :func:`transform_box_to_crop` and the trackers' mapping
    of boxes back to the image.

    ``method='ostrack'``: OSTrack's own arithmetic, pixel for pixel
    (``sample_target`` of ``lib/train/data/processing_utils.py``, used by
    its tracker ``lib/test/tracker/ostrack.py`` and so by the released
    models' published numbers): the origin is rounded to a whole pixel
    (Python's ``round``, halves to even), the crop is cut out and padded
    with ``cv2.copyMakeBorder`` -- where it reaches past the right or
    bottom edge, the reference pads one pixel more and so leaves out the
    image's last column / row -- and resized with ``cv2.resize``
    (``INTER_LINEAR``), which clamps the interpolation at the crop's edge.
    See :func:`ostrack_crop`.

    Args:
        img (np.ndarray): (H, W, C) or (H, W) image.
        bbox (Sequence[float]): (x, y, w, h) box giving the crop size (and
            the centre unless ``center`` is given).
        factor (float): Context factor (2 for templates, 4 or 5 for search
            regions).
        output_size (int): Side of the output crop.
        center (Sequence[float], optional): (cx, cy) of the crop.
        border_value (int): Padding value.
        method (str): 'warp' or 'ostrack' (see above).

    Returns:
        tuple: The crop (output_size, output_size, C) and the resize factor
        ``output_size / crop_size``.

    Raises:
        ValueError: If the box is degenerate (crop side < 1) or the method
            unknown.
    """
    if method not in ('warp', 'ostrack'):
        raise ValueError(f"method must be 'warp' or 'ostrack', got {method!r}")
    crop_sz = crop_size_of(bbox, factor)
    if crop_sz < 1:
        raise ValueError(f'box {list(bbox)} is too small or not finite to '
                         'crop around (w and h must be > 0)')
    if center is None:
        cx = bbox[0] + 0.5 * bbox[2]
        cy = bbox[1] + 0.5 * bbox[3]
    else:
        cx, cy = center
    r = output_size / crop_sz
    if method == 'ostrack':
        return ostrack_crop(img, cx, cy, crop_sz, output_size, border_value), r
    x0 = cx - 0.5 * crop_sz
    y0 = cy - 0.5 * crop_sz
    # dst pixel u <- src pixel (u + 0.5) / r + x0 - 0.5
    mat = np.array([[r, 0., r * (0.5 - x0) - 0.5],
                    [0., r, r * (0.5 - y0) - 0.5]], dtype=np.float64)
    channels = 1 if img.ndim == 2 else img.shape[2]
    crop = cv2.warpAffine(
        img,
        mat, (output_size, output_size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(border_value, ) * min(channels, 4))
    if img.ndim == 3 and crop.ndim == 2:
        crop = crop[..., None]
    return crop, r


def ostrack_crop(img: np.ndarray, cx: float, cy: float, crop_sz: int, output_size: int,
                 border_value: int = 0) -> np.ndarray:
    """OSTrack's square crop (``lib/train/data/processing_utils.py``,
    ``sample_target``), reproduced pixel for pixel.

    The crop covers columns ``x1 .. x1 + crop_sz - 1`` with ``x1 =
    round(cx - crop_sz / 2)`` (rows alike). Parts outside the image are
    ``border_value``; where the crop reaches the right (bottom) edge the
    reference pads ``x2 - W + 1`` pixels, one more than needed, so the
    image's last column (row) is never used. The padded crop is resized with
    ``cv2.resize(..., INTER_LINEAR)``.

    Args:
        img (np.ndarray): (H, W, C) or (H, W) image.
        cx, cy (float): Centre of the region.
        crop_sz (int): Side of the region in image pixels.
        output_size (int): Side of the output.
        border_value (int): Padding value.

    Returns:
        np.ndarray: (output_size, output_size[, C]) crop, ``img.dtype``.
    """
    h, w = img.shape[:2]
    x1 = round(cx - crop_sz * 0.5)
    y1 = round(cy - crop_sz * 0.5)
    x2, y2 = x1 + crop_sz, y1 + crop_sz
    pad_l, pad_t = max(0, -x1), max(0, -y1)
    pad_r, pad_b = max(x2 - w + 1, 0), max(y2 - h + 1, 0)
    # the image part of the crop; empty when the region misses the image
    # (the reference then fails; here the crop is all padding)
    c0, c1 = x1 + pad_l, x2 - pad_r
    r0, r1 = y1 + pad_t, y2 - pad_b
    if c1 <= c0 or r1 <= r0:
        shape = (output_size, output_size) + img.shape[2:]
        return np.full(shape, border_value, dtype=img.dtype)
    part = img[r0:r1, c0:c1]
    channels = 1 if img.ndim == 2 else img.shape[2]
    padded = cv2.copyMakeBorder(part, pad_t, pad_b, pad_l, pad_r, cv2.BORDER_CONSTANT,
                                value=(border_value, ) * min(channels, 4))
    crop = cv2.resize(padded, (output_size, output_size), interpolation=cv2.INTER_LINEAR)
    if img.ndim == 3 and crop.ndim == 2:
        crop = crop[..., None]
    return crop


def crop_valid_region(img_shape: Tuple[int, int], center: Sequence[float], crop_sz: float,
                      output_size: int) -> Tuple[float, float, float, float]:
    """The part of a crop that shows the image, in output pixels.

    Args:
        img_shape (tuple): ``(H, W, ...)`` of the image.
        center (Sequence[float]): ``(cx, cy)`` of the crop in the image.
        crop_sz (float): Side of the crop in image pixels.
        output_size (int): Side of the crop in output pixels.

    Returns:
        tuple: ``(u0, v0, u1, v1)`` (empty when ``u1 <= u0`` or ``v1 <= v0``).
    """
    h, w = img_shape[:2]
    r = output_size / crop_sz
    x0 = center[0] - 0.5 * crop_sz
    y0 = center[1] - 0.5 * crop_sz
    u0 = max(0., -x0 * r)
    v0 = max(0., -y0 * r)
    u1 = min(float(output_size), (w - x0) * r)
    v1 = min(float(output_size), (h - y0) * r)
    return u0, v0, u1, v1


def transform_box_to_crop(bbox: Sequence[float],
                          center: Sequence[float],
                          resize_factor: float,
                          output_size: int,
                          normalize: bool = True) -> np.ndarray:
    """Map an image box into a crop centred on ``center`` (OSTrack's
    ``transform_image_to_crop`` with continuous coordinates).

    Args:
        bbox (Sequence[float]): ``(x, y, w, h)`` in the image.
        center (Sequence[float]): ``(cx, cy)`` of the crop in the image.
        resize_factor (float): Output pixels per image pixel
            (:func:`sample_target`'s second output).
        output_size (int): Side of the crop.
        normalize (bool): Divide by ``output_size`` (boxes in ``[0, 1]``).

    Returns:
        np.ndarray: ``float32`` (4,) ``(x, y, w, h)`` in the crop.
    """
    bcx = bbox[0] + 0.5 * bbox[2]
    bcy = bbox[1] + 0.5 * bbox[3]
    ocx = output_size / 2 + (bcx - center[0]) * resize_factor
    ocy = output_size / 2 + (bcy - center[1]) * resize_factor
    ow = bbox[2] * resize_factor
    oh = bbox[3] * resize_factor
    out = np.array([ocx - ow / 2, ocy - oh / 2, ow, oh], dtype=np.float32)
    if normalize:
        out /= output_size
    return out
