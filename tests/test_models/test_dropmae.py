import torch

from mmdropmae.models import MAEPretrainHead, patchify, unpatchify
from mmdropmae.models.layers import ASADAttention

from .test_vision_transformer import tiny_dropmae


def test_patchify_roundtrip_and_order():
    imgs = torch.arange(2 * 3 * 32 * 32).float().view(2, 3, 32, 32)
    patches = patchify(imgs, 16)
    assert patches.shape == (2, 4, 16 * 16 * 3)
    # patch 1 is the top-right patch; channel is the fastest index
    assert patches[0, 1, 0] == imgs[0, 0, 0, 16]
    assert patches[0, 1, 1] == imgs[0, 1, 0, 16]
    torch.testing.assert_close(unpatchify(patches, 16, (2, 2)), imgs)


def test_norm_pix_loss_hand_case():
    head = MAEPretrainHead(patch_size=2, norm_pix=True)
    frames = torch.tensor([1., 2., 3., 4.]).view(1, 1, 1, 2, 2)
    frames = frames.expand(1, 2, 1, 2, 2).clone()
    target = head.construct_target(frames)
    mean, var = 2.5, torch.tensor([1., 2., 3., 4.]).var()
    expected = (torch.tensor([1., 2., 3., 4.]) - mean) / (var + 1e-6)**.5
    torch.testing.assert_close(target[0, 0], expected)
    # loss uses masked patches only: wrong predictions at visible patches
    # cost nothing
    pred = target.clone()
    pred[0, 1] += 10.
    mask = torch.tensor([[1., 0.]])
    assert head.loss(pred, frames, mask)['loss_rec'] == 0
    mask = torch.tensor([[0., 1.]])
    torch.testing.assert_close(head.loss(pred, frames, mask)['loss_rec'],
                               torch.tensor(100.))


def test_dropmae_train_step_and_twinmae_flag():
    torch.manual_seed(0)
    model = tiny_dropmae()
    asad = [m for m in model.modules() if isinstance(m, ASADAttention)]
    assert len(asad) == 2 and all(m.drop_prob == 0.1 for m in asad)
    assert not any(isinstance(m, ASADAttention) for m in model.backbone.modules())
    data = dict(inputs=[
        torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
        for _ in range(4)
    ])
    batch = model.data_preprocessor(data, True)
    assert batch['inputs'].shape == (4, 2, 3, 64, 64)
    model.train()
    losses = model(**batch, mode='loss')
    losses['loss_rec'].backward()
    assert model.backbone.temporal_pos_embed_x.grad is not None
    assert model.neck.decoder_temporal_pos_embed_z.grad is not None
    assert model.backbone.pos_embed.grad is None  # fixed table
    twin = tiny_dropmae(drop_prob=0.)
    twin.load_state_dict(model.state_dict())
    model.eval()
    twin.eval()
    torch.manual_seed(1)
    a = model(**batch, mode='loss')['loss_rec']
    torch.manual_seed(1)
    b = twin(**batch, mode='loss')['loss_rec']
    torch.testing.assert_close(a, b)  # ASAD off in eval
    model.train()
    twin.train()
    torch.manual_seed(1)
    a = model(**batch, mode='loss')['loss_rec']
    torch.manual_seed(1)
    b = twin(**batch, mode='loss')['loss_rec']
    assert not torch.allclose(a, b)


def test_reconstruct_keeps_visible_structure():
    torch.manual_seed(0)
    model = tiny_dropmae().eval()
    frames = torch.randn(2, 2, 3, 64, 64)
    out = model.reconstruct(frames)
    assert out['pred'].shape == frames.shape
    assert out['mask'].shape == (2, 2, 1, 64, 64)
    assert (out['mask'].flatten(1).mean(1) == 0.75).all()
    samples = model(frames, mode='predict')
    assert len(samples) == 2 and samples[0].pred.shape == (2, 3, 64, 64)
    # a perfect normalised prediction maps back to the input frames
    model.neck.forward = lambda latent, ids: model.head.construct_target(
        frames)
    torch.testing.assert_close(
        model.reconstruct(frames)['pred'], frames, rtol=1e-4, atol=1e-4)
    assert model.reconstruct(frames)['loss'].abs().max() < 1e-8
