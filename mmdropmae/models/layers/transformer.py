"""Pre-norm ViT block with timm key names (norm1, attn, norm2, mlp.fc1/fc2)."""
from typing import Optional, Tuple, Union

from torch import Tensor, nn

from mmdropmae.registry import MODELS


class DropPath(nn.Module):
    """Stochastic depth: drop the whole residual branch per sample."""

    def __init__(self, drop_prob: float = 0.):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: Tensor) -> Tensor:
        if self.drop_prob == 0. or not self.training:
            return x
        keep = 1 - self.drop_prob
        shape = (x.shape[0], ) + (1, ) * (x.ndim - 1)
        return x * x.new_empty(shape).bernoulli_(keep).div_(keep)

    def extra_repr(self) -> str:
        return f'drop_prob={self.drop_prob}'


class Mlp(nn.Module):
    """Two-layer MLP with GELU (keys ``fc1``, ``fc2``)."""

    def __init__(self, embed_dims: int, hidden_dims: int, drop: float = 0.):
        super().__init__()
        self.fc1 = nn.Linear(embed_dims, hidden_dims)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dims, embed_dims)
        self.drop = nn.Dropout(drop)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


@MODELS.register_module()
class TransformerBlock(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm1(x))``, ``x + mlp(norm2(x))``.

    The two halves are public (:meth:`forward_attn`, :meth:`forward_mlp`) so
    that :class:`~mmdropmae.models.VisionTransformer` can run a token
    selector between them (OSTrack's ``CEBlock`` places candidate
    elimination there).

    Args:
        embed_dims (int): Token channels.
        num_heads (int): Attention heads.
        mlp_ratio (float): Hidden size of the MLP over ``embed_dims``.
        qkv_bias (bool): Bias in the qkv projection.
        drop_path_rate (float): Stochastic depth rate of this block.
        norm_eps (float): LayerNorm epsilon (1e-6 as in MAE/DropMAE).
        attn_cfg (dict, optional): Attention layer config; its ``type`` is
            looked up in ``MODELS`` (``Attention`` or ``ASADAttention``).
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 norm_eps: float = 1e-6,
                 attn_cfg: Optional[dict] = None):
        super().__init__()
        attn_cfg = dict(attn_cfg or dict(type='Attention'))
        attn_cfg.update(
            embed_dims=embed_dims,
            num_heads=num_heads,
            qkv_bias=qkv_bias,
            proj_drop=drop_rate)
        self.norm1 = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.attn = MODELS.build(attn_cfg)
        self.drop_path = DropPath(drop_path_rate)
        self.norm2 = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.mlp = Mlp(embed_dims, int(embed_dims * mlp_ratio), drop_rate)

    def forward_attn(self,
                     x: Tensor,
                     attn_mask: Optional[Tensor] = None,
                     attn_rows=None) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """The attention half ``x + attn(norm1(x))``; with ``attn_rows``
        also the attention weights of those query rows (see
        :meth:`Attention.forward`)."""
        if attn_rows is None:
            return x + self.drop_path(self.attn(self.norm1(x), attn_mask))
        out, attn = self.attn(self.norm1(x), attn_mask, attn_rows)
        return x + self.drop_path(out), attn

    def forward_mlp(self, x: Tensor) -> Tensor:
        """The MLP half ``x + mlp(norm2(x))``."""
        return x + self.drop_path(self.mlp(self.norm2(x)))

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None) -> Tensor:
        """(B, L, C) -> (B, L, C); ``attn_mask`` as in
        :meth:`Attention.forward`."""
        return self.forward_mlp(self.forward_attn(x, attn_mask))
