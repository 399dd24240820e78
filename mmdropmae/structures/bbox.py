"""Box format conversions for numpy arrays and torch tensors.

Formats (the last dimension holds the four numbers):

* ``xywh``: top-left corner, width, height (the tracking benchmarks' files);
* ``xyxy``: top-left and bottom-right corners, ``x2 = x + w``;
* ``cxcywh``: centre, width, height (the box heads' output).

The tensor versions follow DETR's ``util/box_ops.py``
(https://github.com/facebookresearch/detr), which OSTrack copies
(``lib/utils/box_ops.py``); the numpy versions compute the same expressions
and keep the input's dtype (cast before calling for another one). torch is
not imported here: a tensor input implies it is already loaded, so
``mmdropmae.evaluation`` can use these functions on arrays without importing
torch.
"""
import sys
from typing import Any, Callable

import numpy as np

__all__ = ['box_xywh_to_xyxy', 'box_xyxy_to_xywh', 'box_cxcywh_to_xyxy', 'box_xyxy_to_cxcywh']


def _convert(boxes: Any, fn: Callable) -> Any:
    """Apply ``fn`` to the four coordinates of the last dimension and stack
    its four outputs back (``torch.stack`` for a tensor, ``np.stack``
    otherwise)."""
    torch = sys.modules.get('torch')
    if torch is not None and isinstance(boxes, torch.Tensor):
        return torch.stack(fn(*boxes.unbind(-1)), -1)
    b = np.asarray(boxes)
    return np.stack(fn(b[..., 0], b[..., 1], b[..., 2], b[..., 3]), -1)


def box_xywh_to_xyxy(boxes: Any) -> Any:
    """``x, y, w, h`` -> ``x1, y1, x2, y2`` (``x2 = x + w``).

    Args:
        boxes (np.ndarray | torch.Tensor | Sequence): (..., 4) boxes.

    Returns:
        np.ndarray | torch.Tensor: New (..., 4) boxes; arrays keep their
        dtype, sequences become arrays.
    """
    return _convert(boxes, lambda x, y, w, h: (x, y, x + w, y + h))


def box_xyxy_to_xywh(boxes: Any) -> Any:
    """``x1, y1, x2, y2`` -> ``x, y, w, h`` (``w = x2 - x1``).

    Args:
        boxes (np.ndarray | torch.Tensor | Sequence): (..., 4) boxes.

    Returns:
        np.ndarray | torch.Tensor: New (..., 4) boxes; arrays keep their
        dtype, sequences become arrays.
    """
    return _convert(boxes, lambda x1, y1, x2, y2: (x1, y1, x2 - x1, y2 - y1))


def box_cxcywh_to_xyxy(boxes: Any) -> Any:
    """``cx, cy, w, h`` -> ``x1, y1, x2, y2`` (``x1 = cx - w / 2``).

    Args:
        boxes (np.ndarray | torch.Tensor | Sequence): (..., 4) boxes.

    Returns:
        np.ndarray | torch.Tensor: New (..., 4) boxes.
    """
    return _convert(boxes,
                    lambda cx, cy, w, h: (cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h))


def box_xyxy_to_cxcywh(boxes: Any) -> Any:
    """``x1, y1, x2, y2`` -> ``cx, cy, w, h`` (``cx = (x1 + x2) / 2``).

    Args:
        boxes (np.ndarray | torch.Tensor | Sequence): (..., 4) boxes.

    Returns:
        np.ndarray | torch.Tensor: New (..., 4) boxes.
    """
    return _convert(boxes, lambda x1, y1, x2, y2: ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1))
