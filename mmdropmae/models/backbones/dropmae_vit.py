"""The DropMAE pre-training encoder: two frames, joint random masking."""
from typing import Optional, Tuple

import torch
from torch import Tensor

from mmdropmae.registry import MODELS
from .vision_transformer import VisionTransformer


@MODELS.register_module()
class DropMAEViT(VisionTransformer):
    """ViT encoder of DropMAE/TwinMAE pre-training.

    Both frames are patchified with the shared patch embedding, get the
    shared fixed sin-cos position embedding plus their own learned temporal
    embedding, are concatenated (x first, 2N tokens) and ``mask_ratio`` of
    the 2N tokens are masked JOINTLY by a per-sample random shuffle (not
    ``mask_ratio`` per frame). Only visible tokens are encoded.

    Args:
        mask_ratio (float): Share of the 2N tokens masked. Defaults to 0.75.
        **kwargs: See :class:`VisionTransformer`.
    """

    def __init__(self, *args, mask_ratio: float = 0.75, **kwargs):
        super().__init__(*args, **kwargs)
        if not 0. <= mask_ratio < 1.:
            raise ValueError(f'mask_ratio must be in [0, 1), got {mask_ratio}')
        self.mask_ratio = mask_ratio

    def random_masking(self, tokens: Tensor, mask_ratio: float
                       ) -> Tuple[Tensor, Tensor, Tensor]:
        """Per-sample random shuffle masking over all tokens.

        Returns:
            tuple: visible tokens (B, L_keep, D); mask (B, L), 1 = masked,
            in the original token order; ``ids_restore`` (B, L) that undoes
            the shuffle.
        """
        b, length, dim = tokens.shape
        len_keep = int(length * (1 - mask_ratio))
        noise = torch.rand(b, length, device=tokens.device)
        ids_shuffle = noise.argsort(dim=1)
        ids_restore = ids_shuffle.argsort(dim=1)
        ids_keep = ids_shuffle[:, :len_keep]
        visible = tokens.gather(1, ids_keep[..., None].expand(-1, -1, dim))
        mask = torch.ones(b, length, device=tokens.device)
        mask[:, :len_keep] = 0
        mask = mask.gather(1, ids_restore)
        return visible, mask, ids_restore

    def forward(self,
                x: Tensor,
                z: Optional[Tensor] = None,
                mask: bool = True) -> Tuple[Tensor, ...]:
        """Encode a frame pair.

        Args:
            x (Tensor): (B, C, H, W) earlier frame.
            z (Tensor): (B, C, H, W) later frame.
            mask (bool): Mask ``mask_ratio`` of the tokens. With False, all
                2N tokens are encoded (feature extraction).

        Returns:
            tuple: (latent (B, L_keep, D), mask (B, 2N), ids_restore (B, 2N))
            when masking, else a 1-tuple of (B, 2N, D) tokens.
        """
        if z is None or not mask:
            return super().forward(x, z)
        tokens = torch.cat([self.embed(x, 'x'), self.embed(z, 'z')], dim=1)
        visible, token_mask, ids_restore = self.random_masking(
            tokens, self.mask_ratio)
        return self.forward_tokens(visible, out_indices=-1)[0], token_mask, ids_restore
