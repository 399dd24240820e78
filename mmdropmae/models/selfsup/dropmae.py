"""DropMAE / TwinMAE: masked autoencoding of frame pairs."""
from typing import Dict, List, Optional

import torch
from torch import Tensor

from mmdropmae.registry import MODELS
from mmdropmae.structures.data_sample import DataSample
from ..base import BaseTaskModel
from ..heads.mae_head import unpatchify


@MODELS.register_module()
class DropMAE(BaseTaskModel):
    """Two-frame masked autoencoder with ASAD in the decoder.

    The backbone (:class:`DropMAEViT`) masks 75% of the 2N tokens of a frame
    pair jointly and encodes the rest, the neck
    (:class:`DropMAEPretrainDecoder`) reconstructs every patch, and the head
    (:class:`MAEPretrainHead`) takes the MSE on the masked patches. TwinMAE
    is this model with ASAD off in the decoder (``drop_prob=0``).

    Args:
        backbone (dict): Encoder config.
        neck (dict): Decoder config.
        head (dict): Loss head config.
        data_preprocessor (dict, optional): Defaults to
            :class:`PairDataPreprocessor` with ImageNet mean/std.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        data_preprocessor = MODELS.build(
            data_preprocessor or dict(type='PairDataPreprocessor'))
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.head = MODELS.build(head)

    @staticmethod
    def _split(inputs: Tensor):
        if inputs.ndim != 5 or inputs.shape[1] != 2:
            raise ValueError('DropMAE expects frame pairs of shape '
                             f'(B, 2, C, H, W), got {tuple(inputs.shape)}')
        return inputs[:, 0], inputs[:, 1]

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        return self.extract_feat(inputs)

    def extract_feat(self, inputs: Tensor) -> Tensor:
        """Tokens (B, 2N, D) of both frames encoded jointly, no masking."""
        x, z = self._split(inputs)
        return self.backbone(x, z, mask=False)[0]

    def loss(self, inputs: Tensor,
             data_samples: Optional[List[DataSample]] = None
             ) -> Dict[str, Tensor]:
        x, z = self._split(inputs)
        latent, mask, ids_restore = self.backbone(x, z)
        pred = self.neck(latent, ids_restore)
        return self.head.loss(pred, inputs, mask)

    @torch.no_grad()
    def reconstruct(self, inputs: Tensor) -> Dict[str, Tensor]:
        """Masked reconstruction of both frames, in the normalised image space.

        With ``norm_pix`` the predicted patches are mapped back with the
        true patches' mean and std (as MAE's visualisation does), so only
        the structure inside each masked patch is predicted.

        Returns:
            dict: ``pred`` (B, 2, C, H, W) predicted frames, ``mask``
            (B, 2, 1, H, W) with 1 on masked pixels, ``loss`` (B,) per-sample
            reconstruction loss.
        """
        x, z = self._split(inputs)
        b, t, c, h, w = inputs.shape
        p = self.head.patch_size
        latent, mask, ids_restore = self.backbone(x, z)
        pred = self.neck(latent, ids_restore)
        target = self.head.construct_target(inputs)
        loss = (((pred - target)**2).mean(-1) * mask).sum(1) / mask.sum(1)
        if self.head.norm_pix:
            patches = self.head.construct_target(inputs, norm_pix=False)
            mean = patches.mean(-1, keepdim=True)
            std = (patches.var(-1, keepdim=True) + 1.e-6)**.5
            pred = pred * std + mean
        grid = (h // p, w // p)
        n = grid[0] * grid[1]
        frames = unpatchify(pred.reshape(b * t, n, -1), p, grid, c)
        mask_img = mask.reshape(b * t, n, 1).expand(-1, -1, p * p)
        mask_img = unpatchify(mask_img, p, grid, 1)
        return dict(
            pred=frames.view(b, t, c, h, w),
            mask=mask_img.view(b, t, 1, h, w),
            loss=loss)

    def predict(self, inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        """Reconstructions as data samples (fields ``pred``, ``mask``,
        ``loss``), for visualisation and analysis."""
        out = self.reconstruct(inputs)
        data_samples = data_samples or [
            DataSample() for _ in range(inputs.shape[0])
        ]
        for i, sample in enumerate(data_samples):
            sample.set_data(
                dict(
                    pred=out['pred'][i],
                    mask=out['mask'][i],
                    loss=out['loss'][i]))
        return data_samples
