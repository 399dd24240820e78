"""Masked pixel reconstruction loss of MAE/DropMAE."""
from typing import Dict, Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor

from mmdropmae.registry import MODELS


def patchify(imgs: Tensor, patch_size: int) -> Tensor:
    """(B, C, H, W) -> (B, H/p * W/p, p*p*C), MAE's (p, q, c) order."""
    b, c, h, w = imgs.shape
    p = patch_size
    if h % p or w % p:
        raise ValueError(f'image {h}x{w} is not a multiple of patch {p}')
    x = imgs.reshape(b, c, h // p, p, w // p, p)
    x = torch.einsum('nchpwq->nhwpqc', x)
    return x.reshape(b, (h // p) * (w // p), p * p * c)


def unpatchify(x: Tensor, patch_size: int, grid: tuple, channels: int = 3
               ) -> Tensor:
    """Inverse of :func:`patchify`: (B, h*w, p*p*C) -> (B, C, h*p, w*p)."""
    b = x.shape[0]
    h, w = grid
    p = patch_size
    x = x.reshape(b, h, w, p, p, channels)
    x = torch.einsum('nhwpqc->nchpwq', x)
    return x.reshape(b, channels, h * p, w * p)


@MODELS.register_module()
class MAEPretrainHead(BaseModule):
    """MSE on the masked patches of both frames, optionally on per-patch
    normalised pixels (``norm_pix``: subtract the patch mean, divide by
    ``sqrt(var + 1e-6)``, with the unbiased variance as in MAE).

    Args:
        patch_size (int): Patch size. Defaults to 16.
        norm_pix (bool): Normalise target pixels per patch. Defaults to True.
    """

    def __init__(self, patch_size: int = 16, norm_pix: bool = True,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.patch_size = patch_size
        self.norm_pix = norm_pix

    def construct_target(self,
                         frames: Tensor,
                         norm_pix: Optional[bool] = None) -> Tensor:
        """(B, T, C, H, W) frames -> (B, T*N, p*p*C) targets, frame order.

        ``norm_pix`` overrides the head's setting when given."""
        b, t = frames.shape[:2]
        target = patchify(frames.flatten(0, 1), self.patch_size)
        target = target.reshape(b, -1, target.shape[-1])
        if self.norm_pix if norm_pix is None else norm_pix:
            mean = target.mean(dim=-1, keepdim=True)
            var = target.var(dim=-1, keepdim=True)
            target = (target - mean) / (var + 1.e-6)**.5
        return target

    def loss(self, pred: Tensor, frames: Tensor, mask: Tensor
             ) -> Dict[str, Tensor]:
        """Mean squared error over the masked patches.

        Args:
            pred (Tensor): (B, T*N, p*p*C) predictions.
            frames (Tensor): (B, T, C, H, W) normalised input frames.
            mask (Tensor): (B, T*N), 1 for masked patches.

        Returns:
            dict: ``loss_rec``.
        """
        target = self.construct_target(frames)
        per_patch = ((pred.float() - target.float())**2).mean(dim=-1)
        loss = (per_patch * mask).sum() / mask.sum().clamp(min=1)
        return dict(loss_rec=loss)
