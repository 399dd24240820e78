import argparse
import math

import pytest
import torch

from mmdropmae.models import (DropMAEViT, VisionTransformer,
                              build_2d_sincos_position_embedding,
                              resize_pos_embed)
from mmdropmae.models.utils import (extract_encoder, mmdropmae_to_reference,
                                    reference_to_mmdropmae)
from mmdropmae.registry import MODELS

TINY = dict(embed_dims=32, num_layers=2, num_heads=4)


def reference_keys(depth, dec_depth):
    """The reference checkpoint's keys (jimmy-dq/DropMAE models_mae.py, MaskedAutoencoderViT)."""
    block = [
        f'{n}.{p}' for n in ('norm1', 'attn.qkv', 'attn.proj', 'norm2',
                             'mlp.fc1', 'mlp.fc2') for p in ('weight', 'bias')
    ]
    keys = {'patch_embed.proj.weight', 'patch_embed.proj.bias', 'pos_embed',
            'temporal_pos_embed_x', 'temporal_pos_embed_z', 'norm.weight',
            'norm.bias', 'decoder_embed.weight', 'decoder_embed.bias',
            'mask_token', 'decoder_pos_embed', 'decoder_temporal_pos_embed_x',
            'decoder_temporal_pos_embed_z', 'decoder_norm.weight',
            'decoder_norm.bias', 'decoder_pred.weight', 'decoder_pred.bias'}
    keys |= {f'blocks.{i}.{k}' for i in range(depth) for k in block}
    keys |= {f'decoder_blocks.{i}.{k}' for i in range(dec_depth)
             for k in block}
    return keys


def tiny_dropmae(img_size=64, drop_prob=0.1):
    return MODELS.build(
        dict(
            type='DropMAE',
            backbone=dict(
                type='DropMAEViT', arch=TINY, img_size=img_size,
                patch_size=16),
            neck=dict(
                type='DropMAEPretrainDecoder',
                num_patches=(img_size // 16)**2,
                embed_dims=32,
                decoder_embed_dims=16,
                decoder_depth=2,
                decoder_num_heads=2,
                attn_cfg=dict(type='ASADAttention', drop_prob=drop_prob)),
            head=dict(type='MAEPretrainHead', patch_size=16)))


def test_sincos_table_hand_values():
    dim, h, w = 16, 3, 5
    table = build_2d_sincos_position_embedding((h, w), dim)
    assert table.shape == (1, 1 + h * w, dim)
    assert (table[0, 0] == 0).all()  # unused class slot
    q = dim // 4
    for r, c, d in [(0, 0, 0), (2, 4, 1), (1, 3, 3), (2, 1, 2)]:
        omega = 1. / 10000**(d / q)
        row = table[0, 1 + r * w + c]
        assert math.isclose(row[d], math.sin(c * omega), abs_tol=1e-6)
        assert math.isclose(row[q + d], math.cos(c * omega), abs_tol=1e-6)
        assert math.isclose(row[2 * q + d], math.sin(r * omega), abs_tol=1e-6)
        assert math.isclose(row[3 * q + d], math.cos(r * omega), abs_tol=1e-6)


def test_resize_pos_embed_identity_and_shape():
    table = build_2d_sincos_position_embedding((4, 4), 8)
    assert resize_pos_embed(table, (4, 4), (4, 4)) is table
    out = resize_pos_embed(table, (4, 4), (8, 6))
    assert out.shape == (1, 1 + 48, 8)
    torch.testing.assert_close(out[:, :1], table[:, :1])
    with pytest.raises(ValueError, match='rows'):
        resize_pos_embed(table, (5, 5), (8, 8))


@pytest.mark.slow
def test_arch_presets_and_errors():
    vit = VisionTransformer(arch='base', img_size=224)
    assert vit.embed_dims == 768 and len(vit.blocks) == 12
    assert vit.blocks[0].attn.num_heads == 12
    assert vit.norm.eps == 1e-6 and vit.blocks[0].attn.qkv.bias is not None
    assert vit.pos_embed.shape == (1, 197, 768)
    assert not vit.pos_embed.requires_grad  # fixed sin-cos
    assert VisionTransformer(arch='large').pos_embed.shape[-1] == 1024
    assert VisionTransformer(arch='small', pos_embed_type='learned'
                             ).pos_embed.requires_grad
    with pytest.raises(KeyError, match='huge'):
        VisionTransformer(arch='huge')
    with pytest.raises(ValueError, match='multiple of the patch'):
        VisionTransformer(arch=TINY, img_size=64)(torch.randn(1, 3, 60, 64))


def test_reference_checkpoint_layout_roundtrip(tmp_path):
    model = tiny_dropmae()
    ref = mmdropmae_to_reference(model.state_dict())
    assert set(ref) == reference_keys(2, 2)
    assert ref['pos_embed'].shape == (1, 17, 32)
    back = reference_to_mmdropmae(ref)
    assert set(back) == set(model.state_dict())
    model.load_state_dict(back, strict=True)


@pytest.mark.parametrize('img_size', [64, 128])
def test_backbone_loads_reference_encoder(tmp_path, img_size):
    model = tiny_dropmae()
    ref = mmdropmae_to_reference(model.state_dict())
    path = tmp_path / 'dropmae_ref.pth'
    # reference checkpoints also pickle the training arguments
    torch.save({'model': ref, 'epoch': 3,
                'args': argparse.Namespace(lr=1.5e-4)}, path)

    vit = MODELS.build(
        dict(
            type='VisionTransformer',
            arch=TINY,
            img_size=img_size,
            init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    result = vit.load_encoder_checkpoint(str(path))
    assert result.missing_keys == [] and result.unexpected_keys == []
    vit.init_weights()
    enc, dropped = extract_encoder({'model': ref})
    assert set(dropped) == {k for k in ref if k.startswith('decoder')
                            } | {'mask_token'}
    for k, v in enc.items():
        if k != 'pos_embed':
            torch.testing.assert_close(vit.state_dict()[k], v)
    grid = img_size // 16
    expected = resize_pos_embed(ref['pos_embed'], (4, 4), (grid, grid))
    torch.testing.assert_close(vit.pos_embed.data, expected)
    # the same weights give the same features as the pre-training encoder
    if img_size == 64:
        model.eval()
        vit.eval()
        x, z = torch.randn(2, 3, 64, 64), torch.randn(2, 3, 64, 64)
        torch.testing.assert_close(
            vit(x, z)[0], model.backbone(x, z, mask=False)[0])


def test_embed_interpolates_for_other_input_sizes():
    vit = VisionTransformer(arch=TINY, img_size=64)
    tokens = vit.embed(torch.zeros(1, 3, 32, 48), frame='z')
    assert tokens.shape == (1, 6, 32)
    pos = resize_pos_embed(vit.pos_embed[:, 1:], (4, 4), (2, 3), 0)
    bias = vit.patch_embed.proj.bias
    torch.testing.assert_close(tokens[0],
                               (pos + vit.temporal_pos_embed_z)[0] + bias)
    out = vit(torch.randn(2, 3, 64, 64), torch.randn(2, 3, 32, 32))[0]
    assert out.shape == (2, 16 + 4, 32)
    with pytest.raises(ValueError, match="'x' or 'z'"):
        vit.embed(torch.zeros(1, 3, 64, 64), frame='y')


def test_joint_masking_over_both_frames():
    torch.manual_seed(0)
    vit = DropMAEViT(arch=TINY, img_size=64, mask_ratio=0.75)
    x, z = torch.randn(64, 3, 64, 64), torch.randn(64, 3, 64, 64)
    latent, mask, ids_restore = vit(x, z)
    n = 16
    assert latent.shape == (64, 8, 32)  # 2N * 0.25 visible
    assert (mask.sum(1) == 24).all()  # exactly 75% of the 2N tokens
    per_frame = mask[:, :n].sum(1)
    assert per_frame.min() < 12 < per_frame.max()  # not 75% per frame
    # ids_restore undoes the shuffle: visible tokens are those with mask 0
    tokens = torch.arange(2 * n).float()[None, :, None].expand(64, -1, 1)
    vis, m2, restore = vit.random_masking(tokens, 0.75)
    full = torch.cat([vis, torch.full((64, 24, 1), -1.)], 1)
    full = full.gather(1, restore[..., None])
    assert ((full[..., 0] >= 0) == (m2 == 0)).all()
    assert (full[..., 0][m2 == 0] == tokens[..., 0][m2 == 0]).all()
