"""Mixed-precision training on CPU."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from mmdropmae.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """Mixed precision on CPU: bfloat16 autocast, no loss scaling.

    bfloat16 has float32's exponent range, so gradients do not underflow and
    no ``GradScaler`` is needed. ``loss_scale`` is accepted (and ignored) so
    that a GPU ``AmpOptimWrapper`` config converts one to one.
    """

    def __init__(self, dtype='bfloat16', loss_scale=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype)
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(
                device_type='cpu', dtype=self.cast_dtype):
            yield
