"""How much ASAD costs on CPU: mask, attention layer and whole train step.

Prints, at the ViT-B decoder size of DropMAE (batch 4, 16 heads, L = 392 =
two frames of 14 x 14 patches, 32 channels per head):

(a) plain attention (``F.scaled_dot_product_attention``, as TwinMAE runs),
(b) our ASAD attention (mask from the fused C kernel + SDPA with a
    keep-mask),
(c) the same attention with the sequential reference mask
    (:func:`asad_drop_mask_reference`: Python loop over batch x heads,
    ``torch.multinomial`` without replacement),

the mask alone (ours: the C kernel and the pure-PyTorch path, vs the
reference, with a softmax of the same matrix for scale), and one whole
ViT-B/16 pre-training step (forward, backward, AdamW) of DropMAE vs TwinMAE
at batch 2.

Targets (issue 2): our mask >= 5x faster than the reference mask; the
DropMAE step <= 1.15x the TwinMAE step. ``--check`` exits 1 if missed.

Example::

    python tools/benchmarks/asad_speed.py --threads 1
"""
import argparse
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from mmdropmae.models.layers import (asad_drop_mask, asad_drop_mask_reference,
                                     native_available)
from mmdropmae.models.layers.attention import asad_attention
from mmdropmae.registry import MODELS
from mmdropmae.utils import register_all_modules


def timeit(fn, repeat: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def explicit_attention(q, k, v, mask_fn=None, p=0.1):
    """Explicit softmax attention, links of ``mask_fn`` set to -inf (as the
    DropMAE reference does)."""
    logits = (q * q.shape[-1]**-0.5) @ k.transpose(-2, -1)
    if mask_fn is not None:
        logits = logits.masked_fill(mask_fn(logits, p), float('-inf'))
    return logits.softmax(-1) @ v


def vit_b_dropmae(drop_prob: float):
    return MODELS.build(
        dict(
            type='DropMAE',
            backbone=dict(type='DropMAEViT', arch='base', img_size=224),
            neck=dict(
                type='DropMAEPretrainDecoder',
                attn_cfg=dict(type='ASADAttention', drop_prob=drop_prob)),
            head=dict(type='MAEPretrainHead', norm_pix=True)))


def train_step_time(drop_prob: float, batch: int, repeat: int) -> float:
    torch.manual_seed(0)
    model = vit_b_dropmae(drop_prob).train()
    optim = torch.optim.AdamW(model.parameters(), lr=1e-4)
    inputs = torch.randn(batch, 2, 3, 224, 224)

    def step():
        optim.zero_grad()
        model.loss(inputs)['loss_rec'].backward()
        optim.step()

    return timeit(step, repeat)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (default 1: one core)')
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--step-batch', type=int, default=2)
    parser.add_argument('--step-repeat', type=int, default=3)
    parser.add_argument('--skip-step', action='store_true',
                        help='skip the whole ViT-B train step timing')
    parser.add_argument('--check', action='store_true',
                        help='exit 1 when a target is missed')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    register_all_modules()

    torch.manual_seed(0)
    b, h, length, d = args.batch, 16, 392, 32
    q, k, v = (torch.randn(b, h, length, d) for _ in range(3))
    logits = (q * d**-0.5) @ k.transpose(-2, -1)
    rows = []
    t_sdpa = timeit(lambda: F.scaled_dot_product_attention(q, k, v),
                    args.repeat)
    t_plain = timeit(lambda: explicit_attention(q, k, v), args.repeat)
    t_ours = timeit(lambda: asad_attention(q, k, v, 0.1, d**-0.5),
                    args.repeat)
    t_ref = timeit(
        lambda: explicit_attention(q, k, v, asad_drop_mask_reference),
        max(1, args.repeat // 2))
    t_softmax = timeit(lambda: logits.softmax(-1), args.repeat)
    t_mask = timeit(lambda: asad_drop_mask(logits, 0.1), args.repeat)
    t_mask_torch = timeit(lambda: asad_drop_mask(logits, 0.1, impl='torch'),
                          args.repeat)
    t_mask_ref = timeit(lambda: asad_drop_mask_reference(logits, 0.1),
                        max(1, args.repeat // 2))
    rows += [
        ('(a) plain attention, SDPA (TwinMAE)', t_sdpa),
        ('(a) plain attention, explicit softmax', t_plain),
        ('(b) ASAD attention, ours (SDPA + keep-mask)', t_ours),
        ('(c) ASAD attention, sequential reference', t_ref),
        ('softmax of the L x L logits', t_softmax),
        ('ASAD mask, ours' +
         (' (C kernel)' if native_available() else ' (kernel NOT built)'),
         t_mask),
        ('ASAD mask, ours, pure PyTorch path', t_mask_torch),
        ('ASAD mask, sequential reference', t_mask_ref),
    ]
    print(f'torch {torch.__version__}, {args.threads} thread(s); '
          f'B={b}, heads={h}, L={length}, head dim={d}, P=0.1')
    for name, ms in rows:
        print(f'  {name:44s} {ms:9.1f} ms')
    mask_speedup = t_mask_ref / t_mask
    print(f'  mask speed-up (reference / ours)            {mask_speedup:9.2f}x '
          '(target >= 5)')
    print(f'  ours mask / softmax                          '
          f'{t_mask / t_softmax:9.2f}x')
    ok = mask_speedup >= 5
    if not args.skip_step:
        t_drop = train_step_time(0.1, args.step_batch, args.step_repeat)
        t_twin = train_step_time(0.0, args.step_batch, args.step_repeat)
        ratio = t_drop / t_twin
        print(f'ViT-B/16 train step, batch {args.step_batch} '
              '(forward + backward + AdamW):')
        print(f'  {"TwinMAE":44s} {t_twin:9.1f} ms')
        print(f'  {"DropMAE":44s} {t_drop:9.1f} ms')
        print(f'  DropMAE / TwinMAE                            {ratio:9.2f}x '
              '(target <= 1.15)')
        ok = ok and ratio <= 1.15
    if args.check and not ok:
        sys.exit(1)


if __name__ == '__main__':
    main()
