"""Multi-head self-attention layers with timm key names (qkv, proj)."""
from typing import List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdropmae.registry import MODELS
from .asad import asad_drop_mask, asad_keep_mask

#: Query rows: a slice, a list of indices or an index tensor.
Rows = Union[slice, List[int], Tensor]


def _apply_mask(logits: Tensor, attn_mask: Tensor) -> Tensor:
    """Logits with a boolean keep-mask (-inf where False) or an additive
    float mask applied, as ``F.scaled_dot_product_attention`` does."""
    if attn_mask.dtype == torch.bool:
        return logits.masked_fill(~attn_mask, float('-inf'))
    return logits + attn_mask


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
                  asad_prob: float = 0.,
                  attn_mask: Optional[Tensor] = None) -> Tensor:
        logits = (q * self.scale) @ k.transpose(-2, -1)
        if attn_mask is not None:
            logits = _apply_mask(logits, attn_mask)
        if asad_prob > 0:
            # in place: the matmul backward needs q and k, not its output
            logits.masked_fill_(asad_drop_mask(logits, asad_prob),
                                float('-inf'))
        attn = logits.softmax(dim=-1)
        if self.keep_attn:
            self.last_attn = attn.detach()
        attn = F.dropout(attn, self.attn_drop, self.training)
        return attn @ v

    @torch.no_grad()
    def _row_attention(self, q: Tensor, k: Tensor, rows: Rows,
                       attn_mask: Optional[Tensor]) -> Tensor:
        """Softmax attention (no dropout, no gradient) of the query rows
        ``rows`` (B, heads, len(rows), L)."""
        logits = (q[:, :, rows] * self.scale) @ k.transpose(-2, -1)
        if attn_mask is not None:
            mask = attn_mask.expand(*attn_mask.shape[:-2], q.shape[2],
                                    attn_mask.shape[-1])
            logits = _apply_mask(logits, mask[..., rows, :])
        return logits.softmax(-1)

    def forward(self,
                x: Tensor,
                attn_mask: Optional[Tensor] = None,
                attn_rows: Optional[Rows] = None
                ) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """Self-attention of a token sequence.

        Args:
            x (Tensor): (B, L, C) tokens.
            attn_mask (Tensor, optional): Broadcastable to (B, heads, L, L):
                boolean (True = the query may attend to the key) or float
                (added to the logits), as ``F.scaled_dot_product_attention``
                takes it.
            attn_rows (slice | list | Tensor, optional): Query rows whose
                attention weights are returned too (token selection, e.g.
                candidate elimination).

        Returns:
            Tensor | tuple: (B, L, C) output; with ``attn_rows`` also the
            (B, heads, R, L) softmax weights of those rows (detached).
        """
        q, k, v = self._qkv(x)
        out = self._attend(q, k, v, attn_mask)
        if attn_rows is None:
            return self._out(out)
        return self._out(out), self._row_attention(q, k, attn_rows, attn_mask)

    def _attend(self, q: Tensor, k: Tensor, v: Tensor,
                attn_mask: Optional[Tensor]) -> Tensor:
        if self.keep_attn:
            return self._explicit(q, k, v, attn_mask=attn_mask)
        return F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask,
            dropout_p=self.attn_drop if self.training else 0.)


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

    def _attend(self, q: Tensor, k: Tensor, v: Tensor,
                attn_mask: Optional[Tensor]) -> Tensor:
        if not (self.training and self.drop_prob > 0):
            return super()._attend(q, k, v, attn_mask)
        if attn_mask is not None:
            raise ValueError('ASADAttention drops links of its own: an '
                             'attn_mask is not supported while ASAD is on')
        if self.keep_attn:
            return self._explicit(q, k, v, asad_prob=self.drop_prob)
        return asad_attention(q, k, v, self.drop_prob, self.scale,
                              self.attn_drop)

    def extra_repr(self) -> str:
        return f'drop_prob={self.drop_prob}'
