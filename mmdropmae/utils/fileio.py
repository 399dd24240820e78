"""File formats shared by the data sets, the models and the evaluation.

Everything here depends on numpy and PIL only, so that
``mmdropmae.datasets``, ``mmdropmae.models`` and ``mmdropmae.evaluation`` can
share it without importing each other:

* atomic writes (:func:`atomic_open`, :func:`atomic_write_text`): a
  temporary file in the destination folder renamed over the target with
  ``os.replace``, so that a reader or a resumed run never sees a half-written
  file;
* frame folders (:func:`list_image_files`, :func:`list_image_stems`);
* text box files of the tracking benchmarks (:func:`parse_box_rows`) and the
  per-sequence result layouts of their toolkits (:func:`sot_result_path`,
  :func:`sot_result_complete`);
* label PNGs: the indexed (palette) masks of DAVIS / YouTube-VOS
  (:func:`read_palette_mask`, :func:`write_palette_mask`,
  :func:`load_vos_mask`, :data:`DAVIS_PALETTE`) and the label maps of the
  correspondence benchmarks (:func:`read_label_png`);
* the YouTube-VOS ``meta.json`` (:func:`read_youtube_vos_meta`,
  :func:`youtube_vos_categories`).

A VOS annotation is an 8-bit indexed PNG whose pixel *indices* are object ids
(0 = background, 1..K = objects, 255 = "void" in some DAVIS annotations); the
palette only colours them. Reading therefore returns the indices, never the
colours, and writing stores the ids as indices with the DAVIS palette (the
PASCAL VOC colour map: id 1 red ``(128, 0, 0)``, id 2 green ``(0, 128, 0)``,
...), which is what the DAVIS and YouTube-VOS servers and toolkits read
(``davis2017-evaluation``, https://github.com/davisvideochallenge/davis2017-evaluation).
"""
import contextlib
import json
import os
import os.path as osp
import re
import tempfile
from typing import IO, Dict, Iterator, List, Optional, Sequence, Type, Union

import numpy as np
from PIL import Image

from .constants import IMG_EXTENSIONS

__all__ = [
    'atomic_open', 'atomic_write_text', 'natural_key', 'list_image_files', 'list_image_stems',
    'parse_box_rows', 'SOT_RESULT_LAYOUTS', 'check_sot_layout', 'sot_result_path',
    'sot_time_path', 'sot_result_complete', 'make_voc_palette', 'DAVIS_PALETTE',
    'PaletteMaskError', 'read_palette_mask', 'write_palette_mask', 'load_vos_mask',
    'read_label_png', 'read_youtube_vos_meta', 'youtube_vos_categories'
]


# --------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_open(path: str, mode: str = 'w', suffix: str = '.tmp') -> Iterator[IO]:
    """Open a temporary file next to ``path`` and rename it over ``path`` on
    success.

    The temporary file (``.tmp_*{suffix}``) lives in the destination folder,
    so the final ``os.replace`` is atomic on POSIX; on any exception it is
    removed and the exception re-raised, and ``path`` is left untouched.
    Parent folders are created.

    Args:
        path (str): The file to write.
        mode (str): ``'w'`` (text) or ``'wb'`` (bytes).
        suffix (str): Ending of the temporary file name.

    Yields:
        IO: The open temporary file.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp_', suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder
    and ``os.replace`` (atomic on POSIX).

    Args:
        path (str): The file to write (parent folders are created).
        text (str): Its whole content.
    """
    with atomic_open(path, 'w', suffix='.txt') as f:
        f.write(text)


# --------------------------------------------------------------------------
# frame folders
# --------------------------------------------------------------------------
def natural_key(name: str) -> list:
    """Sort key that orders ``img2.jpg`` before ``img10.jpg``.

    Args:
        name (str): A file name.

    Returns:
        list: Digit runs as ints, the rest lower-cased.
    """
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r'(\d+)', name)]


def list_image_files(folder: str,
                     extensions: Sequence[str] = IMG_EXTENSIONS,
                     error_cls: Type[Exception] = FileNotFoundError) -> List[str]:
    """Image file names (with their ending) of ``folder`` in natural order
    (:func:`natural_key`), as the SOT loaders list frame folders.

    Args:
        folder (str): The frame folder.
        extensions (Sequence[str]): Lower-case endings that count as images.
        error_cls (type): Exception raised when the folder does not exist.

    Returns:
        list[str]: File names (not paths); empty when there is no image.

    Raises:
        error_cls: ``frame folder not found: {folder}``.
    """
    if not osp.isdir(folder):
        raise error_cls(f'frame folder not found: {folder}')
    names = [
        e.name for e in os.scandir(folder)
        if e.is_file() and osp.splitext(e.name)[1].lower() in extensions
    ]
    return sorted(names, key=natural_key)


def list_image_stems(folder: str,
                     what: str = 'frames',
                     extensions: Sequence[str] = IMG_EXTENSIONS) -> List[str]:
    """Sorted (plain string order) file stems of the images of ``folder``,
    hidden files skipped, as the VOS loaders list frame folders (DAVIS and
    YouTube-VOS frames are zero-padded numbers, ``00000`` ...).

    Args:
        folder (str): The frame folder.
        what (str): How errors name the folder.
        extensions (Sequence[str]): Lower-case endings that count as images.

    Returns:
        list[str]: Stems (file names without their ending).

    Raises:
        FileNotFoundError: The folder does not exist or holds no image.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{what} folder not found: {folder}')
    names = sorted(
        osp.splitext(f)[0] for f in os.listdir(folder)
        if not f.startswith('.') and osp.splitext(f)[1].lower() in extensions)
    if not names:
        raise FileNotFoundError(f'no images in {what} folder {folder}')
    return names


# --------------------------------------------------------------------------
# SOT box files and result layouts
# --------------------------------------------------------------------------
def parse_box_rows(path: str,
                   error_cls: Type[Exception] = ValueError,
                   kind: str = 'box') -> np.ndarray:
    """Rows of ``x, y, w, h`` of a text box file (comma, tab or space
    separated, as the benchmarks' annotations and the pytracking / GOT-10k
    result files are; empty lines skipped).

    Args:
        path (str): The text file.
        error_cls (type): Exception raised on a problem.
        kind (str): What the file is, for the not-found message
            (``annotation``, ``result``).

    Returns:
        np.ndarray: ``float64`` (N, 4); ``nan`` values are kept.

    Raises:
        error_cls: Missing file, a row without exactly 4 values or a
            non-numeric value; the message names the file and the line.
    """
    if not osp.isfile(path):
        raise error_cls(f'{kind} file not found: {path}')
    rows = []
    with open(path, 'r') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            parts = [p for p in re.split(r'[,\s]+', line) if p]
            if len(parts) != 4:
                raise error_cls(f'{path}, line {lineno}: expected 4 values (x, y, w, h), '
                                f'got {len(parts)}: {line!r}')
            try:
                rows.append([float(p) for p in parts])
            except ValueError:
                raise error_cls(f'{path}, line {lineno}: non-numeric box value: '
                                f'{line!r}') from None
    return np.asarray(rows, np.float64).reshape(-1, 4)


#: Result-file layouts of the SOT toolkits and servers: ``got10k`` is
#: ``{root}/{seq}/{seq}_001.txt`` (+ ``{seq}_time.txt``), as the GOT-10k
#: toolkit's ``ExperimentGOT10k._record`` writes it; every other one is
#: ``{root}/{seq}.txt`` (pytracking, LaSOT toolkit, TrackingNet server).
SOT_RESULT_LAYOUTS = ('got10k', 'lasot', 'lasot_ext', 'trackingnet', 'tnl2k', 'itb', 'pytracking')


def check_sot_layout(layout: str) -> str:
    """The lower-cased ``layout``, checked against :data:`SOT_RESULT_LAYOUTS`.

    Args:
        layout (str): A layout name.

    Returns:
        str: The lower-cased name.

    Raises:
        ValueError: Unknown layout.
    """
    layout = layout.lower()
    if layout not in SOT_RESULT_LAYOUTS:
        raise ValueError(f'unknown result layout {layout!r}; choose from {SOT_RESULT_LAYOUTS}')
    return layout


def sot_result_path(root: str, seq: str, layout: str) -> str:
    """The box file of sequence ``seq`` under ``root`` in ``layout``.

    Args:
        root (str): The result folder.
        seq (str): The sequence name.
        layout (str): One of :data:`SOT_RESULT_LAYOUTS`.

    Returns:
        str: The path.
    """
    if check_sot_layout(layout) == 'got10k':
        return osp.join(root, seq, f'{seq}_001.txt')
    return osp.join(root, f'{seq}.txt')


def sot_time_path(root: str, seq: str, layout: str) -> Optional[str]:
    """The timing file of ``seq`` (GOT-10k layout only).

    Args:
        root (str): The result folder.
        seq (str): The sequence name.
        layout (str): One of :data:`SOT_RESULT_LAYOUTS`.

    Returns:
        str | None: ``{root}/{seq}/{seq}_time.txt`` for ``got10k``, else None.
    """
    if check_sot_layout(layout) == 'got10k':
        return osp.join(root, seq, f'{seq}_time.txt')
    return None


def sot_result_complete(root: str, seq: str, layout: str, num_frames: int) -> bool:
    """Whether a complete result of ``seq`` exists: its box file in
    ``layout`` parses and has at least ``num_frames`` rows (used to resume an
    interrupted test run by skipping finished sequences).

    Args:
        root (str): The result folder.
        seq (str): The sequence name.
        layout (str): One of :data:`SOT_RESULT_LAYOUTS`.
        num_frames (int): Frames of the sequence.

    Returns:
        bool: True when the sequence is done.
    """
    path = sot_result_path(root, seq, layout)
    if not osp.isfile(path):
        return False
    try:
        return len(parse_box_rows(path, ValueError, 'result')) >= num_frames
    except ValueError:
        return False


# --------------------------------------------------------------------------
# label PNGs
# --------------------------------------------------------------------------
class PaletteMaskError(ValueError):
    """A mask file that is not a usable palette PNG (the message names it)."""


def make_voc_palette(num_colors: int = 256) -> np.ndarray:
    """The PASCAL VOC / DAVIS colour map.

    Colour ``i`` spreads the bits of ``i`` over the three channels, most
    significant first: bit 0 -> red 128, bit 1 -> green 128, bit 2 -> blue
    128, bit 3 -> red 64, ... So 0 is black, 1 ``(128, 0, 0)``, 2
    ``(0, 128, 0)``, 3 ``(128, 128, 0)``, 4 ``(0, 0, 128)``, 255
    ``(224, 224, 192)`` (the PASCAL VOC development kit's ``VOClabelcolormap``).

    Args:
        num_colors (int): Number of colours.

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
    """Read the object ids of a palette PNG (DAVIS / YouTube-VOS masks).

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
    """Write object ids as a palette PNG, atomically (:func:`atomic_open`).

    Args:
        path (str): Output ``.png`` file (parent folders are created).
        ids (np.ndarray): ``(H, W)`` integer array of object ids in
            ``[0, 255]`` (bool is accepted: True -> 1). A torch tensor is
            accepted too.
        palette (np.ndarray | Sequence[int], optional): ``(N, 3)`` colours or
            a flat list of ``3 * N`` values; defaults to
            :data:`DAVIS_PALETTE`.

    Raises:
        ValueError: ``ids`` is not 2-D, not integer or outside ``[0, 255]``,
            or the palette holds more than 256 colours.
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
    with atomic_open(path, 'wb', suffix='.png') as f:
        img.save(f, format='PNG')


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


def read_label_png(path: str) -> np.ndarray:
    """Label ids of a palette (``P``), grayscale (``L``) or integer (``I``,
    ``I;16``) PNG, such as the part / person labels of VIP and JHMDB used by
    the label-propagation evaluation (void 255 kept, unlike
    :func:`load_vos_mask`).

    Args:
        path (str): PNG file.

    Returns:
        np.ndarray: ``int64`` ``(H, W)`` label ids.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The image is in another mode (e.g. RGB).
    """
    with Image.open(path) as img:
        if img.mode not in ('P', 'L', 'I', 'I;16'):
            raise ValueError(f'{path}: expected an indexed or grayscale label PNG, '
                             f'got mode {img.mode!r}')
        return np.array(img).astype(np.int64)


# --------------------------------------------------------------------------
# YouTube-VOS meta.json
# --------------------------------------------------------------------------
def read_youtube_vos_meta(meta_file: str) -> Dict:
    """The ``videos`` dict of a YouTube-VOS ``meta.json``.

    Args:
        meta_file (str): ``{split}/meta.json``.

    Returns:
        dict: ``{video: {"objects": {id: {"category": ..., "frames": [...]}}}}``.

    Raises:
        FileNotFoundError: The file does not exist (the message names it).
        ValueError: Not JSON or without a ``videos`` dict.
    """
    if not osp.isfile(meta_file):
        raise FileNotFoundError(f'YouTube-VOS meta file not found: {meta_file}')
    with open(meta_file) as f:
        try:
            meta = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{meta_file} is not valid JSON: {err}') from err
    if not isinstance(meta, dict) or not isinstance(meta.get('videos'), dict):
        raise ValueError(f'{meta_file} has no "videos" dict (YouTube-VOS meta.json format: '
                         '{"videos": {video: {"objects": {id: {"frames": [...]}}}}})')
    return meta['videos']


def youtube_vos_categories(meta_file: str) -> List[str]:
    """Sorted set of object categories named in a ``meta.json`` (the train
    split's categories are the "seen" ones of the YouTube-VOS evaluation).

    Args:
        meta_file (str): ``{split}/meta.json``.

    Returns:
        list[str]: The categories.
    """
    cats = set()
    for video in read_youtube_vos_meta(meta_file).values():
        for obj in video.get('objects', {}).values():
            if obj.get('category') is not None:
                cats.add(obj['category'])
    return sorted(cats)
