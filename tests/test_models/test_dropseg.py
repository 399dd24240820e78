"""DropSeg: shapes, soft aggregation, bootstrapped CE on a hand case, and
inference on a synthetic video with an object entering mid-video and one
vanishing."""
import numpy as np
import pytest
import torch

from mmdropmae.models.vos import (BootstrappedCELoss, DropSeg, aggregate_objects,
                                  bootstrap_top_p)

TINY_VIT = dict(type='VisionTransformer', arch=dict(embed_dims=32, num_layers=1, num_heads=2),
                img_size=32, patch_size=8)


def _model(**kw):
    torch.manual_seed(0)
    return DropSeg(backbone=TINY_VIT, key_dims=8, value_dims=16, decoder_channels=8,
                   mem_topk=4, loss=dict(type='BootstrappedCELoss', start_warm=10,
                                         end_warm=20, top_p=0.15), **kw)


def test_bootstrap_top_p_schedule():
    assert bootstrap_top_p(0, 10, 20, 0.15) == 1.0
    assert bootstrap_top_p(10, 10, 20, 0.15) == pytest.approx(1.0)
    assert bootstrap_top_p(15, 10, 20, 0.15) == pytest.approx(0.575)
    assert bootstrap_top_p(20, 10, 20, 0.15) == pytest.approx(0.15)
    assert bootstrap_top_p(1000, 10, 20, 0.15) == pytest.approx(0.15)


def test_bootstrapped_ce_hand_case():
    # 1 x 2 classes x 1 x 4 pixels; target all class 0; the per-pixel CE
    # values are log(1 + e^d) for logit gaps d = [-4, 0, 2, 6] (class 1 - 0)
    d = torch.tensor([-4., 0., 2., 6.])
    logits = torch.stack([torch.zeros(4), d]).view(1, 2, 1, 4)
    target = torch.zeros(1, 1, 4, dtype=torch.long)
    ce = torch.log1p(torch.exp(d))
    loss_fn = BootstrappedCELoss(start_warm=10, end_warm=20, top_p=0.5)
    full, p = loss_fn(logits, target, it=0)  # before warm-up: plain mean
    assert p == 1.0 and full.item() == pytest.approx(ce.mean().item(), rel=1e-5)
    half, p = loss_fn(logits, target, it=20)  # hardest 50% = 2 pixels
    assert p == 0.5
    assert half.item() == pytest.approx(((ce[2] + ce[3]) / 2).item(), rel=1e-5)
    # ignored pixels leave the pool: hardest 50% of the 2 remaining
    target2 = torch.tensor([[[0, 0, 255, 255]]])
    part, _ = loss_fn(logits, target2, it=20)
    assert part.item() == pytest.approx(ce[1].item(), rel=1e-5)


def test_aggregate_objects():
    prob = torch.tensor([[0.9, 0.2], [0.0, 0.0]]).view(1, 2, 1, 2)  # O=2, W=2; obj 2 absent
    logits = aggregate_objects(prob)
    assert logits.shape == (1, 3, 1, 2)
    assert logits.argmax(1).flatten().tolist() == [1, 0]
    # an absent (all-zero) object never wins
    assert (logits.softmax(1)[:, 2] < 1e-5).all()


def test_aggregate_objects_hand_values():
    # STCN (hkchengrex/STCN model/aggregate.py aggregate): background
    # prod_o (1 - p_o), then logits log(p / (1 - p)) of [bg, p_1, ..., p_O].
    # p = (0.6, 0.5): bg = 0.4 * 0.5 = 0.2 -> logits log(1/4), log(3/2), 0;
    # their softmax is the odds normalised: (0.25, 1.5, 1) / 2.75
    prob = torch.tensor([0.6, 0.5]).view(1, 2, 1, 1)
    logits = aggregate_objects(prob)
    torch.testing.assert_close(logits.flatten(),
                               torch.tensor([np.log(0.25), np.log(1.5), 0.]).float())
    torch.testing.assert_close(logits.softmax(1).flatten(),
                               torch.tensor([0.25, 1.5, 1.]) / 2.75)
    # probabilities are clamped to [1e-7, 1 - 1e-7] before the logit: a
    # certain object and an absent one give finite logits, background and the
    # absent object log(1e-7 / (1 - 1e-7))
    edge = aggregate_objects(torch.tensor([1., 0.]).view(1, 2, 1, 1)).flatten()
    lim = float(np.log(1e-7 / (1 - 1e-7)))
    assert torch.isfinite(edge).all() and edge[1] > 15
    torch.testing.assert_close(edge[[0, 2]], torch.tensor([lim, lim]), rtol=1e-5, atol=1e-5)


def test_memory_read_hand_case():
    # identity key / value projections: aff = q k^T / sqrt(D); the top-k of
    # each query row are soft-maxed, the others get weight 0
    model = _model()
    model.key_proj = torch.nn.Identity()
    model.value_proj = torch.nn.Identity()
    model.mem_topk = 2
    r2 = float(np.sqrt(2.))
    query = torch.tensor([[[r2, 0.], [0., r2]]])  # 2 queries, D = 2
    mem = torch.tensor([[[3., 0.], [1., 5.], [-2., 7.]]])  # 3 memory tokens
    # query 0: aff (3, 1, -2) -> keeps tokens 0, 1 with softmax(3, 1)
    # query 1: aff (0, 5, 7) -> keeps tokens 2, 1 with softmax(7, 5)
    w0 = torch.tensor([1., np.exp(-2.)]).float() / (1 + np.exp(-2.))
    w1 = torch.tensor([np.exp(-2.), 1.]).float() / (1 + np.exp(-2.))
    expected = torch.stack([w0[0] * mem[0, 0] + w0[1] * mem[0, 1],
                            w1[0] * mem[0, 1] + w1[1] * mem[0, 2]])[None]
    out = model.memory_read(query, mem)
    torch.testing.assert_close(out, expected)
    # k >= memory size: the full softmax over all memory tokens
    model.mem_topk = 20
    w = torch.softmax(torch.tensor([3., 1., -2.]), 0)
    torch.testing.assert_close(model.memory_read(query, mem)[0, 0], w @ mem[0])
    # batch entries read only their own memory
    both = model.memory_read(torch.cat([query, query]), torch.cat([mem, mem.flip(1)]))
    torch.testing.assert_close(both[1, 0], w.flip(0) @ mem[0].flip(0))


def test_forward_shapes_and_loss():
    model = _model()
    imgs = torch.randn(2, 3, 3, 32, 48)
    masks = torch.zeros(2, 3, 32, 48, dtype=torch.long)
    masks[:, :, 4:12, 4:12] = 1
    masks[0, :, 20:28, 30:40] = 2
    outs = model(dict(imgs=imgs, masks=masks), mode='tensor')
    assert [o.shape for o in outs] == [(2, 3, 32, 48)] * 2
    # sample 1 has no object 2: its channel never wins
    assert (outs[0][1].softmax(0)[2] < 1e-5).all()
    logits = model.segment(imgs[:, 1], imgs[:, :2], torch.rand(2, 2, 2, 32, 48))
    assert logits.shape == (2, 2, 32, 48)
    losses = model.loss(dict(imgs=imgs, masks=masks))
    assert set(losses) >= {'loss_f1', 'loss_f2', 'top_p'}
    total = losses['loss_f1'] + losses['loss_f2']
    assert torch.isfinite(total)
    total.backward()
    assert model.mask_embed.weight.grad.abs().sum() > 0
    assert model.key_proj.weight.grad.abs().sum() > 0


def test_preprocessor_stacks_clips():
    model = _model()
    clip = dict(imgs=torch.randint(0, 255, (3, 3, 32, 32), dtype=torch.uint8),
                masks=torch.zeros(3, 32, 32, dtype=torch.uint8))
    out = model.data_preprocessor(dict(inputs=dict(imgs=[clip['imgs']] * 2,
                                                   masks=[clip['masks']] * 2),
                                       data_samples=[None, None]), True)
    assert out['inputs']['imgs'].shape == (2, 3, 3, 32, 32)
    assert out['inputs']['imgs'].dtype == torch.float32
    assert out['inputs']['masks'].dtype == torch.long


@pytest.mark.parametrize('max_mem', [None, 2])
def test_inference_entering_and_vanishing_objects(max_mem):
    model = _model(test_cfg=dict(mem_every=2, max_mem_frames=max_mem)).eval()
    T, H, W = 6, 30, 45  # not a multiple of the patch size: resized inside
    frames = torch.randint(0, 255, (T, 3, H, W), dtype=torch.uint8)
    init0 = np.zeros((H, W), np.uint8)
    init0[2:10, 2:10] = 1
    init0[15:25, 20:30] = 5  # object 5 "vanishes" (the model just predicts)
    init3 = np.zeros((H, W), np.uint8)
    init3[5:12, 30:40] = 7  # object 7 enters at frame 3
    preds = model.segment_video(frames, [1, 5, 7], {1: 0, 5: 0, 7: 3}, {0: init0, 3: init3})
    assert len(preds) == T
    assert all(p.shape == (H, W) for p in preds)
    assert set(np.unique(np.concatenate([p.ravel() for p in preds]))) <= {0, 1, 5, 7}
    assert (preds[0] == init0).all()  # reference frame keeps its masks
    assert (preds[3][init3 == 7] == 7).all()  # the new object at its first frame
    for t in range(3):
        assert not (preds[t] == 7).any()  # not predicted before it appears


def test_predict_returns_metric_samples():
    from mmengine.structures import BaseDataElement
    model = _model().eval()
    T, H, W = 3, 32, 32
    init = np.zeros((H, W), np.uint8)
    init[4:12, 4:12] = 2
    sample = BaseDataElement(metainfo=dict(
        video_name='v', frame_names=['a', 'b', 'c'], mask_paths=[None] * 3, num_frames=T,
        height=H, width=W, object_ids=[2], first_frames={2: 0}, init_masks={0: init}))
    with torch.no_grad():
        out = model.test_step(dict(inputs=[dict(frames=torch.zeros(T, 3, H, W, dtype=torch.uint8))],
                                   data_samples=[sample]))
    assert [o.frame_id for o in out] == [0, 1, 2]
    assert [o.frame_name for o in out] == ['a', 'b', 'c']
    assert all(o.video_name == 'v' and o.pred_mask.shape == (H, W) for o in out)
