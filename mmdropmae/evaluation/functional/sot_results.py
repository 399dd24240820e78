"""Per-sequence SOT result files in the layouts of the official toolkits and
evaluation servers.

* ``got10k``: ``{root}/{seq}/{seq}_001.txt`` (one ``x,y,w,h`` row per frame,
  comma separated, first row = the init box) and ``{root}/{seq}/{seq}_time.txt``
  (seconds per frame, one per line), as ``ExperimentGOT10k._record`` writes
  them; zip the folder's content for the GOT-10k server.
* ``lasot`` / ``lasot_ext`` / ``trackingnet`` / ``tnl2k`` / ``itb`` (and
  ``pytracking``): ``{root}/{seq}.txt``, comma-separated ``x,y,w,h`` rows
  (TrackingNet server: zip the ``.txt`` files).

Boxes are written with 3 decimals (as the GOT-10k toolkit) and every file is
written atomically (temporary file + ``os.replace``), so an interrupted run
never leaves a half-written result that a resumed run would trust.

The layouts, the path functions, :func:`sequence_result_done` and
:func:`atomic_write_text` live in :mod:`mmdropmae.utils.fileio` (the SOT
datasets use them to resume a run without importing the evaluation) and are
re-exported here under their names of this module.
"""
import os.path as osp
from typing import Optional, Sequence

import numpy as np

from mmdropmae.utils.fileio import SOT_RESULT_LAYOUTS as LAYOUTS
from mmdropmae.utils.fileio import atomic_write_text, parse_box_rows
from mmdropmae.utils.fileio import sot_result_complete as sequence_result_done
from mmdropmae.utils.fileio import sot_result_path as result_file_path
from mmdropmae.utils.fileio import sot_time_path as time_file_path

__all__ = [
    'LAYOUTS', 'SOTResultError', 'result_file_path', 'time_file_path', 'atomic_write_text',
    'write_sot_result', 'find_result_file', 'read_box_rows', 'read_sot_result',
    'sequence_result_done'
]


class SOTResultError(ValueError):
    """A missing, short or malformed result file (the message names it)."""


def write_sot_result(root: str, seq: str, boxes_xywh: np.ndarray, layout: str,
                     times: Optional[Sequence[float]] = None) -> str:
    """Write one sequence's boxes (N, 4) xywh (and, for ``got10k``, the
    per-frame times in seconds). Returns the box file path."""
    boxes = np.asarray(boxes_xywh, np.float64).reshape(-1, 4)
    path = result_file_path(root, seq, layout)
    text = ''.join(','.join(f'{v:.3f}' for v in row) + '\n' for row in boxes)
    tpath = time_file_path(root, seq, layout)
    if tpath is not None and times is not None:
        t = np.asarray(times, np.float64).reshape(-1)
        atomic_write_text(tpath, ''.join(f'{v:.8f}\n' for v in t))
    atomic_write_text(path, text)  # the box file last: its presence = sequence done
    return path


def find_result_file(root: str, seq: str, layout: str) -> Optional[str]:
    """The result file of ``seq`` in ``layout``, else in the other layout
    (``{seq}.txt`` vs ``{seq}/{seq}_001.txt``), else None."""
    first = result_file_path(root, seq, layout)
    if osp.isfile(first):
        return first
    other = result_file_path(root, seq, 'lasot' if layout == 'got10k' else 'got10k')
    return other if osp.isfile(other) else None


def read_box_rows(path: str) -> np.ndarray:
    """Read a box file: ``x,y,w,h`` rows separated by commas, tabs or spaces
    (pytracking writes tabs). Returns (N, 4) float64.

    Raises:
        SOTResultError: missing file, a row without 4 numbers.
    """
    return parse_box_rows(path, SOTResultError, 'result')


def read_sot_result(root: str, seq: str, layout: str,
                    num_frames: Optional[int] = None) -> np.ndarray:
    """Read the boxes of ``seq`` (see :func:`find_result_file`).

    Args:
        num_frames (int, optional): Expected number of frames: fewer rows
            raise :class:`SOTResultError` naming the file; extra rows are
            dropped (as pytracking does for LaSOT).
    """
    path = find_result_file(root, seq, layout)
    if path is None:
        raise SOTResultError(
            f'result file not found for sequence {seq!r}: '
            f'{result_file_path(root, seq, layout)}')
    boxes = read_box_rows(path)
    if num_frames is not None:
        if len(boxes) < num_frames:
            raise SOTResultError(
                f'{path}: {len(boxes)} boxes for {num_frames} frames (result file too short)')
        boxes = boxes[:num_frames]
    return boxes
