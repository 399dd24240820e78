"""The backbone API every downstream model uses: intermediate outputs,
attention masks and token selection between blocks."""
import os.path as osp
import re

import pytest
import torch

from mmdropmae.models import VisionTransformer
from mmdropmae.models.layers import ASADAttention, CandidateElimination, TokenSelector

ARCH = dict(embed_dims=48, num_layers=4, num_heads=3, mlp_ratio=2.)


def _vit(**kw):
    torch.manual_seed(0)
    return VisionTransformer(arch=ARCH, img_size=32, patch_size=8, **kw).eval()


def test_out_indices_equal_a_manual_block_loop():
    vit = _vit(out_indices=(1, -1))
    x = torch.randn(2, 3, 32, 32)
    tokens = vit.embed(x)
    manual = []
    t = tokens
    for blk in vit.blocks:
        t = blk(t)
        manual.append(t)
    outs = vit(x)
    assert len(outs) == 2
    torch.testing.assert_close(outs[0], manual[1])  # intermediate: no norm
    torch.testing.assert_close(outs[1], vit.norm(manual[3]))  # last: final norm
    every = vit.forward_tokens(tokens, out_indices=[0, 2], out_norm='all')
    torch.testing.assert_close(every[0], vit.norm(manual[0]))
    torch.testing.assert_close(every[1], vit.norm(manual[2]))
    with pytest.raises(IndexError, match='outside'):
        vit.forward_tokens(tokens, out_indices=[4])
    with pytest.raises(ValueError, match='out_norm'):
        vit.forward_tokens(tokens, out_norm='first')


def test_featmap_outputs_are_the_x_frame_grid():
    vit = _vit(out_type='featmap')
    x, z = torch.randn(1, 3, 32, 48), torch.randn(1, 3, 32, 32)
    fmap = vit(x, z)[0]
    assert fmap.shape == (1, 48, 4, 6)
    raw = _vit()(x, z)[0]
    torch.testing.assert_close(fmap.flatten(2).transpose(1, 2), raw[:, :24])


def test_block_diagonal_mask_equals_separate_encoding():
    # with cross-frame attention masked out, the joint encoding of [x, z]
    # is the encoding of each frame alone (plus its temporal embedding)
    vit = _vit()
    x, z = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)
    tx, tz = vit.embed(x, 'x'), vit.embed(z, 'z')
    n = tx.shape[1]
    frame = torch.arange(2 * n) // n
    keep = frame[:, None] == frame[None, :]
    joint = vit.forward_tokens(torch.cat([tx, tz], 1), attn_mask=keep)[0]
    torch.testing.assert_close(joint[:, :n], vit.forward_tokens(tx)[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(joint[:, n:], vit.forward_tokens(tz)[0], atol=1e-5, rtol=1e-5)
    # an additive float mask gives the same as the boolean one
    additive = torch.zeros(2 * n, 2 * n).masked_fill(~keep, float('-inf'))
    torch.testing.assert_close(
        vit.forward_tokens(torch.cat([tx, tz], 1), attn_mask=additive)[0], joint)
    # and the mask really changes the result
    assert not torch.allclose(vit.forward_tokens(torch.cat([tx, tz], 1))[0], joint)


def test_embed_with_own_position_table():
    vit = _vit()
    x = torch.randn(1, 3, 32, 32)
    table = torch.randn(1, 16, 48)
    own = vit.embed(x, 'x', pos_embed=table, pos_grid=(4, 4))
    tokens, _ = vit.patch_embed(x)
    torch.testing.assert_close(own, tokens + table + vit.temporal_pos_embed_x)
    # another input size: the table is interpolated
    assert vit.embed(torch.randn(1, 3, 48, 32), pos_embed=table, pos_grid=(4, 4)).shape == \
        (1, 24, 48)
    with pytest.raises(ValueError, match='pos_grid'):
        vit.embed(x, pos_embed=table)


class _DropOddTokens(TokenSelector):
    """Keeps the even-indexed tokens at block 1; records the attention."""
    layers = (1, )

    def attn_rows(self, layer):
        return [0]

    def select(self, layer, tokens, attn):
        self.attn = attn
        return tokens[:, ::2]


def test_token_selector_runs_between_attention_and_mlp():
    vit = _vit()
    x = torch.randn(1, 3, 32, 32)
    tokens = vit.embed(x)
    sel = _DropOddTokens()
    out = vit.forward_tokens(tokens, token_selector=sel)[0]
    assert out.shape == (1, 8, 48)
    # by hand: block 0, attention half of block 1, select, MLP half, rest
    t = vit.blocks[0](tokens)
    t = vit.blocks[1].forward_attn(t)[:, ::2]
    t = vit.blocks[1].forward_mlp(t)
    t = vit.blocks[3](vit.blocks[2](t))
    torch.testing.assert_close(out, vit.norm(t))
    # the attention handed over is row 0's softmax over all 16 keys
    assert sel.attn.shape == (1, 3, 1, 16)
    torch.testing.assert_close(sel.attn.sum(-1), torch.ones(1, 3, 1))
    with pytest.raises(ValueError, match='cannot be combined'):
        vit.forward_tokens(tokens, attn_mask=torch.ones(16, 16, dtype=torch.bool),
                           token_selector=sel)


def test_candidate_elimination_keep_one_is_plain_forward():
    vit = _vit()
    z, x = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 32, 32)
    tokens = torch.cat([vit.embed(z, 'z'), vit.embed(x, 'x')], 1)
    ce = CandidateElimination(layers=(1, 2), keep_ratio=1.0)
    ce.reset((2, 2), 16, 2, tokens.device)
    assert ce.layers == {}  # ratio 1 eliminates nothing
    torch.testing.assert_close(vit.forward_tokens(tokens, token_selector=ce)[0],
                               vit.forward_tokens(tokens)[0])
    ce = CandidateElimination(layers=(1, 2), keep_ratio=0.5)
    ce.reset((2, 2), 16, 2, tokens.device)
    out = vit.forward_tokens(tokens, token_selector=ce)[0]
    assert out.shape == (2, 4 + 4, 48) and ce.kept_tokens == [8, 4]
    full = ce.restore(out[:, 4:])
    assert full.shape == (2, 16, 48)
    assert ((full.abs().sum(-1) > 0).sum(1) == 4).all()  # the rest are zeros
    with pytest.raises(ValueError, match='ce_template_range'):
        CandidateElimination(template_range='CENTRE')


def test_asad_attention_refuses_a_mask_while_dropping():
    attn = ASADAttention(16, 2, drop_prob=0.1).train()
    x = torch.randn(1, 8, 16)
    with pytest.raises(ValueError, match='attn_mask'):
        attn(x, attn_mask=torch.ones(8, 8, dtype=torch.bool))
    attn.eval()  # plain attention: the mask is applied
    assert attn(x, attn_mask=torch.ones(8, 8, dtype=torch.bool)).shape == (1, 8, 16)


PRIVATE = re.compile(r'\._(qkv|out|explicit|attend|row_attention)\(|\.attn\.(scale|qkv|proj)\b'
                     r'|\b(backbone|bb)\.blocks\b|\bblk\.(norm1|norm2|mlp|attn|drop_path)\b')


def test_no_module_outside_layers_touches_attention_internals():
    root = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'mmdropmae')
    offenders = []
    import os
    for dirpath, _, files in os.walk(root):
        rel = osp.relpath(dirpath, root)
        # the ViT itself, and the checkpoint converters (they map key names)
        if rel.startswith((osp.join('models', 'layers'), osp.join('models', 'backbones'),
                           osp.join('models', 'utils'))):
            continue
        for f in files:
            if not f.endswith('.py'):
                continue
            with open(osp.join(dirpath, f)) as fh:
                for i, line in enumerate(fh, 1):
                    if PRIVATE.search(line):
                        offenders.append(f'{osp.join(rel, f)}:{i}: {line.strip()}')
    assert not offenders, '\n'.join(offenders)
