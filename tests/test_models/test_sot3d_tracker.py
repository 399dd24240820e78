"""BEVTrack: the BEV centre head's geometry, the network through the backbone
API, and the test-time logic (Open3DSOT's loop, empty search areas)."""
import math

import numpy as np
import pytest
import torch

from mmdropmae.models.heads import BEVCenterHead
from mmdropmae.models.sot3d import SOT3DTrackingWarning
from mmdropmae.registry import MODELS
from mmdropmae.structures.data_sample import DataSample
from mmdropmae.utils import register_all_modules
from mmdropmae.utils.points import box_in_frame

register_all_modules()


def tiny_cfg(**kw):
    cfg = dict(
        type='BEVTrack',
        backbone=dict(type='VisionTransformer',
                      arch=dict(embed_dims=48, num_layers=2, num_heads=3, mlp_ratio=2.),
                      img_size=64, patch_size=16),
        head=dict(type='BEVCenterHead', in_channels=48, channels=16, num_convs=1,
                  feat_size=8, upsample=2, skip_channels=3),
        template_size=64, search_size=128)
    cfg.update(kw)
    return cfg


@pytest.mark.parametrize('up', [1, 2])
def test_head_targets_decode_round_trip(up):
    head = BEVCenterHead(in_channels=8, feat_size=8, channels=8, num_convs=1, upsample=up)
    s = 8 * up
    gt = torch.tensor([[0.7, -1.3, 0.2, 0.4], [-2.3, 2.1, -0.1, -2.5]])
    res = torch.tensor([0.05, 0.04])
    heat, cell, off = head.targets(gt, res, 128)
    # cell coordinates: x / (res * stride) + S / 2, stride = 128 / S px
    u = 0.7 / (0.05 * 128 / s) + s / 2
    assert cell[0, 0] == math.floor(u) and off[0, 0] == pytest.approx(u - math.floor(u))
    assert heat[0, 0, cell[0, 1], cell[0, 0]] == 1. and (heat[0] <= 1).all()
    assert (heat.reshape(2, -1) == 1).sum(1).tolist() == [1, 1]
    # perfect maps decode back to the target (no window)
    b = torch.arange(2)
    out = dict(heatmap=heat, offset=torch.zeros(2, 2, s, s), z=torch.zeros(2, 1, s, s),
               yaw=torch.zeros(2, 2, s, s))
    out['offset'][b, :, cell[:, 1], cell[:, 0]] = off
    out['z'][b, 0, cell[:, 1], cell[:, 0]] = gt[:, 2]
    out['yaw'][b, :, cell[:, 1], cell[:, 0]] = torch.stack([gt[:, 3].sin(), gt[:, 3].cos()], 1)
    delta, score = head.decode(out, res, 128)
    torch.testing.assert_close(delta, gt, atol=1e-5, rtol=0)
    assert (score == 1).all()
    losses = head.loss(out, gt, res, 128)
    assert losses['loss_offset'] == 0 and losses['loss_z'] == 0
    assert losses['loss_yaw'] < 1e-6
    # a target off the map (|x| > 4 cells x 0.64 m) is clamped to the border
    _, cell, off = head.targets(torch.tensor([[-2.9, 0., 0., 0.]]), res[1:], 128)
    assert cell[0].tolist() == [0, s // 2] and off[0, 0] == 0
    feat = torch.randn(2, 8, 8, 8)
    assert head(feat)['heatmap'].shape == (2, 1, s, s)


def test_head_skip_input():
    head = BEVCenterHead(in_channels=8, feat_size=8, channels=8, num_convs=1, upsample=2,
                         skip_channels=3)
    feat, bev = torch.randn(2, 8, 8, 8), torch.randn(2, 3, 128, 128)
    out = head(feat, bev)
    assert out['heatmap'].shape == (2, 1, 16, 16)
    # the skip is the BEV pooled to the cells: it changes the output
    assert not torch.allclose(out['z'], head(feat, bev * 2)['z'])
    with pytest.raises(ValueError, match='skip input of 3 channels'):
        head(feat)


def test_network_uses_backbone_api_and_temporal_embeddings():
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg())
    model.init_weights()
    z, x = torch.randn(2, 3, 64, 64), torch.randn(2, 3, 128, 128)
    out = model._forward(dict(template=z, search=x))
    assert out['heatmap'].shape == (2, 1, 16, 16) and out['yaw'].shape == (2, 2, 16, 16)
    # the template's temporal embedding reaches the search output
    with torch.no_grad():
        model.backbone.temporal_pos_embed_z.add_(1.)
    out2 = model._forward(dict(template=z, search=x))
    assert not torch.allclose(out['z'], out2['z'])
    # the RGB patch embedding of a pre-trained ViT fits the 3 BEV channels
    assert model.backbone.patch_embed.proj.weight.shape[1] == 3
    samples = []
    for i in range(2):
        s = DataSample(metainfo=dict(bev_resolution=0.07))
        s.gt_offset_3d = torch.tensor([0.3 * i, -0.2, 0.1, 0.05])
        samples.append(s)
    losses = model.loss(dict(template=z, search=x), samples)
    assert set(losses) == {'loss_heatmap', 'loss_offset', 'loss_z', 'loss_yaw'}
    sum(losses.values()).backward()
    assert model.pos_embed_x.grad is not None


def test_bad_sizes():
    with pytest.raises(ValueError, match='multiples of the patch size'):
        MODELS.build(tiny_cfg(search_size=120))
    with pytest.raises(ValueError, match='feat_size 8 does not match'):
        MODELS.build(tiny_cfg(search_size=96))


def _car_points(box, n=400, seed=0):
    rng = np.random.default_rng(seed)
    local = rng.uniform(-0.5, 0.5, (n, 3)) * box[3:6]
    c, s = math.cos(box[6]), math.sin(box[6])
    pts = np.stack([box[0] + c * local[:, 0] - s * local[:, 1],
                    box[1] + s * local[:, 0] + c * local[:, 1], box[2] + local[:, 2],
                    np.full(n, 0.7)], 1)
    ground = np.stack([rng.uniform(-30, 30, 3000), rng.uniform(-30, 30, 3000),
                       np.full(3000, box[2] - box[5] / 2), np.full(3000, 0.1)], 1)
    return np.concatenate([pts, ground]).astype(np.float32)


def _frame(points, fid, box, name='0019_0000', path='p.bin', error=None):
    s = DataSample(metainfo=dict(video_id=0, video_name=name, frame_id=fid, video_length=4,
                                 points_path=path, load_error=error))
    s.gt_bbox_3d = np.asarray(box, np.float32)
    return points, s


def test_tracking_loop_and_empty_search_area():
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg()).eval()
    box0 = np.array([10., 2., -0.9, 4., 1.8, 1.5, 0.2])
    box1 = box0 + [0.6, 0.1, 0., 0., 0., 0., 0.02]
    inputs, samples = zip(_frame(_car_points(box0), 0, box0))
    out0 = model.predict(list(inputs), list(samples))[0]
    # frame 0: the ground-truth box is the result
    np.testing.assert_allclose(out0.pred_bbox_3d, box0, atol=1e-6)
    out1 = model.predict(*map(list, zip(_frame(_car_points(box1, seed=1), 1, box1))))[0]
    pred = out1.pred_bbox_3d.astype(np.float64)
    # size from the first box; the centre stays within the search area
    np.testing.assert_allclose(pred[3:6], box0[3:6], atol=1e-6)
    local = box_in_frame(pred, box0)
    assert (np.abs(local[:2]) <= box0[3:5].max() * 1.25 / 2 + 2).all()
    assert not out1.metainfo['empty_search']
    # frame 2: a corrupt file (empty cloud): last box kept, a warning naming
    # the sequence, frame and file
    empty = np.zeros((0, 4), np.float32)
    with pytest.warns(SOT3DTrackingWarning,
                      match=r'sequence 0019_0000 frame 2 \(v/000002\.bin\): empty search area '
                      r'\(size 6 bytes'):
        out2 = model.predict(*map(list, zip(_frame(empty, 2, box1, path='v/000002.bin',
                                                   error='size 6 bytes ...'))))[0]
    np.testing.assert_array_equal(out2.pred_bbox_3d, out1.pred_bbox_3d)
    assert out2.metainfo['empty_search'] and out2.metainfo['track_messages']
    # frame 3: points far away only (the search area is empty): still the last box
    far = _car_points(box0 + [40., 0, 0, 0, 0, 0, 0])[:400]
    with pytest.warns(SOT3DTrackingWarning, match='frame 3 .*empty search area: keeping'):
        out3 = model.predict(*map(list, zip(_frame(far, 3, box1))))[0]
    np.testing.assert_array_equal(out3.pred_bbox_3d, out1.pred_bbox_3d)
    np.testing.assert_allclose(out3.gt_bbox_3d, box1, atol=1e-6)


def test_target_without_points_warns_and_tracking_goes_on():
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg()).eval()
    box0 = np.array([10., 2., -0.9, 4., 1.8, 1.5, 0.2])
    ground_only = _car_points(box0)[400:]
    ground_only = ground_only[np.abs(ground_only[:, 0] - 10) > 4]  # nothing near the box
    with pytest.warns(SOT3DTrackingWarning, match='frame 0 .*no points in its first box'):
        model.predict(*map(list, zip(_frame(ground_only, 0, box0))))
    near = _car_points(box0, seed=2)
    with pytest.warns(SOT3DTrackingWarning, match='frame 1 .*no points in the template'):
        out = model.predict(*map(list, zip(_frame(near, 1, box0))))[0]
    assert np.isfinite(out.pred_bbox_3d).all()
    assert not out.metainfo['empty_search']
