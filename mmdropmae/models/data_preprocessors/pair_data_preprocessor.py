"""Batching and normalisation of multi-frame (frame pair) inputs."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from mmdropmae.registry import MODELS


@MODELS.register_module()
class PairDataPreprocessor(BaseDataPreprocessor):
    """Stack (T, C, H, W) uint8 clips into (B, T, C, H, W) and normalise.

    Frames come RGB from the video decoders; ``mean``/``std`` are in that
    order (ImageNet by default, on the 0-255 scale).

    Args:
        mean (Sequence[float]): Per-channel mean.
        std (Sequence[float]): Per-channel std.
        non_blocking (bool): Non-blocking host-to-device copies.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 non_blocking: Optional[bool] = False):
        super().__init__(non_blocking)
        self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std).view(-1, 1, 1), False)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            shapes = {tuple(x.shape) for x in inputs}
            if len(shapes) != 1:
                raise ValueError('all clips of a batch must have one shape, '
                                 f'got {sorted(shapes)}')
            inputs = torch.stack(list(inputs))
        if inputs.ndim != 5:
            raise ValueError('expected clips of shape (T, C, H, W), got a '
                             f'batch of shape {tuple(inputs.shape)}')
        inputs = (inputs.float() - self.mean) / self.std
        return dict(inputs=inputs, data_samples=data.get('data_samples'))
