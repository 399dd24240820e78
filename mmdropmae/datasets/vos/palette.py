"""Palette (indexed, PIL mode ``P``) PNG masks as used by DAVIS and YouTube-VOS.

A VOS annotation is an 8-bit indexed PNG whose pixel *indices* are object ids
(0 = background, 1..K = objects, 255 = "void" in some DAVIS annotations); the
palette only colours them. Reading therefore returns the indices, never the
colours, and writing stores the ids as indices with the DAVIS palette (the
PASCAL VOC colour map: id 1 red ``(128, 0, 0)``, id 2 green ``(0, 128, 0)``,
...), which is what the DAVIS and YouTube-VOS servers and toolkits read.
"""
import os
import os.path as osp
import tempfile
from typing import Optional, Sequence, Union

import numpy as np
from PIL import Image

__all__ = [
    'DAVIS_PALETTE', 'make_voc_palette', 'read_palette_mask', 'write_palette_mask',
    'load_vos_mask', 'PaletteMaskError'
]


class PaletteMaskError(ValueError):
    """A mask file that is not a usable palette PNG (the message names it)."""


def make_voc_palette(num_colors: int = 256) -> np.ndarray:
    """The PASCAL VOC / DAVIS colour map.

    Colour ``i`` spreads the bits of ``i`` over the three channels, most
    significant first: bit 0 -> red 128, bit 1 -> green 128, bit 2 -> blue
    128, bit 3 -> red 64, ... So 0 is black, 1 ``(128, 0, 0)``, 2
    ``(0, 128, 0)``, 3 ``(128, 128, 0)``, 4 ``(0, 0, 128)``, 255
    ``(224, 224, 192)``.

    Returns:
        np.ndarray: ``uint8`` array of shape ``(num_colors, 3)``.
    """
    palette = np.zeros((num_colors, 3), np.uint8)
    for i in range(num_colors):
        c, r, g, b = i, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= ((c >> 0) & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        palette[i] = (r, g, b)
    return palette


#: The DAVIS palette, ``uint8`` array ``(256, 3)`` (PASCAL VOC colour map).
DAVIS_PALETTE: np.ndarray = make_voc_palette(256)
DAVIS_PALETTE.setflags(write=False)


def read_palette_mask(path: str, allow_gray: bool = False) -> np.ndarray:
    """Read the object ids of a palette PNG.

    Args:
        path (str): PNG file.
        allow_gray (bool): Also accept 8-bit grayscale (mode ``L``) PNGs whose
            values are the ids (some published results are saved that way).
            RGB and other modes are always rejected, since their colours
            cannot be mapped back to ids safely.

    Returns:
        np.ndarray: ``uint8`` array ``(H, W)`` of object ids (palette indices).

    Raises:
        FileNotFoundError: The file does not exist (the message names it).
        PaletteMaskError: The file is not a palette PNG (or grayscale, when
            allowed) or cannot be decoded.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'mask file not found: {path}')
    try:
        with Image.open(path) as img:
            mode = img.mode
            if mode == 'P' or (allow_gray and mode == 'L'):
                ids = np.array(img, dtype=np.uint8)
            else:
                ids = None
    except (OSError, SyntaxError, ValueError) as err:
        raise PaletteMaskError(f'cannot read mask {path}: {err}') from err
    if ids is None:
        allowed = "'P' (palette) or 'L' (grayscale)" if allow_gray else "'P' (palette)"
        raise PaletteMaskError(
            f'{path} is a mode {mode!r} image, expected a {allowed} PNG whose pixel '
            'indices are object ids (DAVIS / YouTube-VOS annotation format)')
    return ids


def write_palette_mask(path: str,
                       ids: np.ndarray,
                       palette: Optional[Union[np.ndarray, Sequence[int]]] = None) -> None:
    """Write object ids as a palette PNG, atomically.

    The PNG is written to a temporary file in the destination folder and
    renamed over ``path``, so a reader (or a crashed run) never sees a
    truncated file. Parent folders are created.

    Args:
        path (str): Output ``.png`` file.
        ids (np.ndarray): ``(H, W)`` integer array of object ids in
            ``[0, 255]`` (bool is accepted: True -> 1). A torch tensor is
            accepted too.
        palette (np.ndarray | Sequence[int], optional): ``(N, 3)`` colours or
            a flat list of ``3 * N`` values; defaults to
            :data:`DAVIS_PALETTE`.
    """
    if hasattr(ids, 'detach'):  # torch.Tensor
        ids = ids.detach().cpu().numpy()
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f'ids must be a (H, W) array, got shape {ids.shape} for {path}')
    if ids.dtype == np.bool_:
        ids = ids.astype(np.uint8)
    elif ids.dtype != np.uint8:
        if not np.issubdtype(ids.dtype, np.integer):
            if not np.all(np.equal(np.mod(ids, 1), 0)):
                raise ValueError(f'ids must be integers, got dtype {ids.dtype} for {path}')
        if ids.size and (ids.min() < 0 or ids.max() > 255):
            raise ValueError(f'object ids must lie in [0, 255], got [{ids.min()}, '
                             f'{ids.max()}] for {path}')
        ids = ids.astype(np.uint8)
    pal = DAVIS_PALETTE if palette is None else np.asarray(palette, np.uint8)
    pal = pal.reshape(-1)
    if pal.size % 3 or pal.size > 768:
        raise ValueError(f'palette must hold at most 256 RGB colours, got {pal.size} values')
    pal = np.concatenate([pal, np.zeros(768 - pal.size, np.uint8)])
    img = Image.fromarray(np.ascontiguousarray(ids))  # mode 'L'
    img.putpalette(pal.tolist())  # -> mode 'P', indices unchanged
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp_', suffix='.png', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            img.save(f, format='PNG')
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def load_vos_mask(path: str,
                  single_object: bool = False,
                  void_as_background: bool = True,
                  allow_gray: bool = False) -> np.ndarray:
    """Read a VOS annotation with the data set's conventions applied.

    Args:
        path (str): Palette PNG.
        single_object (bool): DAVIS 2016 convention: every non-zero id becomes
            object 1 (after the void label is removed).
        void_as_background (bool): Map the void label 255 to 0, as the DAVIS
            2017 toolkit does when it loads annotations.
        allow_gray (bool): See :func:`read_palette_mask`.

    Returns:
        np.ndarray: ``uint8`` ``(H, W)`` object ids.
    """
    ids = read_palette_mask(path, allow_gray=allow_gray)
    if void_as_background:
        ids = np.where(ids == 255, np.uint8(0), ids)
    if single_object:
        ids = (ids > 0).astype(np.uint8)
    return ids
