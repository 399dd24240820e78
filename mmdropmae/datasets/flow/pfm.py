"""PFM reader (FlyingThings3D flow and disparity), as RAFT's
``core/utils/frame_utils.py`` ``readPFM`` (princeton-vl/RAFT)."""
import os.path as osp
import re

import numpy as np

from .base import FlowDatasetError


def read_pfm(path: str) -> np.ndarray:
    """Read a PFM file.

    Header ``PF`` (3 channels) or ``Pf`` (1), ``W H``, then the scale whose
    sign gives the byte order (negative: little-endian); rows are stored
    bottom to top and flipped here.

    Returns:
        np.ndarray: ``float32`` (H, W, 3) or (H, W).

    Raises:
        FlowDatasetError: Missing file, bad header or truncated data (the
            message names the file).
    """
    if not osp.isfile(path):
        raise FlowDatasetError(f'PFM file not found: {path}')
    with open(path, 'rb') as f:
        header = f.readline().rstrip()
        if header not in (b'PF', b'Pf'):
            raise FlowDatasetError(f'{path}: not a PFM file (header {header[:8]!r})')
        channels = 3 if header == b'PF' else 1
        dims = re.match(rb'^(\d+)\s(\d+)\s*$', f.readline())
        if not dims:
            raise FlowDatasetError(f'{path}: malformed PFM size line')
        width, height = map(int, dims.groups())
        try:
            scale = float(f.readline().rstrip())
        except ValueError:
            raise FlowDatasetError(f'{path}: malformed PFM scale line') from None
        endian = '<' if scale < 0 else '>'
        data = np.frombuffer(f.read(), endian + 'f4')
    n = width * height * channels
    if data.size < n:
        raise FlowDatasetError(f'{path}: truncated PFM data ({data.size} of {n} values)')
    shape = (height, width, channels) if channels == 3 else (height, width)
    return np.flipud(data[:n].reshape(shape)).astype(np.float32)


def write_pfm(path: str, data: np.ndarray) -> None:
    """Write (H, W, 3) or (H, W) float data as little-endian PFM (tests and
    synthetic data)."""
    data = np.asarray(data, np.float32)
    color = data.ndim == 3
    with open(path, 'wb') as f:
        f.write(b'PF\n' if color else b'Pf\n')
        f.write(f'{data.shape[1]} {data.shape[0]}\n'.encode())
        f.write(b'-1.0\n')
        f.write(np.ascontiguousarray(np.flipud(data), '<f4').tobytes())
