"""Data preprocessors: batching and the one normalisation path of every task.

Frames come RGB, ``uint8`` on the 0-255 scale, from the loaders and
transforms; :class:`NormalizingDataPreprocessor` holds the mean/std (ImageNet
by default, as MAE, DropMAE, OSTrack and STCN use) and its
:meth:`~NormalizingDataPreprocessor.normalize` is what every model uses, in
batches here or on crops and frames at test time.
"""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor
from torch import Tensor

from mmdropmae.registry import MODELS
from mmdropmae.utils.constants import IMAGENET_MEAN, IMAGENET_STD


def _stack(items, what: str) -> Tensor:
    if isinstance(items, Tensor):
        return items
    shapes = {tuple(x.shape) for x in items}
    if len(shapes) != 1:
        raise ValueError(f'all {what} of a batch must have one shape, got {sorted(shapes)}')
    return torch.stack(list(items))


class NormalizingDataPreprocessor(BaseDataPreprocessor):
    """Base: ``(x - mean) / std`` per channel of (..., C, H, W) images.

    Args:
        mean (Sequence[float]): Per-channel mean (RGB, 0-255 scale).
        std (Sequence[float]): Per-channel std.
        non_blocking (bool): Non-blocking host-to-device copies.
    """

    def __init__(self,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 non_blocking: Optional[bool] = False):
        super().__init__(non_blocking)
        self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std).view(-1, 1, 1), False)

    def normalize(self, imgs: Tensor) -> Tensor:
        """(..., C, H, W) 0-255 RGB (any dtype, any device) -> normalised
        float on the preprocessor's device."""
        return (imgs.to(self.mean.device).float() - self.mean) / self.std


@MODELS.register_module()
class PairDataPreprocessor(NormalizingDataPreprocessor):
    """Stack (T, C, H, W) uint8 clips into (B, T, C, H, W) and normalise
    (pre-training frame pairs)."""

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            inputs = _stack(inputs, 'clips')
        if inputs.ndim != 5:
            raise ValueError('expected clips of shape (T, C, H, W), got a '
                             f'batch of shape {tuple(inputs.shape)}')
        return dict(inputs=self.normalize(inputs), data_samples=data.get('data_samples'))


@MODELS.register_module()
class TrackingDataPreprocessor(NormalizingDataPreprocessor):
    """Prepare template/search training pairs, or pass test frames through.

    Training pairs (``inputs`` a dict with ``template`` and ``search`` lists
    of RGB ``uint8`` (3, H, W) tensors, as packed by
    :class:`PackSOTPairInputs`) are stacked and normalised.

    Test frames (``inputs`` a list of full frames, RGB ``uint8`` (H, W, 3)
    arrays or (3, H, W) tensors, as packed by :class:`PackTrackingFrame`) are
    returned unchanged: the tracker crops them itself around its state and
    normalises the crops with :meth:`normalize`.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        if isinstance(inputs, dict):
            data = self.cast_data(data)
            out = {}
            for k, v in data['inputs'].items():
                v = _stack(v, 'crops')
                out[k] = self.normalize(v if v.ndim == 4 else v[None])
            return dict(inputs=out, data_samples=data.get('data_samples'))
        # test frames: leave them where they are (numpy on the host)
        samples = data.get('data_samples')
        if samples is not None:
            samples = self.cast_data(samples)
        return dict(inputs=inputs, data_samples=samples)


@MODELS.register_module()
class VOSDataPreprocessor(NormalizingDataPreprocessor):
    """Stack and normalise training clips; leave test sequences (a whole
    video per item) to the model, which normalises frame by frame so that
    memory stays that of one frame.

    Training inputs: a list of dicts ``imgs`` (T, 3, H, W) uint8 RGB and
    ``masks`` (T, H, W) ids 0..K (or MMEngine's ``pseudo_collate`` dict of
    lists) -> ``dict(imgs=(B, T, 3, H, W) float, masks=(B, T, H, W) long)``.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        samples = data.get('data_samples')
        if isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], dict) \
                and 'masks' in inputs[0]:  # list of per-clip dicts
            inputs = dict(imgs=[x['imgs'] for x in inputs], masks=[x['masks'] for x in inputs])
        if isinstance(inputs, dict) and 'masks' in inputs:  # pseudo_collate: dict of lists
            imgs = _stack(inputs['imgs'], 'clips')
            masks = _stack(inputs['masks'], 'clip masks').long()
            data = self.cast_data(dict(imgs=imgs, masks=masks))
            return dict(inputs=dict(imgs=self.normalize(data['imgs']), masks=data['masks']),
                        data_samples=samples)
        return dict(inputs=inputs, data_samples=samples)


@MODELS.register_module()
class SequenceDataPreprocessor(NormalizingDataPreprocessor):
    """Normalise whole videos: ``inputs`` a list of (T, 3, H, W) uint8
    frame stacks (one per video, sizes may differ) -> a list of normalised
    float stacks on the model's device (label propagation)."""

    def forward(self, data: dict, training: bool = False) -> dict:
        if not isinstance(data, dict) or 'inputs' not in data:
            raise ValueError('expected whole videos packed with their frames: put '
                             'LoadSequenceFrames before PackSequence in the test pipeline')
        inputs = data['inputs']
        if isinstance(inputs, Tensor):
            inputs = [inputs] if inputs.ndim == 4 else list(inputs)
        return dict(inputs=[self.normalize(x) for x in inputs],
                    data_samples=data.get('data_samples'))
