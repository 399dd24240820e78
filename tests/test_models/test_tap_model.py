"""DropTAP: correlation sampling, initialisation, losses, and the online
windowed inference (bounded state, lazy frames, backward tracking)."""
import numpy as np
import pytest
import torch

from mmdropmae.models.tap import (CorrelationPyramid, DropTAP, bilinear_sample,
                                  correlation_volume, soft_argmax_init)
from mmdropmae.structures import DataSample


def test_bilinear_sample_and_correlation_windows():
    # a (1, 1, 4, 6) map whose value is its cell index; stride 8 on 32 x 48
    fmap = torch.arange(24, dtype=torch.float32).view(1, 1, 4, 6)
    # the centre of cell (row 2, col 3) is raster (3.5 * 8, 2.5 * 8)
    v = bilinear_sample(fmap, torch.tensor([[[28., 20.], [32., 20.]]]), (32, 48))
    assert v[0, 0, 0].item() == pytest.approx(15.0)  # 2 * 6 + 3
    assert v[0, 1, 0].item() == pytest.approx(15.5)  # half way to the next cell
    corr = fmap.view(1, 1, 1, 4, 6)
    pyr = CorrelationPyramid(corr, (32, 48), num_levels=2, radius=1)
    assert pyr.dims == 2 * 9
    win = pyr.sample(torch.tensor([[[[28., 20.]]]]))[0, 0, 0]
    # level 0: the 3 x 3 cells around (2, 3), row-major, x fastest
    np.testing.assert_allclose(win[:9].numpy(), [8, 9, 10, 14, 15, 16, 20, 21, 22])
    # level 1 (2 x 3 cells of 16 px): centre at 1.25, 1.25 cells -> bilinear
    lvl1 = torch.nn.functional.avg_pool2d(fmap, 2)
    ref = bilinear_sample(lvl1, torch.tensor([[[28., 20.]]]), (32, 48))[0, 0, 0]
    assert win[9 + 4].item() == pytest.approx(ref.item())
    q = torch.randn(2, 3, 5)
    f = torch.randn(2, 4, 5, 3, 3)
    vol = correlation_volume(q, f)
    torch.testing.assert_close(vol[1, 2, 3, 0, 1], (q[1, 2] * f[1, 3, :, 0, 1]).sum() / 5**0.5)


def test_soft_argmax_init_finds_a_planted_feature():
    torch.manual_seed(0)
    f = torch.randn(1, 2, 16, 8, 8)
    q = f[:, 1, :, 5, 2][:, None].clone()  # the feature of cell (row 5, col 2) of frame 1
    pos = soft_argmax_init(q, f, (32, 32), temperature=0.01)
    np.testing.assert_allclose(pos[0, 0, 1].numpy(), [2.5 * 4, 5.5 * 4], atol=0.5)


def _tiny(**test_cfg):
    torch.manual_seed(0)
    cfg = dict(window=4, window_stride=2, input_size=None)
    cfg.update(test_cfg)
    m = DropTAP(
        backbone=dict(type='VisionTransformer',
                      arch=dict(embed_dims=32, num_layers=2, num_heads=2, mlp_ratio=2.),
                      img_size=32, patch_size=8),
        out_indices=(-1, ), neck=dict(out_channels=16, feature_stride=4, stem_channels=16),
        refiner=dict(hidden_dims=32, depth=1), num_iters=2, corr_levels=2, corr_radius=2,
        test_cfg=cfg)
    return m.eval()


def _sample(q, t, n=None):
    s = DataSample(metainfo=dict(video_name='v', query_mode='strided'))
    s.query_points = torch.as_tensor(q, dtype=torch.float32)
    n = len(q)
    s.gt_tracks = torch.rand(n, t, 2) * 32
    s.gt_occluded = torch.rand(n, t) < 0.2
    return s


def test_loss_and_gradients():
    m = _tiny().train()
    clips = torch.randint(0, 255, (2, 5, 3, 32, 32), dtype=torch.uint8)
    samples = [_sample([[0, 10, 12], [3, 20, 5], [4, 1, 1]], 5) for _ in range(2)]
    data = m.data_preprocessor(dict(inputs=list(clips), data_samples=samples), True)
    losses = m(data['inputs'], data['data_samples'], mode='loss')
    assert set(losses) == {'loss_track', 'loss_vis', 'epe', 'epe_init'}
    total = losses['loss_track'] + losses['loss_vis']
    total.backward()
    grads = [p.grad for p in m.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert m.backbone.temporal_pos_embed_z.grad.abs().sum() > 0  # the query side is 'z'
    assert m.backbone.temporal_pos_embed_x.grad.abs().sum() > 0


def test_online_inference_is_windowed_and_lazy():
    m = _tiny()
    t_all = 13
    video = torch.randint(0, 255, (t_all, 3, 32, 32), dtype=torch.uint8)
    queries = torch.tensor([[0, 10., 12.], [6, 20., 5.], [12, 3., 30.]])
    calls = []

    def read(idx):
        calls.append(list(idx))
        return video[list(idx)]
    enc_sizes = []
    orig = m.encode

    def encode(imgs, frame='x'):
        enc_sizes.append(imgs.shape[0])
        return orig(imgs, frame)
    m.encode = encode
    tracks, occ = m.track_video(read, queries, num_frames=t_all, frame_size=(32, 32))
    assert tracks.shape == (3, t_all, 2) and occ.shape == (3, t_all)
    # never more than a window of frames read or encoded at once
    assert max(len(c) for c in calls) <= 4 and max(enc_sizes) <= 4
    # query frames hold the query point and are visible
    for n, (t, y, x) in enumerate(queries.tolist()):
        np.testing.assert_allclose(tracks[n, int(t)].numpy(), [x, y])
        assert not occ[n, int(t)]
    # a tensor video gives the same result as the lazy reader
    m.encode = orig
    t2, o2 = m.track_video(video, queries)
    torch.testing.assert_close(t2, tracks)
    assert torch.equal(o2, occ)
    # 'first' mode: no backward pass; frames before the query are occluded
    t3, o3 = m.track_video(video, queries, query_mode='first')
    assert o3[2, :12].all() and o3[1, :6].all()
    torch.testing.assert_close(t3[:, 6:][0], tracks[:, 6:][0])
    # strided: the backward pass fills the frames before a late query
    assert torch.isfinite(tracks[2, :12]).all()
    assert not torch.allclose(tracks[2, :12], queries[2, [2, 1]].expand(12, 2))
    with pytest.raises(ValueError, match='query frames'):
        m.track_video(video, torch.tensor([[13, 1., 1.]]))


def test_predict_rescales_to_the_frame_size():
    m = _tiny(input_size=(32, 32))
    video = torch.randint(0, 255, (6, 3, 48, 64), dtype=torch.uint8)
    q = [[0, 40., 60.], [5, 2., 3.]]
    out = m.predict([video], [_sample(q, 6)])[0]
    assert out.pred_tracks.shape == (2, 6, 2) and out.pred_occluded.dtype == bool
    np.testing.assert_allclose(out.pred_tracks[0, 0], [60, 40], atol=1e-4)
    np.testing.assert_allclose(out.pred_tracks[1, 5], [3, 2], atol=1e-4)
    assert out.gt_tracks.shape == (2, 6, 2) and out.metainfo['video_name'] == 'v'


def test_temporal_block_conv_equals_a_depthwise_conv1d():
    from mmdropmae.models.tap.refiner import _TemporalBlock
    torch.manual_seed(0)
    blk = _TemporalBlock(6, kernel=3)
    conv = torch.nn.Conv1d(6, 6, 3, padding=1, groups=6)
    with torch.no_grad():
        conv.weight.copy_(blk.weight.t()[:, None])
        conv.bias.copy_(torch.randn(6))
        blk.bias.copy_(conv.bias)
    x = torch.randn(4, 5, 6)
    ref = conv(x.transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(blk.temporal_conv(x), ref)


def test_windows_before_the_first_query_are_not_encoded():
    m = _tiny()
    video = torch.randint(0, 255, (13, 3, 32, 32), dtype=torch.uint8)
    read = []

    def frames(idx):
        read.extend(idx)
        return video[list(idx)]
    tracks, occ = m.track_video(frames, torch.tensor([[10, 5., 6.]]), num_frames=13,
                                frame_size=(32, 32), query_mode='first')
    assert min(read) >= 8  # windows [0, 4), [2, 6), [4, 8) hold no query
    assert occ[0, :10].all() and not occ[0, 10]
    t2, o2 = m.track_video(video, torch.tensor([[10, 5., 6.]]), query_mode='first')
    torch.testing.assert_close(t2, tracks)
