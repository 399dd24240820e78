"""Optical-flow files: Middlebury ``.flo`` and KITTI 16-bit PNG (numpy/cv2
only, no mmcv, so that the evaluation and the tools read and write flow
without the model or data stacks).

The formats are those of RAFT's ``core/utils/frame_utils.py``
(princeton-vl/RAFT: ``readFlow``, ``writeFlow``, ``readFlowKITTI``,
``writeFlowKITTI``) and of the benchmarks' devkits:

* ``.flo`` (Middlebury): little-endian float32 magic ``202021.25``, int32
  width, int32 height, then ``H x W x 2`` float32 ``(u, v)`` interleaved
  row by row. Round trips are exact.
* KITTI flow PNG (KITTI 2015 devkit, HD1K): 3-channel 16-bit PNG whose
  channels (in R, G, B order) are ``u * 64 + 2**15``, ``v * 64 + 2**15``
  and the valid flag (1 = ground truth exists). Values are clipped to the
  16-bit range (``|u|, |v| < 512``) and truncated to the 1/64 px grid
  below them, as the devkit's ``FlowImage::write`` (clip, then cast to
  ``uint16``) and RAFT's ``writeFlowKITTI`` (``astype(np.uint16)``) do: a
  round trip is within 1/64 px.

Writers are atomic (a temporary file in the destination folder renamed over
the target, :func:`mmdropmae.utils.fileio.atomic_open`).
"""
import os.path as osp
from typing import Optional, Tuple

import cv2
import numpy as np

from mmdropmae.utils.fileio import atomic_open

__all__ = [
    'FLO_MAGIC', 'FlowFileError', 'read_flo', 'write_flo', 'read_kitti_flow',
    'write_kitti_flow', 'encode_kitti_flow', 'decode_kitti_flow', 'read_flow_file',
    'write_flow_file', 'FLOW_EXTENSIONS'
]

#: The ``.flo`` magic number (the float32 of the bytes ``PIEH``).
FLO_MAGIC = 202021.25
#: File endings :func:`read_flow_file` understands.
FLOW_EXTENSIONS = ('.flo', '.png')


class FlowFileError(ValueError):
    """A flow file is missing, truncated or not in the format its ending says."""


def _check_flow(flow: np.ndarray, path: str) -> np.ndarray:
    flow = np.asarray(flow)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise FlowFileError(f'{path}: flow must be (H, W, 2), got shape {flow.shape}')
    return flow


def read_flo(path: str) -> np.ndarray:
    """Read a Middlebury ``.flo`` file.

    Args:
        path (str): The file.

    Returns:
        np.ndarray: ``float32`` (H, W, 2) flow ``(u, v)``.

    Raises:
        FlowFileError: Missing file, wrong magic number or truncated data.
    """
    if not osp.isfile(path):
        raise FlowFileError(f'flow file not found: {path}')
    with open(path, 'rb') as f:
        header = f.read(12)
        if len(header) < 12:
            raise FlowFileError(f'{path}: truncated .flo header ({len(header)} bytes)')
        magic = np.frombuffer(header[:4], '<f4')[0]
        if magic != np.float32(FLO_MAGIC):
            raise FlowFileError(f'{path}: not a .flo file (magic {magic!r}, expected '
                                f'{FLO_MAGIC})')
        w, h = (int(v) for v in np.frombuffer(header[4:], '<i4'))
        if w <= 0 or h <= 0:
            raise FlowFileError(f'{path}: bad .flo size {w}x{h}')
        data = np.frombuffer(f.read(), '<f4')
    if data.size < 2 * w * h:
        raise FlowFileError(f'{path}: truncated .flo data ({data.size} of {2 * w * h} '
                            'values)')
    return data[:2 * w * h].reshape(h, w, 2).astype(np.float32)


def write_flo(path: str, flow: np.ndarray) -> None:
    """Write (H, W, 2) flow as a Middlebury ``.flo`` file (atomic).

    Args:
        path (str): The file (parent folders are created).
        flow (np.ndarray): (H, W, 2) flow ``(u, v)``; stored as float32.
    """
    flow = _check_flow(flow, path)
    h, w = flow.shape[:2]
    with atomic_open(path, 'wb', suffix='.flo') as f:
        f.write(np.array([FLO_MAGIC], '<f4').tobytes())
        f.write(np.array([w, h], '<i4').tobytes())
        f.write(np.ascontiguousarray(flow, '<f4').tobytes())


def encode_kitti_flow(flow: np.ndarray, valid: Optional[np.ndarray] = None) -> np.ndarray:
    """(H, W, 2) flow (+ valid) -> the (H, W, 3) ``uint16`` KITTI channels in
    R, G, B order: ``u * 64 + 2**15``, ``v * 64 + 2**15``, valid (1/0).

    Args:
        flow (np.ndarray): (H, W, 2) flow.
        valid (np.ndarray, optional): (H, W) valid mask (> 0.5: valid);
            default all valid (a prediction).
    """
    flow = _check_flow(flow, 'KITTI flow')
    enc = np.floor(np.clip(flow.astype(np.float64) * 64.0 + 2**15, 0, 2**16 - 1))
    if valid is None:
        v = np.ones(flow.shape[:2], np.float64)
    else:
        v = (np.asarray(valid, np.float64) >= 0.5).astype(np.float64)
        if v.shape != flow.shape[:2]:
            raise FlowFileError(f'valid mask of shape {v.shape} for flow of shape '
                                f'{flow.shape}')
    return np.concatenate([enc, v[..., None]], -1).astype(np.uint16)


def decode_kitti_flow(channels: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) KITTI channels (R, G, B) -> ``float32`` flow (H, W, 2) and
    valid (H, W) (1.0 / 0.0), as RAFT's ``readFlowKITTI``."""
    c = channels.astype(np.float32)
    return (c[..., :2] - 2**15) / 64.0, c[..., 2]


def read_kitti_flow(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """Read a KITTI / HD1K 16-bit flow PNG.

    Returns:
        tuple: ``float32`` flow (H, W, 2) and valid (H, W) in {0, 1}.

    Raises:
        FlowFileError: Missing, undecodable or not a 3-channel 16-bit PNG.
    """
    if not osp.isfile(path):
        raise FlowFileError(f'flow file not found: {path}')
    img = cv2.imread(path, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR)
    if img is None:
        raise FlowFileError(f'{path}: cannot decode the KITTI flow PNG')
    if img.dtype != np.uint16 or img.ndim != 3 or img.shape[2] != 3:
        raise FlowFileError(f'{path}: a KITTI flow PNG is 3-channel 16-bit, got dtype '
                            f'{img.dtype} and shape {img.shape}')
    return decode_kitti_flow(img[..., ::-1])


def write_kitti_flow(path: str, flow: np.ndarray, valid: Optional[np.ndarray] = None) -> None:
    """Write flow as a KITTI 16-bit PNG (atomic); see :func:`encode_kitti_flow`.

    Raises:
        OSError: OpenCV could not encode the PNG.
    """
    enc = encode_kitti_flow(flow, valid)
    ok, buf = cv2.imencode('.png', np.ascontiguousarray(enc[..., ::-1]))
    if not ok:
        raise OSError(f'could not encode the KITTI flow PNG {path}')
    with atomic_open(path, 'wb', suffix='.png') as f:
        f.write(buf.tobytes())


def read_flow_file(path: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Read ``.flo`` (valid: None) or a KITTI PNG (valid from its third
    channel), by file ending.

    Returns:
        tuple: ``float32`` (H, W, 2) flow and the (H, W) valid mask or None.
    """
    ext = osp.splitext(path)[1].lower()
    if ext == '.flo':
        return read_flo(path), None
    if ext == '.png':
        return read_kitti_flow(path)
    raise FlowFileError(f'{path}: unknown flow file ending {ext!r} (expected one of '
                        f'{FLOW_EXTENSIONS})')


def write_flow_file(path: str, flow: np.ndarray, valid: Optional[np.ndarray] = None) -> None:
    """Write ``.flo`` or KITTI PNG by file ending (``valid`` only for PNG)."""
    ext = osp.splitext(path)[1].lower()
    if ext == '.flo':
        write_flo(path, flow)
    elif ext == '.png':
        write_kitti_flow(path, flow, valid)
    else:
        raise FlowFileError(f'{path}: unknown flow file ending {ext!r} (expected one of '
                            f'{FLOW_EXTENSIONS})')
