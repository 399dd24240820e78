"""Adaptive Spatial-Attention Dropout (ASAD), functional form.

Given the attention logits of a two-frame token sequence (frame x = first N
tokens, frame z = last N tokens), ASAD drops within-frame attention links so
that reconstruction has to look at the other frame (DropMAE, arXiv
2304.00571; the reference ``mask_drop_out_dec`` of jimmy-dq/DropMAE,
``models_mae.py``):

1. ``A = softmax(logits)`` over all 2N keys (on detached logits).
2. ``f_tem(i) = max_j A(i, j) + 1e-6`` over the keys j of the other frame.
3. ``spatial(i, .)`` = within-frame block of A, + 1e-6, own position set to
   0, each row normalised to sum 1.
4. drop score ``s(i, j) = spatial(i, j) * f_tem(i)``, an L x N matrix.
5. ``K = floor(p * (N - 1)) * L`` distinct entries of that matrix drawn with
   probability proportional to ``s``, without replacement, over the whole
   flattened matrix.
6. The chosen within-frame links are masked out (set to -inf).

The reference implementation draws step 5 with ``torch.multinomial`` in a
Python loop over batch x heads. Sequential sampling without replacement in
proportion to weights ``s`` has the same distribution as taking the K largest
``s / E`` with ``E ~ Exp(1)`` i.i.d. (the exponential race, equivalently the
Gumbel-top-k trick: ``log s - log E = log s + Gumbel``). Two implementations
use that:

- ``impl='native'``: a fused C kernel (``csrc/asad_cpu.c``, built by
  ``pip install -e .``) for CPU tensors: one pass per query row for the
  softmax, score and key, then an exact radix select of the K smallest keys;
  threads over (sample, head) like torch's intra-op pool. ~10x the
  sequential reference on one core (``tools/benchmarks/asad_speed.py``).
- ``impl='torch'``: PyTorch ops vectorised over batch and heads
  (:func:`asad_drop_indices`); used on GPUs and when the kernel is not built.

``asad_drop_mask_reference`` keeps the sequential algorithm for tests and
benchmarks.
"""
import math
from typing import Dict, Optional

import numpy as np
import torch
from torch import Tensor

EPS = 1e-6

try:
    from . import _asad_cpu
except ImportError:  # not built (no C compiler at install time)
    _asad_cpu = None

ASAD_IMPLS = ('auto', 'native', 'torch')


def num_asad_drops(num_tokens: int, p: float) -> int:
    """K = floor(p * (N - 1)) * L drops per (sample, head), L = 2N tokens."""
    n = num_tokens // 2
    return math.floor(p * (n - 1)) * num_tokens


def _check_logits(logits: Tensor) -> int:
    if logits.ndim != 4 or logits.shape[-1] != logits.shape[-2]:
        raise ValueError('ASAD expects logits of shape (B, H, L, L), got '
                         f'{tuple(logits.shape)}')
    if logits.shape[-1] % 2:
        raise ValueError('ASAD needs two frames of N tokens each (L = 2N), '
                         f'got L = {logits.shape[-1]}')
    return logits.shape[-1] // 2


def asad_drop_score(logits: Tensor) -> Tensor:
    """Drop score of every within-frame link (steps 1-4).

    Args:
        logits (Tensor): (B, H, L, L) attention logits, L = 2N.

    Returns:
        Tensor: (B, H, 2, N, N) float32 score; ``[:, :, f, i, j]`` is the
        score of query ``f*N + i`` attending to key ``f*N + j``. The own
        position (diagonal) scores 0.
    """
    b, h = logits.shape[:2]
    n = _check_logits(logits)
    attn = logits.detach().float().softmax(dim=-1).view(b, h, 2, n, 2, n)
    within = torch.stack([attn[:, :, 0, :, 0], attn[:, :, 1, :, 1]], dim=2)
    cross = torch.stack([attn[:, :, 0, :, 1], attn[:, :, 1, :, 0]], dim=2)
    f_tem = cross.amax(dim=-1, keepdim=True) + EPS
    spatial = within + EPS
    spatial.diagonal(dim1=-2, dim2=-1).zero_()
    spatial = spatial / spatial.sum(dim=-1, keepdim=True)
    return spatial * f_tem


def _uniform_like(x: Tensor) -> Tensor:
    """U(0, 1) samples shaped like ``x``, drawn from torch's generator.

    On CPU, numpy's PCG64 fills float32 arrays about twice as fast as
    ``torch.rand``; it is seeded from torch's global generator, so
    ``torch.manual_seed`` still makes runs reproducible.
    """
    if x.device.type != 'cpu':
        return torch.rand_like(x)
    seed = int(torch.randint(0, 2**62, (1, )))
    u = np.random.default_rng(seed).random(x.shape, dtype=np.float32)
    return torch.from_numpy(u)


def asad_drop_indices(logits: Tensor,
                      p: float,
                      attn: Optional[Tensor] = None) -> Tensor:
    """Flat (row * L + col) indices of the links ASAD drops.

    Args:
        logits (Tensor): (B, H, L, L) attention logits, L = 2N.
        p (float): Drop ratio P.
        attn (Tensor, optional): ``softmax(logits)`` if the caller has it.

    Returns:
        Tensor: (B, H, K) int64 indices into the flattened L x L matrix,
        ``K = floor(p * (N - 1)) * L``.
    """
    n = _check_logits(logits)
    b, h, length, _ = logits.shape
    k = num_asad_drops(length, p)
    if k == 0:
        return torch.empty(b, h, 0, dtype=torch.long, device=logits.device)
    with torch.no_grad():
        if attn is None:
            attn = logits.float().softmax(dim=-1)
        a = attn.detach().float().view(b, h, 2, n, 2, n)
        # keys[f, i, j] = log(U) / s(i, j): the top-K of log(U) / s equals the
        # top-K of s / E with E = -log(U) ~ Exp(1). s = (A + eps) * c(i) with
        # c(i) = f_tem(i) / (row sum without the diagonal).
        keys = torch.empty(b, h, 2, n, n, dtype=torch.float32,
                           device=logits.device)
        coef = torch.empty(b, h, 2, n, 1, dtype=torch.float32,
                           device=logits.device)
        for f in range(2):
            torch.add(a[:, :, f, :, f], EPS, out=keys[:, :, f])
            keys[:, :, f].diagonal(dim1=-2, dim2=-1).zero_()
            f_tem = a[:, :, f, :, 1 - f].amax(dim=-1, keepdim=True) + EPS
            torch.div(f_tem, keys[:, :, f].sum(-1, keepdim=True),
                      out=coef[:, :, f])
        keys.mul_(coef)  # the drop score s; 0 on the diagonal
        keys = torch.div(_uniform_like(keys).log_(), keys, out=keys)
        # diagonal: log(U) / 0 = -inf, never among the top K <= L * (N - 1)
        idx = keys.view(b, h, -1).topk(k, dim=-1, sorted=False).indices
        # (f, i, j) in the within-frame blocks -> (f*N + i) * L + f*N + j
        f, rem = idx // (n * n), idx % (n * n)
        return (f * n + rem // n) * length + f * n + rem % n


def native_available() -> bool:
    """Whether the fused CPU kernel of the ASAD mask is built."""
    return _asad_cpu is not None


def _resolve_impl(impl: str, logits: Tensor) -> str:
    if impl not in ASAD_IMPLS:
        raise ValueError(f'impl must be one of {ASAD_IMPLS}, got {impl!r}')
    native_ok = _asad_cpu is not None and logits.device.type == 'cpu'
    if impl == 'native' and _asad_cpu is None:
        raise RuntimeError(
            'the native ASAD kernel mmdropmae.models.layers._asad_cpu is not '
            'built; rebuild it with `pip install -e .` (needs a C compiler)')
    if impl == 'native' and not native_ok:
        raise RuntimeError('the native ASAD kernel runs on CPU tensors, got '
                           f'{logits.device}')
    if impl == 'auto':
        return 'native' if native_ok else 'torch'
    return impl


def _native_mask(logits: Tensor, p: float, keep: bool) -> Tensor:
    b, h, length, _ = logits.shape
    k = num_asad_drops(length, p)
    mask = torch.empty(b, h, length, length, dtype=torch.bool)
    if k == 0:
        return mask.fill_(keep)
    x = logits.detach().float().contiguous()
    seed = int(torch.randint(0, 2**63 - 1, (1, )))
    _asad_cpu.drop_mask(x.data_ptr(), mask.data_ptr(), b * h, length // 2, k,
                        seed, torch.get_num_threads(), keep)
    return mask


def asad_drop_mask(logits: Tensor,
                   p: float,
                   attn: Optional[Tensor] = None,
                   impl: str = 'auto') -> Tensor:
    """ASAD drop mask, vectorised over batch and heads (exponential race).

    Args:
        logits (Tensor): (B, H, L, L) attention logits of two frames of
            N = L/2 tokens each (frame x first).
        p (float): Drop ratio P (0.1 in DropMAE).
        attn (Tensor, optional): ``softmax(logits)`` when the caller has it
            already; saves recomputing it on the ``'torch'`` path (the native
            kernel fuses the softmax and ignores it).
        impl (str): ``'auto'`` (native kernel for CPU tensors when built,
            else torch), ``'native'`` or ``'torch'``.

    Returns:
        Tensor: (B, H, L, L) bool, True where the link is dropped. Each
        (sample, head) has exactly ``floor(p * (N - 1)) * L`` True entries,
        all within-frame and off the diagonal.
    """
    return _asad_mask(logits, p, attn, impl, keep=False)


def asad_keep_mask(logits: Tensor, p: float, impl: str = 'auto') -> Tensor:
    """``~asad_drop_mask(logits, p)`` without the extra pass (True = kept),
    the form ``F.scaled_dot_product_attention`` takes."""
    return _asad_mask(logits, p, None, impl, keep=True)


def _asad_mask(logits: Tensor, p: float, attn: Optional[Tensor], impl: str,
               keep: bool) -> Tensor:
    _check_logits(logits)
    with torch.no_grad():
        if _resolve_impl(impl, logits) == 'native':
            return _native_mask(logits, p, keep)
        idx = asad_drop_indices(logits, p, attn)
        b, h, length, _ = logits.shape
        mask = torch.full((b, h, length * length), keep, dtype=torch.bool,
                          device=logits.device)
        mask.scatter_(-1, idx, not keep)
        return mask.view(b, h, length, length)


def asad_drop_mask_reference(logits: Tensor, p: float) -> Tensor:
    """Sequential reference of ASAD, written as the algorithm reads.

    Loops in Python over batch x heads and draws the K entries with
    ``torch.multinomial(..., replacement=False)`` over the flattened L x N
    score matrix, like the DropMAE reference code. Slow; used to test
    :func:`asad_drop_mask` and as the benchmark baseline.
    """
    n = _check_logits(logits)
    b, h, length, _ = logits.shape
    k = num_asad_drops(length, p)
    mask = torch.zeros_like(logits, dtype=torch.bool)
    if k == 0:
        return mask
    for bi in range(b):
        for hi in range(h):
            attn = logits[bi, hi].detach().float().softmax(dim=-1)
            score = torch.empty(length, n)
            for f in range(2):
                q = slice(f * n, (f + 1) * n)
                own = slice(f * n, (f + 1) * n)
                other = slice((1 - f) * n, (2 - f) * n)
                f_tem = attn[q, other].max(dim=-1).values + EPS
                spatial = attn[q, own] + EPS
                spatial.fill_diagonal_(0)
                spatial = spatial / spatial.sum(dim=-1, keepdim=True)
                score[q] = spatial * f_tem[:, None]
            flat = torch.multinomial(score.flatten(), k, replacement=False)
            rows, cols = flat // n, flat % n
            cols = cols + (rows // n) * n  # key index in the 2N sequence
            mask[bi, hi, rows, cols] = True
    return mask


def frame_attention_stats(attn: Tensor) -> Dict[str, float]:
    """Average attention mass a query puts inside its frame and across.

    Args:
        attn (Tensor): (B, H, 2N, 2N) attention weights (rows sum to 1).

    Returns:
        dict: ``within`` and ``between``: mean over batch, heads and queries
        of the attention mass on keys of the query's own frame and of the
        other frame (they add up to 1).
    """
    n = _check_logits(attn)
    a = attn.detach().float().view(*attn.shape[:2], 2, n, 2, n)
    within = a[:, :, 0, :, 0].sum(-1).mean() + a[:, :, 1, :, 1].sum(-1).mean()
    between = a[:, :, 0, :, 1].sum(-1).mean() + a[:, :, 1, :, 0].sum(-1).mean()
    return dict(within=float(within) / 2, between=float(between) / 2)
