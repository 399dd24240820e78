"""Multi-head self-attention layers with timm key names (qkv, proj)."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdropmae.registry import MODELS
from .asad import asad_drop_mask, asad_keep_mask


def asad_attention(q: Tensor,
                   k: Tensor,
                   v: Tensor,
                   p: float,
                   scale: float,
                   dropout_p: float = 0.) -> Tensor:
    """Attention with ASAD links removed, in the fused SDPA kernel.

    The drop mask needs no gradient: it is drawn from the detached logits,
    then ``F.scaled_dot_product_attention`` runs forward and backward with a
    boolean keep-mask, which is cheaper than an explicit masked softmax.

    Args:
        q, k, v (Tensor): (B, H, L, D) queries, keys and values, L = 2N.
        p (float): ASAD drop ratio P.
        scale (float): Logit scale (``D ** -0.5``).
        dropout_p (float): Dropout on the attention weights.

    Returns:
        Tensor: (B, H, L, D).
    """
    with torch.no_grad():
        keep = asad_keep_mask((q * scale) @ k.transpose(-2, -1), p)
    return F.scaled_dot_product_attention(
        q, k, v, attn_mask=keep, dropout_p=dropout_p, scale=scale)


@MODELS.register_module()
class Attention(nn.Module):
    """Plain multi-head self-attention (timm's ``Attention`` key layout).

    Uses ``F.scaled_dot_product_attention``. Set ``keep_attn = True`` to run
    the explicit softmax path and keep the attention weights of the last call
    in ``last_attn`` (B, H, L, L), for analysis and monitoring hooks.

    Args:
        embed_dims (int): Token channels.
        num_heads (int): Attention heads.
        qkv_bias (bool): Bias in the qkv projection. Defaults to True.
        attn_drop (float): Dropout on attention weights. Defaults to 0.
        proj_drop (float): Dropout after the output projection.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 qkv_bias: bool = True,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.):
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims {embed_dims} is not divisible by '
                             f'num_heads {num_heads}')
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.head_dims = embed_dims // num_heads
        self.scale = self.head_dims**-0.5
        self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop)
        self.keep_attn = False
        self.last_attn: Optional[Tensor] = None

    def _qkv(self, x: Tensor):
        b, length, _ = x.shape
        qkv = self.qkv(x).reshape(b, length, 3, self.num_heads,
                                  self.head_dims).permute(2, 0, 3, 1, 4)
        return qkv.unbind(0)

    def _out(self, x: Tensor) -> Tensor:
        b, _, length, _ = x.shape
        x = x.transpose(1, 2).reshape(b, length, self.embed_dims)
        return self.proj_drop(self.proj(x))

    def _explicit(self, q: Tensor, k: Tensor, v: Tensor,
                  asad_prob: float = 0.) -> Tensor:
        logits = (q * self.scale) @ k.transpose(-2, -1)
        if asad_prob > 0:
            # in place: the matmul backward needs q and k, not its output
            logits.masked_fill_(asad_drop_mask(logits, asad_prob),
                                float('-inf'))
        attn = logits.softmax(dim=-1)
        if self.keep_attn:
            self.last_attn = attn.detach()
        attn = F.dropout(attn, self.attn_drop, self.training)
        return attn @ v

    def forward(self, x: Tensor) -> Tensor:
        """(B, L, C) -> (B, L, C)."""
        q, k, v = self._qkv(x)
        if self.keep_attn:
            out = self._explicit(q, k, v)
        else:
            out = F.scaled_dot_product_attention(
                q, k, v, dropout_p=self.attn_drop if self.training else 0.)
        return self._out(out)


@MODELS.register_module()
class ASADAttention(Attention):
    """Self-attention with Adaptive Spatial-Attention Dropout (DropMAE).

    In training mode, within-frame links chosen by :func:`asad_drop_mask` are
    removed before the softmax; cross-frame links and a token's link to
    itself are never dropped. In eval mode (or with ``drop_prob=0``) it is
    plain attention. The input must be two frames of N tokens each, frame x
    first (L = 2N).

    Args:
        drop_prob (float): ASAD drop ratio P. Defaults to 0.1 (the paper).
        **kwargs: See :class:`Attention`.
    """

    def __init__(self, *args, drop_prob: float = 0.1, **kwargs):
        super().__init__(*args, **kwargs)
        if not 0. <= drop_prob < 1.:
            raise ValueError(f'drop_prob must be in [0, 1), got {drop_prob}')
        self.drop_prob = drop_prob

    def forward(self, x: Tensor) -> Tensor:
        if not (self.training and self.drop_prob > 0):
            return super().forward(x)
        q, k, v = self._qkv(x)
        if self.keep_attn:
            return self._out(self._explicit(q, k, v, asad_prob=self.drop_prob))
        out = asad_attention(q, k, v, self.drop_prob, self.scale,
                             self.attn_drop)
        return self._out(out)

    def extra_repr(self) -> str:
        return f'drop_prob={self.drop_prob}'
