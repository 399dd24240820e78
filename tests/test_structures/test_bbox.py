"""mmdropmae.structures.bbox conversions against hand values, for numpy
arrays and torch tensors, and the old import names."""
import numpy as np
import pytest
import torch

from mmdropmae.structures import (box_cxcywh_to_xyxy, box_xywh_to_xyxy, box_xyxy_to_cxcywh,
                                  box_xyxy_to_xywh)

XYWH = [[10., 20., 30., 40.], [0., 0., 1., 2.]]
XYXY = [[10., 20., 40., 60.], [0., 0., 1., 2.]]
CXCYWH = [[25., 40., 30., 40.], [.5, 1., 1., 2.]]


@pytest.mark.parametrize('fn, src, dst', [
    (box_xywh_to_xyxy, XYWH, XYXY),
    (box_xyxy_to_xywh, XYXY, XYWH),
    (box_cxcywh_to_xyxy, CXCYWH, XYXY),
    (box_xyxy_to_cxcywh, XYXY, CXCYWH),
])
def test_conversions(fn, src, dst):
    arr = np.asarray(src, np.float32)
    out = fn(arr)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, dst)
    np.testing.assert_array_equal(arr, src)  # input untouched
    np.testing.assert_array_equal(fn(arr[0]), dst[0])  # a single (4,) box
    t = torch.tensor(src, requires_grad=True)
    out_t = fn(t)
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == torch.float32
    torch.testing.assert_close(out_t, torch.tensor(dst))
    out_t.sum().backward()  # differentiable
    assert t.grad is not None


def test_numpy_keeps_dtype_and_nan():
    b = np.array([[1., 2., np.nan, 4.]], np.float64)
    out = box_xywh_to_xyxy(b)
    assert out.dtype == np.float64 and np.isnan(out[0, 2]) and out[0, 3] == 6.
    assert box_xywh_to_xyxy([1, 2, 3, 4]).tolist() == [1, 2, 4, 6]


def test_old_names_are_the_same_functions():
    from mmdropmae.evaluation.functional.sot_metrics import xywh_to_xyxy, xyxy_to_xywh
    from mmdropmae.models.losses import box_losses
    assert box_losses.box_cxcywh_to_xyxy is box_cxcywh_to_xyxy
    assert box_losses.box_xywh_to_xyxy is box_xywh_to_xyxy
    assert box_losses.box_xyxy_to_cxcywh is box_xyxy_to_cxcywh
    out = xywh_to_xyxy(np.asarray(XYWH, np.float32))  # the metrics' float64 versions
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, XYXY)
    np.testing.assert_array_equal(xyxy_to_xywh(XYXY), XYWH)
