"""DropFlow's parts: convex upsampling (RAFT), the correlation lookup, input
padding (RAFT's InputPadder), tiled inference (CroCo windows), the sequence
loss (hand-worked), and the model on odd sizes, tiled and untiled."""
import pytest
import torch

from mmdropmae.models.flow import (DropFlow, InputPadder, overlapping_starts, tiled_flow,
                                   window_weights)
from mmdropmae.models.heads.flow_head import convex_upsample
from mmdropmae.models.layers.correlation import CorrBlock, coords_grid
from mmdropmae.models.losses.sequence_loss import SequenceLoss
from mmdropmae.structures import DataSample


def test_convex_upsample_hand_cases():
    torch.manual_seed(0)
    flow = torch.randn(1, 2, 3, 4)
    # all weight on the centre neighbour: nearest upsampling of factor * flow
    mask = torch.full((1, 9, 4, 4, 3, 4), -1e4)
    mask[:, 4] = 1e4
    up = convex_upsample(flow, mask.view(1, 9 * 16, 3, 4), 4)
    ref = 4 * flow.repeat_interleave(4, 2).repeat_interleave(4, 3)
    torch.testing.assert_close(up, ref)
    # a constant flow stays constant (x factor) inside for any weights (convex)
    const = torch.ones(1, 2, 5, 5) * torch.tensor([1.5, -2.0]).view(1, 2, 1, 1)
    up = convex_upsample(const, torch.randn(1, 9 * 64, 5, 5), 8)
    inner = up[:, :, 8:32, 8:32]
    torch.testing.assert_close(inner, 8 * const[:, :, :1, :1].expand_as(inner))


def test_correlation_lookup_matches_dot_products():
    torch.manual_seed(0)
    f1, f2 = torch.randn(1, 6, 5, 7), torch.randn(1, 6, 5, 7)
    corr = CorrBlock(f1, f2, num_levels=2, radius=1)
    out = corr(coords_grid(1, 5, 7))
    assert out.shape == (1, corr.out_channels, 5, 7) and corr.out_channels == 18
    y, x = 2, 3
    dot = lambda a, b: float((f1[0, :, a[0], a[1]] * f2[0, :, b[0], b[1]]).sum() / 6**0.5)  # noqa
    # window channel k = (dy + 1) * 3 + (dx + 1) on level 0
    assert out[0, 4, y, x].item() == pytest.approx(dot((y, x), (y, x)), abs=1e-5)
    assert out[0, 5, y, x].item() == pytest.approx(dot((y, x), (y, x + 1)), abs=1e-5)
    assert out[0, 7, y, x].item() == pytest.approx(dot((y, x), (y + 1, x)), abs=1e-5)


@pytest.mark.parametrize('size,mode,pads', [
    ((375, 1242), 'sintel', (4, 5, 3, 3)),  # -> 384 x 1248
    ((375, 1242), 'kitti', (0, 9, 3, 3)),
    ((436, 1024), 'sintel', (6, 6, 0, 0)),
])
def test_input_padder(size, mode, pads):
    x = torch.randn(1, 3, *size)
    p = InputPadder(x.shape, mode, divisor=16)
    (y, ) = p.pad(x)
    assert y.shape[-2] % 16 == 0 and y.shape[-1] % 16 == 0
    assert p._pad == [pads[2], pads[3], pads[0], pads[1]]
    assert tuple(y.shape[-2:]) == p.padded_size
    torch.testing.assert_close(p.unpad(y), x)
    # replicated borders (RAFT)
    torch.testing.assert_close(y[..., -1, pads[2]:pads[2] + size[1]], x[..., -1, :])


def test_overlapping_windows_and_blending_are_exact():
    assert overlapping_starts(100, 40, 0.5) == [0, 20, 40, 60]  # CroCo: 1 + ceil(60 / 20)
    assert overlapping_starts(64, 64, 0.5) == [0]
    with pytest.raises(ValueError):
        overlapping_starts(30, 40)
    img1, img2 = torch.randn(2, 3, 48, 80), torch.randn(2, 3, 48, 80)

    def pixelwise(a, b):  # depends on the pixel only: every window agrees
        return torch.stack([a[:, 0] - b[:, 1], a[:, 2] * 2], 1)

    tiled = tiled_flow(pixelwise, img1, img2, (24, 32), overlap=0.5)
    torch.testing.assert_close(tiled, pixelwise(img1, img2))


def test_sequence_loss_hand_worked():
    gt = torch.zeros(1, 2, 1, 2)
    gt[0, 0, 0, 1] = 500.0  # |gt| > 400: not counted
    valid = torch.ones(1, 1, 2)
    p1 = torch.zeros(1, 2, 1, 2)
    p1[0, 0, 0, 0] = 2.0
    p2 = torch.zeros(1, 2, 1, 2)
    p2[0, 1, 0, 0] = 1.0
    loss, stats = SequenceLoss(gamma=0.8)([p1, p2], gt, valid)
    # means over all 4 values (2 pixels x 2 channels): 0.8 * 2 / 4 + 1 * 1 / 4
    assert loss.item() == pytest.approx(0.8 * 0.5 + 0.25)
    assert stats['epe'].item() == pytest.approx(1.0) and stats['1px'].item() == 0
    valid[0, 0, 0] = 0
    loss, _ = SequenceLoss(gamma=0.8)([p1, p2], gt, valid)
    assert loss.item() == 0


def _tiny(**test_cfg):
    torch.manual_seed(0)
    model = DropFlow(
        backbone=dict(type='VisionTransformer',
                      arch=dict(embed_dims=48, num_layers=4, num_heads=3, mlp_ratio=2.),
                      img_size=64, patch_size=16),
        out_indices=(0, 1, 2, 3),
        head=dict(type='DPTFlowHead', flow_stride=8,
                  dpt=dict(post_process_channels=(16, 16, 32, 32), channels=16,
                           norm_cfg=None),
                  hidden_dims=16, corr_levels=2, corr_radius=2, num_iters=2),
        test_cfg=dict(test_cfg))
    model.init_weights()
    return model.eval()


def _pair(h, w):
    return torch.randint(0, 255, (1, 2, 3, h, w), dtype=torch.uint8)


def test_loss_and_backward_through_the_backbone_api():
    model = _tiny().train()
    data = model.data_preprocessor(dict(inputs=[_pair(64, 96)[0]] * 2,
                                        data_samples=None))
    samples = []
    for _ in range(2):
        s = DataSample()
        s.gt_flow = torch.randn(64, 96, 2)
        s.flow_valid = torch.ones(64, 96)
        samples.append(s)
    losses = model(data['inputs'], samples, mode='loss')
    assert set(losses) >= {'loss_flow', 'epe', '1px', '3px', '5px'}
    losses['loss_flow'].backward()
    # the flow heads start at zero motion: only their last convs learn at
    # first; after one step the gradient reaches the encoder
    assert model.head.regress_flow[-1].weight.grad.abs().sum() > 0
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.step()
    opt.zero_grad()
    model(data['inputs'], samples, mode='loss')['loss_flow'].backward()
    assert model.backbone.patch_embed.proj.weight.grad.abs().sum() > 0
    assert model.backbone.temporal_pos_embed_z.grad.abs().sum() > 0
    outs = model(data['inputs'], mode='tensor')
    assert len(outs) == 3 and outs[0].shape == (2, 2, 64, 96)  # regression + 2 iterations


@pytest.mark.parametrize('size', [(375, 1242), (436, 1024)])
def test_odd_sizes_predict_at_the_original_size(size):
    model = _tiny()  # whole image (the windows are tested below)
    data = model.data_preprocessor(dict(inputs=[_pair(*size)[0]]))
    out = model(data['inputs'], [DataSample()], mode='predict')
    assert out[0].pred_flow.shape == (*size, 2)
    assert torch.isfinite(out[0].pred_flow).all()


def test_tiled_equals_untiled_where_both_fit():
    pair = _pair(64, 96)
    model = _tiny()
    x = model.data_preprocessor(dict(inputs=[pair[0]]))['inputs']
    a, b = x[:, 0], x[:, 1]
    whole = model.predict_flow(a, b)

    def est(p, q):
        return model.estimate(p, q)[-1]

    # one window covering the pair: the blended result is the whole-image one
    torch.testing.assert_close(tiled_flow(est, a, b, (64, 96)), whole)
    assert _tiny(tile_size=(64, 96)).predict_flow(a, b).equal(whole)
    # two overlapping 64x64 windows (x offsets 0 and 32, CroCo's spacing):
    # the blend is the weighted mean of the two windows' own predictions
    tiled = _tiny(tile_size=(64, 64)).predict_flow(a, b)
    left, right = est(a[..., :64], b[..., :64]), est(a[..., 32:], b[..., 32:])
    wgt = window_weights(64, 64)
    acc = torch.zeros_like(whole)
    den = torch.zeros(64, 96)
    acc[..., :64] += left * wgt
    acc[..., 32:] += right * wgt
    den[:, :64] += wgt
    den[:, 32:] += wgt
    torch.testing.assert_close(tiled, acc / den)
    torch.testing.assert_close(tiled[..., :32], left[..., :32])  # only one window there
    with pytest.raises(ValueError, match='multiple of 16'):
        _tiny(tile_size=(60, 64))


def test_global_match_recovers_a_shift_and_the_stem_option():
    from mmdropmae.models.heads.flow_head import DPTFlowHead
    head = DPTFlowHead(embed_dims=8, patch_size=8, flow_stride=8, hidden_dims=8,
                       dpt=dict(post_process_channels=(8, 8, 8, 8), channels=8, norm_cfg=None),
                       corr_levels=1, corr_radius=1, match_init='global', match_temperature=0.01,
                       stem_channels=4)
    h, w = 4, 6
    f1 = torch.eye(h * w).view(h * w, h, w)[None]  # one-hot per cell
    f2 = torch.roll(f1, shifts=1, dims=3)  # content moves one cell right
    flow = head.global_match(f1, f2, coords_grid(1, h, w))
    torch.testing.assert_close(flow[0, 0, :, :-1], torch.ones(h, w - 1), atol=1e-3, rtol=0)
    torch.testing.assert_close(flow[0, 1], torch.zeros(h, w), atol=1e-3, rtol=0)
    # the same shift seen through the local (radius 1) window
    head.match_init = 'local'
    local = head.local_match(f1, f2, coords_grid(1, h, w))
    torch.testing.assert_close(local[0, 0, :, :-1], torch.ones(h, w - 1), atol=1e-3, rtol=0)
    torch.testing.assert_close(local[0, 1], torch.zeros(h, w), atol=1e-3, rtol=0)
    head.match_init = 'global'
    feats = [torch.randn(1, 8, 2, 3) for _ in range(4)]
    img = torch.randn(1, 3, 16, 24)
    preds = head(feats, feats, (16, 24), img1=img, img2=img)
    assert len(preds) == 1 and preds[0].shape == (1, 2, 16, 24)
    with pytest.raises(ValueError, match='image stem needs img1'):
        head(feats, feats, (16, 24))
