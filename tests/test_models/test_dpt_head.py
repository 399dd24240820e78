"""The DPT feature head (mmsegmentation's DPT blocks) over multi-level ViT
outputs of the backbone API."""
import pytest
import torch

from mmdropmae.models import DPTFeatureHead, VisionTransformer


def test_dpt_head_on_vit_levels_shapes_and_gradients():
    torch.manual_seed(0)
    vit = VisionTransformer(arch=dict(embed_dims=32, num_layers=4, num_heads=2), img_size=64,
                            patch_size=16, out_indices=(0, 1, 2, 3), out_type='featmap')
    head = DPTFeatureHead(embed_dims=32, post_process_channels=(8, 16, 32, 32), channels=16,
                          out_channels=2, norm_cfg=None)
    img = torch.randn(2, 3, 64, 96)
    feats = vit(img)
    assert [tuple(f.shape) for f in feats] == [(2, 32, 4, 6)] * 4
    out = head(feats)
    assert out.shape == (2, 2, 32, 48)  # 8 x the 4x6 grid: half the image side
    out.square().mean().backward()
    # every level and the encoder get a gradient
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in (head.convs[0].conv.weight, head.convs[3].conv.weight,
                         vit.blocks[0].attn.qkv.weight))


def test_dpt_head_levels_matter_and_errors():
    torch.manual_seed(0)
    head = DPTFeatureHead(embed_dims=8, post_process_channels=(4, 4, 4, 4), channels=8,
                          norm_cfg=None).eval()
    feats = [torch.randn(1, 8, 4, 4) for _ in range(4)]
    base = head(feats)
    assert base.shape == (1, 8, 32, 32)
    for i in range(4):  # each level reaches the output
        changed = list(feats)
        changed[i] = changed[i] + 1
        assert not torch.allclose(head(changed), base)
    with pytest.raises(ValueError, match='4 feature maps'):
        head(feats[:3])
    with pytest.raises(ValueError, match='4 levels'):
        DPTFeatureHead(embed_dims=8, post_process_channels=(4, 4, 4))
