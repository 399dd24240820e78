"""Batching and normalisation of tracking inputs."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from mmdropmae.registry import MODELS


@MODELS.register_module()
class TrackingDataPreprocessor(BaseDataPreprocessor):
    """Prepare template/search training pairs, or pass test frames through.

    Training pairs (``inputs`` a dict with ``template`` and ``search`` lists
    of RGB ``uint8`` (3, H, W) tensors, as packed by
    :class:`PackSOTPairInputs`) are stacked and normalised with ``mean`` and
    ``std`` (ImageNet, 0-255 scale, RGB order, as OSTrack/DropTrack).

    Test frames (``inputs`` a list of full frames, RGB ``uint8`` (H, W, 3)
    arrays or (3, H, W) tensors, as packed by :class:`PackTrackingFrame`) are
    returned unchanged: the tracker crops them itself around its state and
    normalises the crops with :meth:`normalize`.

    Args:
        mean (Sequence[float]): Per-channel mean (RGB).
        std (Sequence[float]): Per-channel std (RGB).
        non_blocking (bool): Non-blocking host-to-device copies.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 non_blocking: Optional[bool] = False):
        super().__init__(non_blocking)
        self.register_buffer('mean', torch.tensor(mean).view(1, -1, 1, 1),
                             False)
        self.register_buffer('std', torch.tensor(std).view(1, -1, 1, 1),
                             False)

    def normalize(self, imgs: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) uint8/float 0-255 RGB -> normalised float."""
        return (imgs.to(self.mean.device).float() - self.mean) / self.std

    def _stack(self, imgs) -> torch.Tensor:
        if isinstance(imgs, torch.Tensor):
            return imgs if imgs.ndim == 4 else imgs[None]
        shapes = {tuple(x.shape) for x in imgs}
        if len(shapes) != 1:
            raise ValueError('all crops of a batch must have one shape, got '
                             f'{sorted(shapes)}')
        return torch.stack(list(imgs))

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        if isinstance(inputs, dict):
            data = self.cast_data(data)
            inputs = data['inputs']
            out = {k: self.normalize(self._stack(v)) for k, v in inputs.items()}
            return dict(inputs=out, data_samples=data.get('data_samples'))
        # test frames: leave them where they are (numpy on the host)
        samples = data.get('data_samples')
        if samples is not None:
            samples = self.cast_data(samples)
        return dict(inputs=inputs, data_samples=samples)
