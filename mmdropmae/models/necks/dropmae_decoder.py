"""The light two-frame decoder of DropMAE pre-training."""
from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdropmae.registry import MODELS
from ..layers import TransformerBlock, build_2d_sincos_position_embedding


@MODELS.register_module()
class DropMAEPretrainDecoder(BaseModule):
    """Decoder of DropMAE/TwinMAE (reference key names ``decoder_*``).

    Visible latents are projected to ``decoder_embed_dims``, the masked
    positions of both frames are filled with ``mask_token``, the shuffle is
    undone, each frame gets the fixed sin-cos table (``decoder_pos_embed``,
    1 x (1 + N) x D with an unused class slot) plus its learned temporal
    embedding, and ``decoder_blocks`` predict the pixels of every patch.

    With ``attn_cfg=dict(type='ASADAttention', drop_prob=0.1)`` every
    decoder attention layer applies Adaptive Spatial-Attention Dropout
    (DropMAE); with ``drop_prob=0`` or plain ``Attention`` it is TwinMAE.
    ``asad_layers`` switches ASAD per layer.

    Args:
        num_patches (int): Patches per frame N (196 at 224/16).
        patch_size (int): Patch size. Defaults to 16.
        in_channels (int): Image channels. Defaults to 3.
        embed_dims (int): Encoder width. Defaults to 768.
        decoder_embed_dims (int): Decoder width. Defaults to 512.
        decoder_depth (int): Decoder blocks. Defaults to 8.
        decoder_num_heads (int): Decoder heads. Defaults to 16.
        mlp_ratio (float): MLP ratio. Defaults to 4.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        attn_cfg (dict, optional): Attention config of the ASAD layers.
            Defaults to ``dict(type='ASADAttention', drop_prob=0.1)``.
        asad_layers (Sequence[int], optional): Indices of the decoder blocks
            that use ``attn_cfg``; the others use plain attention. Defaults
            to all blocks.
    """

    def __init__(self,
                 num_patches: int = 196,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 embed_dims: int = 768,
                 decoder_embed_dims: int = 512,
                 decoder_depth: int = 8,
                 decoder_num_heads: int = 16,
                 mlp_ratio: float = 4.,
                 norm_eps: float = 1e-6,
                 attn_cfg: Optional[dict] = None,
                 asad_layers: Optional[Tuple[int, ...]] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        grid = int(num_patches**0.5)
        if grid * grid != num_patches:
            raise ValueError(f'num_patches must be a square, got {num_patches}')
        self.num_patches = num_patches
        self.grid_size = (grid, grid)
        attn_cfg = attn_cfg or dict(type='ASADAttention', drop_prob=0.1)
        asad_layers = range(decoder_depth) if asad_layers is None \
            else asad_layers
        self.asad_layers = tuple(asad_layers)

        self.decoder_embed = nn.Linear(embed_dims, decoder_embed_dims)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dims))
        self.decoder_pos_embed = nn.Parameter(
            build_2d_sincos_position_embedding(self.grid_size,
                                               decoder_embed_dims),
            requires_grad=False)
        self.decoder_temporal_pos_embed_x = nn.Parameter(
            torch.randn(1, 1, decoder_embed_dims))
        self.decoder_temporal_pos_embed_z = nn.Parameter(
            torch.randn(1, 1, decoder_embed_dims))
        self.decoder_blocks = nn.ModuleList([
            TransformerBlock(
                decoder_embed_dims,
                decoder_num_heads,
                mlp_ratio=mlp_ratio,
                norm_eps=norm_eps,
                attn_cfg=attn_cfg if i in self.asad_layers else None)
            for i in range(decoder_depth)
        ])
        self.decoder_norm = nn.LayerNorm(decoder_embed_dims, eps=norm_eps)
        self.decoder_pred = nn.Linear(decoder_embed_dims,
                                      patch_size**2 * in_channels)
        self._init_default_weights()

    def _init_default_weights(self) -> None:
        nn.init.normal_(self.mask_token, std=.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, latent: Tensor, ids_restore: Tensor) -> Tensor:
        """Predict the pixels of all 2N patches.

        Args:
            latent (Tensor): (B, L_keep, D_enc) encoded visible tokens.
            ids_restore (Tensor): (B, 2N) inverse of the masking shuffle.

        Returns:
            Tensor: (B, 2N, patch_size**2 * C) predictions, frame x first.
        """
        x = self.decoder_embed(latent)
        b, num_vis, dim = x.shape
        length = ids_restore.shape[1]
        if length != 2 * self.num_patches:
            raise ValueError(f'expected {2 * self.num_patches} tokens '
                             f'(two frames), got {length}')
        x = torch.cat(
            [x, self.mask_token.expand(b, length - num_vis, -1)], dim=1)
        x = x.gather(1, ids_restore[..., None].expand(-1, -1, dim))
        pos = self.decoder_pos_embed[:, 1:]
        x = x + torch.cat([
            pos + self.decoder_temporal_pos_embed_x,
            pos + self.decoder_temporal_pos_embed_z
        ], dim=1)
        for blk in self.decoder_blocks:
            x = blk(x)
        return self.decoder_pred(self.decoder_norm(x))
