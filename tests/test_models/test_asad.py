"""ASAD: exact K, only within-frame off-diagonal links, same law as the
sequential multinomial reference, gradients through the kept links."""
import itertools
import math
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmdropmae.models.layers import (ASADAttention, Attention, asad_drop_mask,
                                     asad_drop_mask_reference,
                                     asad_drop_score, asad_keep_mask,
                                     native_available, num_asad_drops)

needs_native = pytest.mark.skipif(
    not native_available(), reason='the ASAD C kernel is not built')
# every law and structure test runs on both implementations
IMPLS = [pytest.param('native', marks=needs_native), 'torch']


def _hand_score(logits: np.ndarray) -> np.ndarray:
    """Steps 1-4 of the reference mask_drop_out_dec (jimmy-dq/DropMAE models_mae.py) with
    numpy loops (L x N)."""
    length = logits.shape[0]
    n = length // 2
    e = np.exp(logits - logits.max(1, keepdims=True))
    attn = e / e.sum(1, keepdims=True)
    score = np.zeros((length, n))
    for i in range(length):
        f = i // n
        own = range(f * n, (f + 1) * n)
        other = range((1 - f) * n, (2 - f) * n)
        f_tem = max(attn[i, j] for j in other) + 1e-6
        row = np.array([attn[i, j] + 1e-6 for j in own])
        row[i - f * n] = 0
        score[i] = row / row.sum() * f_tem
    return score


def test_num_drops_matches_spec():
    # DropMAE (arXiv 2304.00571): P = 0.1, N = 196 -> K = int(P * (N - 1)) * L
    # = 19 * 392 = 7448 of 76,832 entries
    assert num_asad_drops(392, 0.1) == 7448
    assert num_asad_drops(8, 0.2) == 0  # floor(0.2 * 3) = 0


def test_score_matches_hand_computation():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 8, 8) * 2
    score = asad_drop_score(logits)  # (B, H, 2, N, N)
    for b, h in itertools.product(range(2), range(3)):
        expected = _hand_score(logits[b, h].double().numpy())
        got = score[b, h].reshape(8, 4).double().numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize('impl', IMPLS)
@pytest.mark.parametrize('p,n', [(0.1, 196), (0.5, 6), (0.3, 9)])
def test_mask_structure(p, n, impl):
    torch.manual_seed(1)
    length = 2 * n
    logits = torch.randn(2, 4, length, length)
    mask = asad_drop_mask(logits, p, impl=impl)
    assert mask.dtype == torch.bool and mask.shape == logits.shape
    k = math.floor(p * (n - 1)) * length
    assert (mask.sum((-1, -2)) == k).all()
    frame = torch.arange(length) // n
    cross = frame[:, None] != frame[None, :]
    assert not mask[..., cross].any(), 'cross-frame link dropped'
    assert not mask.diagonal(dim1=-2, dim2=-1).any(), 'diagonal dropped'
    ref = asad_drop_mask_reference(logits, p)
    assert (ref.sum((-1, -2)) == k).all()
    assert not ref[..., cross].any()


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match='two frames'):
        asad_drop_mask(torch.randn(1, 1, 5, 5), 0.1)
    with pytest.raises(ValueError, match=r'\(B, H, L, L\)'):
        asad_drop_mask(torch.randn(1, 5, 6), 0.1)


def _exact_inclusion(weights: np.ndarray, k: int) -> np.ndarray:
    """Inclusion probabilities of sequential sampling without replacement in
    proportion to ``weights`` (zero weights never drawn), by a DP over the
    subsets of the positive entries."""
    pos = np.flatnonzero(weights > 0)
    w = weights[pos]
    m = len(pos)
    prob = np.zeros(1 << m)
    prob[0] = 1.
    total = w.sum()
    wsum = np.zeros(1 << m)
    for s in range(1, 1 << m):
        low = (s & -s).bit_length() - 1
        wsum[s] = wsum[s & (s - 1)] + w[low]
    for s in range(1, 1 << m):
        if bin(s).count('1') > k:
            continue
        acc = 0.
        t = s
        while t:
            j = (t & -t).bit_length() - 1
            prev = s ^ (1 << j)
            acc += prob[prev] * w[j] / (total - wsum[prev])
            t &= t - 1
        prob[s] = acc
    incl = np.zeros(m)
    for s in range(1 << m):
        if bin(s).count('1') == k:
            for j in range(m):
                if s >> j & 1:
                    incl[j] += prob[s]
    out = np.zeros_like(weights)
    out[pos] = incl
    return out


@pytest.mark.parametrize('impl', IMPLS)
def test_inclusion_probabilities_match_exact_law(impl):
    """Ours and the sequential reference against the exact inclusion
    probabilities of sampling without replacement (N=3, L=6, K=6 of 12)."""
    torch.manual_seed(2)
    n, p = 3, 0.5
    length = 2 * n
    logits = torch.randn(length, length) * 1.5
    k = num_asad_drops(length, p)
    assert k == 6
    score = _hand_score(logits.double().numpy())  # (L, N)
    exact = _exact_inclusion(score.reshape(-1), k).reshape(length, n)
    assert abs(exact.sum() - k) < 1e-9

    def observed(fn, trials, per_call):
        counts = np.zeros((length, n))
        for _ in range(trials // per_call):
            batch = logits.expand(per_call, 1, length, length)
            mask = fn(batch, p).sum((0, 1)).double().numpy()
            for f in range(2):  # fold the within-frame blocks to (L, N)
                rows = slice(f * n, (f + 1) * n)
                counts[rows] += mask[rows, rows]
        return counts, trials

    def ours(x, p):
        return asad_drop_mask(x, p, impl=impl)

    torch.manual_seed(3)
    for fn, trials, per_call in [(ours, 40000, 20000),
                                 (asad_drop_mask_reference, 4000, 500)]:
        counts, total = observed(fn, trials, per_call)
        sd = np.sqrt(total * exact * (1 - exact)) + 1e-12
        z = (counts - total * exact) / sd
        z[exact == 0] = 0
        assert (counts[exact == 0] == 0).all()
        assert np.abs(z).max() < 4.5, (fn.__name__, z)
        # pooled chi-square over the positive entries, df <= 11
        chi2 = (z[exact > 0]**2).sum()
        assert chi2 < 40, (fn.__name__, chi2)


@pytest.mark.parametrize('impl', IMPLS)
def test_ours_matches_reference_on_larger_case(impl):
    """Two-sample check (N=8, K=32 of 112): entry frequencies agree."""
    torch.manual_seed(4)
    n, p = 8, 0.3
    length = 2 * n
    logits = torch.randn(1, 1, length, length) * 2
    trials_ref, trials_ours = 3000, 30000
    torch.manual_seed(5)
    ref = asad_drop_mask_reference(
        logits.expand(trials_ref, 1, -1, -1), p).double().mean((0, 1))
    ours = asad_drop_mask(
        logits.expand(trials_ours, 1, -1, -1).contiguous(), p,
        impl=impl).double().mean((0, 1))
    pooled = (ref * trials_ref + ours * trials_ours) / (trials_ref +
                                                        trials_ours)
    sd = torch.sqrt(pooled * (1 - pooled) *
                    (1 / trials_ref + 1 / trials_ours)) + 1e-12
    z = ((ours - ref) / sd)[pooled > 0]
    assert z.abs().max() < 4.5


@pytest.mark.parametrize('impl', IMPLS)
def test_high_score_links_are_dropped_more(impl):
    """A query with a sharp cross-frame match (high f_tem) loses more
    links than one without, as the algorithm intends."""
    n = 16
    length = 2 * n
    logits = torch.zeros(1, 1, length, length)
    logits[0, 0, 0, n] = 10.  # query 0 matches key n of the other frame
    masks = asad_drop_mask(
        logits.expand(2000, 1, -1, -1).contiguous(), 0.2, impl=impl)
    per_query = masks.double().sum(-1).mean((0, 1))
    assert per_query[0] > 3 * per_query[1:n].mean()


def test_native_kernel_is_built():
    """``pip install -e .`` builds the C kernel wherever a C compiler is
    (MMDROPMAE_NO_EXT=1 opts out); silently losing it costs ~5x in ASAD."""
    if os.environ.get('MMDROPMAE_NO_EXT'):
        pytest.skip('MMDROPMAE_NO_EXT is set')
    assert native_available()


@needs_native
def test_native_selection_is_exact_with_ties():
    """The kernel's radix select against sorting: k smallest, ties too."""
    from mmdropmae.models.layers import _asad_cpu
    gen = torch.Generator().manual_seed(12)
    for trial in range(60):
        count = int(torch.randint(1, 5000, (1, ), generator=gen))
        k = int(torch.randint(0, count + 1, (1, ), generator=gen))
        keys = [
            torch.rand(3, count, generator=gen),
            torch.randint(0, 4, (3, count), generator=gen).float(),  # ties
            torch.rand(3, count, generator=gen) * 1e-38,  # subnormal
        ][trial % 3]
        mask = torch.zeros(3, count, dtype=torch.bool)
        _asad_cpu.smallest_k(keys.data_ptr(), mask.data_ptr(), 3, count, k)
        assert (mask.sum(1) == k).all()
        kth = keys.sort(1).values[:, k - 1:k] if k else None
        if k:
            assert (keys[mask].view(3, k) <= kth).all()
            assert (keys[~mask].view(3, count - k) >= kth).all()


@needs_native
def test_native_mask_is_reproducible_and_thread_independent():
    logits = torch.randn(3, 4, 24, 24)
    threads = torch.get_num_threads()
    masks = []
    try:
        for num in (1, 2, 3):
            torch.set_num_threads(num)
            torch.manual_seed(13)
            masks.append(asad_drop_mask(logits, 0.3, impl='native'))
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(masks[0], masks[1]) and torch.equal(masks[0], masks[2])
    # the keep mask is the complement for the same random state
    torch.manual_seed(13)
    assert torch.equal(asad_keep_mask(logits, 0.3, impl='native'), ~masks[0])
    # another draw differs; bf16 logits (CPU AMP) work; P too small: no drop
    assert not torch.equal(asad_drop_mask(logits, 0.3, impl='native'),
                           masks[0])
    half = asad_drop_mask(logits.bfloat16(), 0.3, impl='native')
    assert (half.sum((-1, -2)) == num_asad_drops(24, 0.3)).all()
    assert not asad_drop_mask(logits[..., :8, :8], 0.2, impl='native').any()


def test_impl_errors():
    with pytest.raises(ValueError, match='impl'):
        asad_drop_mask(torch.randn(1, 1, 4, 4), 0.5, impl='cuda')
    with pytest.raises(RuntimeError, match='native'):
        asad_drop_mask(torch.randn(1, 1, 4, 4, device='meta'), 0.5,
                       impl='native')


def test_gradient_flows_through_kept_links_only():
    torch.manual_seed(6)
    logits = torch.randn(2, 2, 12, 12, requires_grad=True)
    mask = asad_drop_mask(logits, 0.4)
    attn = logits.masked_fill(mask, float('-inf')).softmax(-1)
    assert torch.isfinite(attn).all()
    assert (attn[mask] == 0).all()
    (attn * torch.randn_like(attn)).sum().backward()
    assert (logits.grad[mask] == 0).all()
    assert (logits.grad[~mask] != 0).all()


def test_asad_attention_train_and_eval():
    torch.manual_seed(7)
    layer = ASADAttention(embed_dims=32, num_heads=4, drop_prob=0.3)
    plain = Attention(embed_dims=32, num_heads=4)
    plain.load_state_dict(layer.state_dict())
    x = torch.randn(3, 2 * 9, 32, requires_grad=True)
    layer.eval()
    plain.eval()
    torch.testing.assert_close(layer(x), plain(x))  # off in eval mode
    layer.train()
    y = layer(x)
    assert not torch.allclose(y, plain(x))
    y.sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert layer.qkv.weight.grad.abs().sum() > 0
    # the attention weights of a training step follow the mask
    layer.keep_attn = True
    layer(x)
    attn = layer.last_attn
    k = num_asad_drops(18, 0.3)
    assert ((attn == 0).sum((-1, -2)) == k).all()
    # the layer's output is the masked softmax of asad_drop_mask's mask
    layer.keep_attn = False
    torch.manual_seed(11)
    y = layer(x)
    torch.manual_seed(11)
    q, k_, v = layer._qkv(x)
    logits = q @ k_.transpose(-2, -1) * layer.scale
    mask = asad_drop_mask(logits, 0.3)
    attn = logits.masked_fill(mask, float('-inf')).softmax(-1)
    torch.testing.assert_close(y, layer._out(attn @ v))
    # drop_prob = 0 is TwinMAE: exactly plain attention
    twin = ASADAttention(embed_dims=32, num_heads=4, drop_prob=0.)
    twin.load_state_dict(plain.state_dict())
    twin.train()
    torch.testing.assert_close(twin(x), plain(x))


def test_explicit_path_equals_sdpa():
    torch.manual_seed(8)
    layer = Attention(embed_dims=16, num_heads=2)
    x = torch.randn(2, 10, 16)
    y1 = layer(x)
    layer.keep_attn = True
    y2 = layer(x)
    torch.testing.assert_close(y1, y2, rtol=1e-5, atol=1e-5)
    q, k, _ = layer._qkv(x)
    ref = F.softmax(q @ k.transpose(-2, -1) / 8**0.5, -1)
    torch.testing.assert_close(layer.last_attn, ref, rtol=1e-5, atol=1e-6)
