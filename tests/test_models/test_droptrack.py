"""DropTrack: shapes, candidate elimination, losses, checkpoint loading and
test-time tracking (tiny models, CPU)."""
import math

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.structures import BaseDataElement

from mmdropmae.datasets.transforms.sot_transforms import (sample_target,
                                                          transform_box_to_crop)
from mmdropmae.models.heads.center_head import generate_heatmap
from mmdropmae.models.losses import CenterFocalLoss, GIoULoss
from mmdropmae.models.trackers import (adjust_keep_rate, candidate_elimination,
                                       clip_box, hann2d, template_center_rows)
from mmdropmae.models.trackers.base_sot_tracker import hann1d
from mmdropmae.registry import MODELS

TINY_ARCH = dict(embed_dims=96, num_layers=4, num_heads=3, mlp_ratio=4.)


def tiny_droptrack(template=64, search=128, ce_loc=(1, 2, 3), init_cfg=None,
                   **kwargs):
    cfg = dict(
        type='DropTrack',
        backbone=dict(
            type='VisionTransformer', arch=TINY_ARCH, img_size=64,
            init_cfg=init_cfg),
        head=dict(type='CenterHead', in_channels=96, channels=32,
                  feat_size=search // 16),
        template_size=template,
        search_size=search,
        ce_loc=ce_loc,
        ce_keep_ratio=0.7)
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.fixture(autouse=True)
def _no_epoch_in_message_hub():
    hub = MessageHub.get_current_instance()
    hub.runtime_info.pop('epoch', None)
    yield
    hub.runtime_info.pop('epoch', None)


def test_forward_shapes():
    torch.manual_seed(0)
    model = tiny_droptrack().eval()
    out = model.forward_pair(torch.randn(2, 3, 64, 64),
                             torch.randn(2, 3, 128, 128))
    assert out['score_map'].shape == (2, 1, 8, 8)
    assert out['size_map'].shape == (2, 2, 8, 8)
    assert out['offset_map'].shape == (2, 2, 8, 8)
    assert ((out['score_map'] > 0) & (out['score_map'] < 1)).all()
    box = model.head.cal_bbox(out['score_map'], out['size_map'],
                              out['offset_map'])
    assert box.shape == (2, 4) and torch.isfinite(box).all()


def test_ce_keeps_ceil_and_restores_grid():
    torch.manual_seed(0)
    model = tiny_droptrack().eval()
    feat, aux = model.extract_feat(torch.randn(2, 3, 64, 64),
                                   torch.randn(2, 3, 128, 128))
    n = 64
    expected = []
    for _ in range(3):
        n = math.ceil(0.7 * n)
        expected.append(n)
    assert aux['kept_tokens'] == expected == [45, 32, 23]
    removed = torch.cat(aux['removed_indexes'], 1)
    assert [r.shape[1] for r in aux['removed_indexes']] == [19, 13, 9]
    kept = aux['global_index']
    for b in range(2):
        all_idx = torch.cat([kept[b], removed[b]]).sort().values
        assert torch.equal(all_idx, torch.arange(64))  # a partition
        flat = feat[b].flatten(1).t()  # (64, C) in grid order
        assert (flat[removed[b]] == 0).all()  # dropped -> zeros
        assert (flat[kept[b]].abs().sum(1) > 0).all()
    assert feat.shape == (2, 96, 8, 8)


def test_candidate_elimination_keeps_most_attended():
    tokens = torch.arange(2 + 10, dtype=torch.float).view(1, 12, 1)
    tokens = tokens.expand(1, 12, 3).clone()
    attn = torch.zeros(1, 2, 1, 10)
    attn[0, :, 0] = torch.tensor([.0, .9, .1, .8, .2, .7, .3, .6, .4, .5])
    gidx = torch.arange(10).view(1, 10) + 100
    new, keep, removed = candidate_elimination(attn, tokens, 2, 0.7, gidx)
    assert new.shape == (1, 2 + 7, 3)  # ceil(0.7 * 10) = 7
    assert keep[0].tolist() == [101, 103, 105, 107, 109, 108, 106]
    assert sorted(removed[0].tolist()) == [100, 102, 104]
    assert new[0, :2, 0].tolist() == [0., 1.]  # template untouched
    # ratio giving all tokens: nothing removed
    same, idx, none = candidate_elimination(attn, tokens, 2, 0.99, gidx)
    assert none is None and same is tokens


def test_ce_path_equals_plain_blocks_when_nothing_is_removed():
    # ceil(0.99 * 64) = 64: the CE path runs in blocks 1-3 but keeps all
    torch.manual_seed(0)
    model = tiny_droptrack(ce_keep_ratio=0.99).eval()
    z, s = torch.randn(1, 3, 64, 64), torch.randn(1, 3, 128, 128)
    f_ce, aux = model.extract_feat(z, s)
    assert aux['removed_indexes'] == [] and aux['kept_tokens'] == [64, 64, 64]
    tokens = torch.cat([model.embed(z, 'z'), model.embed(s, 'x')], 1)
    ref = model.backbone.forward_tokens(tokens)[0][:, 16:]
    torch.testing.assert_close(f_ce.flatten(2).transpose(1, 2), ref, rtol=1e-5, atol=1e-5)
    # no CE at all equals running the plain ViT blocks
    plain = tiny_droptrack(ce_loc=()).eval()
    plain.load_state_dict(model.state_dict())
    f1, _ = plain.extract_feat(z, s)
    torch.testing.assert_close(f1.flatten(2).transpose(1, 2), ref)


def test_ce_template_rows_and_keep_rate_schedule():
    assert template_center_rows((8, 8), 'CTR_POINT') == [3 * 8 + 3]
    assert template_center_rows((12, 12), 'CTR_POINT') == [5 * 12 + 5]
    assert template_center_rows((8, 8), 'CTR_REC') == [27, 28, 35, 36]
    assert template_center_rows((8, 8), 'ALL') is None
    # OSTrack: CE_START_EPOCH 20, CE_WARM_EPOCH 50 (GOT-10k schedule)
    assert adjust_keep_rate(0, 20, 70, 0.7) == 1.
    assert adjust_keep_rate(19, 20, 70, 0.7) == 1.
    assert adjust_keep_rate(20, 20, 70, 0.7) == pytest.approx(1.)
    assert adjust_keep_rate(45, 20, 70, 0.7) == pytest.approx(0.85)
    assert adjust_keep_rate(70, 20, 70, 0.7) == 0.7
    # cosine, not linear (OSTrack lib/utils/ce_utils.py adjust_keep_rate):
    # r = 0.7 + 0.3 * (cos(pi * t) + 1) / 2, t = (epoch - 20) / 50; at t = 1/5
    # and 4/5, cos(pi / 5) = (1 + sqrt 5) / 4 gives 0.7 + 0.15 * (5 + sqrt 5) / 4
    # = 0.97135 and 0.7 + 0.15 * (3 - sqrt 5) / 4 = 0.72865, where a linear
    # ramp gives 0.94 and 0.76 (epoch 45, t = 1/2, is where they agree)
    r5 = math.sqrt(5.)
    assert adjust_keep_rate(30, 20, 70, 0.7) == pytest.approx(0.7 + 0.15 * (5 + r5) / 4, abs=1e-12)
    assert adjust_keep_rate(60, 20, 70, 0.7) == pytest.approx(0.7 + 0.15 * (3 - r5) / 4, abs=1e-12)
    # t = 1/4 (epoch 25 of warm-up 20..40, base 0.5): 0.5 + 0.5 * (1 + sqrt(2) / 2) / 2
    assert adjust_keep_rate(25, 20, 40) == pytest.approx(0.75 + math.sqrt(2.) / 8, abs=1e-12)
    model = tiny_droptrack(ce_start_epoch=20, ce_warm_epochs=50)
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', 30)  # the model reads the epoch of the message hub
    assert model.current_keep_rate() == pytest.approx(0.7 + 0.15 * (5 + r5) / 4, abs=1e-12)
    hub.update_info('epoch', 5)
    assert model.current_keep_rate() == 1.
    _, aux = model.extract_feat(torch.randn(1, 3, 64, 64),
                                torch.randn(1, 3, 128, 128),
                                ce_keep_rate=model.current_keep_rate())
    assert aux['removed_indexes'] == []  # rate 1: no elimination
    hub.update_info('epoch', 80)
    assert model.current_keep_rate() == 0.7


def test_heatmap_and_losses():
    heat = generate_heatmap(torch.tensor([[0.25, 0.25, 0.5, 0.5]]), 16)
    assert heat.shape == (1, 1, 16, 16)
    assert heat[0, 0, 8, 8] == 1 and (heat == 1).sum() == 1
    assert heat[0, 0, 8, 9] < 1 and heat[0, 0, 8, 9] > 0
    focal = CenterFocalLoss()
    good = heat.clamp(1e-4, 1 - 1e-4)
    bad = (1 - heat).clamp(1e-4, 1 - 1e-4)
    assert focal(good, heat) < focal(bad, heat)
    giou = GIoULoss(loss_weight=1.)
    box = torch.tensor([[0., 0., 1., 1.]])
    loss, iou = giou(box, box)
    assert loss.item() == pytest.approx(0., abs=1e-5)
    assert iou.item() == pytest.approx(1.)
    far = torch.tensor([[2., 2., 3., 3.]])
    loss, iou = giou(box, far)  # GIoU = 0 - (9 - 2) / 9
    assert loss.item() == pytest.approx(1 + 7 / 9, abs=1e-5)


def _pair_batch(b=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(
        inputs=dict(
            template=[torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8,
                                    generator=g) for _ in range(b)],
            search=[torch.randint(0, 256, (3, 128, 128), dtype=torch.uint8,
                                  generator=g) for _ in range(b)]),
        data_samples=[
            BaseDataElement(gt_bbox=torch.tensor(
                [0.2 + 0.1 * i, 0.3, 0.25, 0.2])) for i in range(b)
        ])


def test_loss_finite_and_falls_on_repeated_batch():
    torch.manual_seed(0)
    model = tiny_droptrack()
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    data = _pair_batch()
    first = last = None
    for _ in range(25):
        d = model.data_preprocessor(data, True)
        losses = model(**d, mode='loss')
        assert set(losses) >= {'loss_focal', 'loss_giou', 'loss_l1'}
        loss, _ = model.parse_losses(losses)
        assert torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
        last = loss.item()
    assert last < 0.6 * first


def test_backbone_loads_tiny_dropmae_checkpoint(tmp_path):
    torch.manual_seed(0)
    mae = MODELS.build(
        dict(
            type='DropMAE',
            backbone=dict(type='DropMAEViT', arch=TINY_ARCH, img_size=64),
            neck=dict(
                type='DropMAEPretrainDecoder', num_patches=16, embed_dims=96,
                decoder_embed_dims=64, decoder_depth=2, decoder_num_heads=4,
                attn_cfg=dict(type='ASADAttention', drop_prob=0.1)),
            head=dict(type='MAEPretrainHead', patch_size=16)))
    ckpt = tmp_path / 'dropmae_tiny.pth'
    torch.save({'meta': {}, 'state_dict': mae.state_dict()}, ckpt)
    model = tiny_droptrack(
        init_cfg=dict(type='Pretrained', checkpoint=str(ckpt)))
    result = model.backbone.load_encoder_checkpoint(str(ckpt))
    assert result.missing_keys == [] and result.unexpected_keys == []
    model.init_weights()
    mae_state = mae.state_dict()
    for k, v in model.backbone.state_dict().items():
        torch.testing.assert_close(v, mae_state['backbone.' + k])
    # every DropTrack parameter outside the head comes from the encoder
    loaded = {'backbone.' + k for k in model.backbone.state_dict()}
    own = set(model.state_dict()) - loaded
    assert {k.split('.')[0] for k in own} == {
        'head', 'pos_embed_z', 'pos_embed_x'}
    # the learned template/search position embeddings start from the
    # encoder's (interpolated) table
    torch.testing.assert_close(
        model.pos_embed_z, model.backbone.grid_pos_embed((4, 4)))
    torch.testing.assert_close(
        model.pos_embed_x, model.backbone.grid_pos_embed((8, 8)))


def test_crop_geometry_round_trip():
    img = np.zeros((120, 160, 3), np.uint8)
    img[40:60, 70:100] = 255  # box x=70, y=40, w=30, h=20
    box = [70., 40., 30., 20.]
    crop, r = sample_target(img, box, 4., 128)
    assert crop.shape == (128, 128, 3)
    crop_sz = math.ceil(math.sqrt(600) * 4)
    assert r == pytest.approx(128 / crop_sz)
    in_crop = transform_box_to_crop(box, (85., 50.), r, 128, normalize=False)
    np.testing.assert_allclose(in_crop[:2] + in_crop[2:] / 2, [64, 64])
    ys, xs = np.nonzero(crop[..., 0] > 127)
    assert abs(xs.min() - in_crop[0]) <= 1 and abs(ys.min() - in_crop[1]) <= 1
    model = tiny_droptrack()
    # crop pixel centre -> image (map_box_back inverts the crop mapping)
    back = model.map_box_back(
        [v / r for v in (64., 64., in_crop[2], in_crop[3])], box, r)
    np.testing.assert_allclose(back, box, atol=1e-4)
    # padding outside the image is zero
    crop, _ = sample_target(img, [0., 0., 10., 10.], 4., 64)
    assert crop[:16, :16].max() == 0


def test_clip_box_and_hann():
    assert clip_box([-50, -50, 20, 20], 100, 200, margin=10) == \
        [0., 0., 10., 10.]
    x, y, w, h = clip_box([190, 95, 40, 40], 100, 200, margin=10)
    assert x + w <= 200 and y + h <= 100 and w >= 10 and h >= 10
    x, y, w, h = clip_box([5, 5, 100, 100], 8, 8, margin=10)
    assert (x, y, w, h) == (0., 0., 8., 8.)  # margin capped by the image
    win = hann2d((16, 16))
    assert win.shape == (1, 1, 16, 16) and win.max() <= 1 and win.min() > 0
    assert torch.allclose(win, win.flip(-1)) and torch.allclose(
        win, win.transpose(-1, -2))


def test_hann_hand_values():
    # OSTrack lib/test/utils/hann.py: centred 0.5 * (1 - cos(2 pi k / (n + 1))),
    # k = 1..n (no zero at the ends); n = 3: angles pi/2, pi, 3pi/2
    torch.testing.assert_close(hann1d(3), torch.tensor([0.5, 1., 0.5]))
    # n = 4: angles 2pi/5 and 4pi/5; cos(2pi/5) = (sqrt 5 - 1) / 4
    c = (math.sqrt(5.) - 1) / 4
    a, b = 0.5 * (1 - c), 0.5 * (1 + (math.sqrt(5.) + 1) / 4)  # 0.34549, 0.90451
    torch.testing.assert_close(hann1d(4), torch.tensor([a, b, b, a]))
    # not centred: 0.5 * (1 + cos(2 pi k / (n + 2))), k = 0..n//2, mirrored
    # (n = 4: cos of 0, pi/3, 2pi/3 -> 1, 0.75, 0.25, then 0.75 again)
    torch.testing.assert_close(hann1d(4, centered=False), torch.tensor([1., .75, .25, .75]))
    # (n = 3: cos of 0, 2pi/5 -> 1, 0.5 * (1 + c) = 0.65451, then mirrored)
    torch.testing.assert_close(hann1d(3, centered=False),
                               torch.tensor([1., 0.5 * (1 + c), 0.5 * (1 + c)]))
    # 2D: the outer product, rows from size[0], columns from size[1]
    win = hann2d((3, 4))
    assert win.shape == (1, 1, 3, 4)
    torch.testing.assert_close(win[0, 0], torch.tensor([0.5, 1., 0.5])[:, None] *
                               torch.tensor([a, b, b, a])[None])
    assert win[0, 0, 1, 1] == pytest.approx(b) and win[0, 0, 0, 0] == pytest.approx(a / 2)


def test_cal_bbox_hand_case():
    # OSTrack lib/models/layers/head.py CenterPredictor.cal_bbox: the cell of the
    # maximum score (row-major index), cx = (col + off_x) / fs,
    # cy = (row + off_y) / fs, (w, h) = the size map at that cell
    head = MODELS.build(dict(type='CenterHead', in_channels=8, channels=8, feat_size=4))
    score = torch.zeros(2, 1, 4, 4)
    score[0, 0, 2, 1] = 0.9  # sample 0: row 2, col 1
    score[0, 0, 1, 2] = 0.5  # lower: ignored
    score[1, 0, 0, 3] = 0.7  # sample 1: row 0, col 3
    size = torch.full((2, 2, 4, 4), 0.05)
    size[0, :, 2, 1] = torch.tensor([0.3, 0.4])
    size[0, :, 1, 2] = torch.tensor([0.9, 0.9])
    size[1, :, 0, 3] = torch.tensor([0.2, 0.1])
    offset = torch.zeros(2, 2, 4, 4)
    offset[0, :, 2, 1] = torch.tensor([0.25, 0.5])
    offset[1, :, 0, 3] = torch.tensor([0.75, 0.125])
    box, best = head.cal_bbox(score, size, offset, return_score=True)
    torch.testing.assert_close(box, torch.tensor([[(1 + .25) / 4, (2 + .5) / 4, .3, .4],
                                                  [(3 + .75) / 4, (0 + .125) / 4, .2, .1]]))
    torch.testing.assert_close(best, torch.tensor([[0.9], [0.7]]))
    # a transposed reading (row <-> col) would give cx 0.5625 for sample 0
    assert box[0, 0].item() == 0.3125 and box[0, 1].item() == 0.625


def test_init_box_errors():
    model = tiny_droptrack().eval()
    frame = np.zeros((60, 80, 3), np.uint8)
    with pytest.raises(ValueError, match='degenerate'):
        model.init_track(frame, [10, 10, 0, 5])
    with pytest.raises(ValueError, match='degenerate'):
        model.init_track(frame, [10, 10, 5, -1])
    with pytest.raises(ValueError, match='outside'):
        model.init_track(frame, [100, 10, 5, 5])
    with pytest.raises(ValueError, match='outside'):
        model.init_track(frame, [-20, -20, 10, 10])
    with pytest.raises(ValueError, match='non-finite'):
        model.init_track(frame, [float('nan'), 1, 5, 5])


def test_tracker_target_leaves_and_returns():
    from mmdropmae.datasets.synthetic.sot import render_sot_sequence
    seq = render_sot_sequence(40, (128, 96), seed=3, leave_frame=True)
    assert seq.out_of_view.any()  # the target really leaves the frame
    torch.manual_seed(0)
    model = tiny_droptrack().eval()
    state = model.init_track(seq.frames[0], seq.boxes[0])
    h, w = seq.frames[0].shape[:2]
    for frame in seq.frames[1:]:
        box, score = model.track(frame, state)
        assert np.isfinite(box).all() and math.isfinite(score)
        assert box[0] >= 0 and box[1] >= 0 and box[2] > 0 and box[3] > 0
        assert box[0] + box[2] <= w + 1e-4 and box[1] + box[3] <= h + 1e-4
    assert state.frame_id == len(seq.frames) - 1


def test_tracker_survives_nan_network_output():
    model = tiny_droptrack().eval()
    frame = np.random.RandomState(0).randint(0, 255, (60, 80, 3), np.uint8)
    state = model.init_track(frame, [30, 20, 10, 10])
    with torch.no_grad():
        for p in model.head.size.parameters():
            p.fill_(float('nan'))
    box, score = model.track(frame, state)
    assert np.isfinite(box).all()
    np.testing.assert_allclose(box, [30, 20, 10, 10])


def test_predict_keeps_state_per_video():
    from mmdropmae.datasets.synthetic.sot import render_sot_sequence
    seq = render_sot_sequence(5, (96, 64), seed=1)
    model = tiny_droptrack().eval()

    def sample(fid, vid=0):
        b = seq.boxes[0].astype(np.float32)
        return BaseDataElement(metainfo=dict(
            frame_id=fid, video_id=vid, video_name=f'v{vid}', video_length=5,
            init_bbox=np.concatenate([b[:2], b[:2] + b[2:]]),
            ori_shape=(64, 96)))

    out = []
    for fid in range(5):
        data = model.data_preprocessor(
            dict(inputs=[seq.frames[fid]], data_samples=[sample(fid)]))
        out += model.test_step(dict(inputs=[seq.frames[fid]],
                                    data_samples=[sample(fid)]))
        assert data['inputs'][0] is seq.frames[fid]  # frames stay on host
    b = seq.boxes[0]
    np.testing.assert_allclose(out[0].pred_bbox,
                               [b[0], b[1], b[0] + b[2], b[1] + b[3]])
    for o in out:
        assert o.pred_bbox.shape == (4, ) and np.isfinite(o.pred_bbox).all()
        assert o.time >= 0 and o.frame_id in range(5)
    # the metric's parser accepts the outputs
    from mmdropmae.evaluation.metrics.sot_metric import parse_sot_sample
    rec = parse_sot_sample(out[3])
    assert rec['frame_id'] == 3 and rec['video_length'] == 5
    with pytest.raises(RuntimeError, match='before its frame 0'):
        model.test_step(dict(inputs=[seq.frames[1]],
                             data_samples=[sample(1, vid=7)]))
    with pytest.raises(RuntimeError, match='in order'):
        model.test_step(dict(inputs=[seq.frames[3]],
                             data_samples=[sample(3)]))


@pytest.mark.parametrize('name,sizes', [
    ('droptrack_vit-b16_128-256_got10k.py', (128, 256, 4.)),
    ('droptrack_vit-b16_128-256_full.py', (128, 256, 4.)),
    ('droptrack_vit-b16_192-384_full.py', (192, 384, 5.)),
    ('droptrack_tiny_synthetic.py', (64, 128, 4.)),
])
def test_configs_build(name, sizes):
    import os.path as osp

    from mmengine.config import Config
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(repo, 'configs', 'droptrack', name))
    assert cfg.model.backbone.init_cfg['type'] == 'Pretrained'
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert (model.template_size, model.search_size,
            model.search_factor) == sizes
    assert model.head.feat_size == sizes[1] // 16
    assert model.ce_loc in ((3, 6, 9), (1, 2, 3))
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult == 0.1
    assert cfg.optim_wrapper.optimizer.weight_decay == 1e-4
    milestone = cfg.param_scheduler[0].milestones[0]
    assert milestone == int(0.8 * cfg.train_cfg.max_epochs) or \
        name.startswith('droptrack_tiny')
    crop = [t for t in cfg.train_dataloader.dataset.pipeline
            if t.type == 'SOTPairCrop'][0]
    assert (crop.template_size, crop.search_size,
            crop.search_factor) == sizes
