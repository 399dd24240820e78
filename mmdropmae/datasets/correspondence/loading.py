"""Load whole videos for label propagation."""
from typing import Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from mmdropmae.registry import TRANSFORMS
from mmdropmae.utils.fileio import read_label_png


def protocol_size(h: int, w: int, short_side: Optional[int], size_divisor: int,
                  img_scale: Optional[Tuple[int, int]] = None) -> Tuple[int, int]:
    """(h, w) the frames are resized to: a fixed ``img_scale`` (w, h), or the
    short side set to ``short_side`` (None: kept) and both sides floored to a
    multiple of ``size_divisor`` (DINO's ``eval_video_segmentation.py``:
    480 and 64)."""
    if img_scale is not None:
        return int(img_scale[1]), int(img_scale[0])
    div = size_divisor
    if short_side is None:
        th, tw = h, w
    elif h <= w:
        th, tw = short_side, short_side * w / h
    else:
        th, tw = short_side * h / w, short_side
    return max(div, int(th // div * div)), max(div, int(tw // div * div))


@TRANSFORMS.register_module()
class LoadSequenceFrames:
    """Read every frame of a whole-video entry, resized to the propagation
    protocol size, and the label maps the propagation starts from.

    Adds ``frames`` ((T, H', W', 3) uint8 RGB, PIL bilinear resize),
    ``ori_shape`` ((H, W) of the first frame) and, when the entry has
    ``mask_paths``, ``label_maps`` (frame -> (H, W) int64 label ids of the
    palette / grayscale PNG, void 255 kept) for frame 0 and the frames where
    objects are first annotated (``first_frames``).

    Args:
        short_side (int, optional): Short side after resizing (DINO: 480);
            None keeps the size.
        size_divisor (int): Floor both sides to a multiple of this (DINO: 64;
            a multiple of the encoder's patch size).
        img_scale (tuple, optional): A fixed ``(w, h)`` size instead.
    """

    def __init__(self, short_side: Optional[int] = 480, size_divisor: int = 64,
                 img_scale: Optional[Sequence[int]] = None):
        self.short_side = short_side
        self.size_divisor = size_divisor
        self.img_scale = None if img_scale is None else tuple(img_scale)

    def __call__(self, results: dict) -> dict:
        paths = list(results['frame_paths'])
        if not paths:
            raise ValueError(f'{results.get("video_name")}: the video has no frames')
        frames, size = [], None
        for p in paths:
            with Image.open(p) as img:
                img = img.convert('RGB')
                if size is None:
                    results['ori_shape'] = (img.height, img.width)
                    th, tw = protocol_size(img.height, img.width, self.short_side,
                                           self.size_divisor, self.img_scale)
                    size = (tw, th)
                if img.size != size:
                    img = img.resize(size, Image.BILINEAR)
                frames.append(np.asarray(img).copy())
        results['frames'] = np.stack(frames)
        mask_paths = results.get('mask_paths')
        if mask_paths:
            starts = {0} | {int(t) for t in (results.get('first_frames') or {}).values()}
            results['label_maps'] = {
                t: read_label_png(mask_paths[t])
                for t in sorted(starts) if t < len(paths) and t < len(mask_paths)
                and mask_paths[t] is not None
            }
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(short_side={self.short_side}, '
                f'size_divisor={self.size_divisor}, img_scale={self.img_scale})')
