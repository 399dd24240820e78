"""Tests of tools/model_converters: reference <-> mmdropmae checkpoints and
the encoder export."""
import argparse
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmdropmae.models import VisionTransformer
from mmdropmae.models.utils import mmdropmae_to_reference
from tests.test_models.test_vision_transformer import (TINY, reference_keys,
                                                       tiny_dropmae)
from tests.utils import load_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONVERTERS = osp.join(REPO, 'tools', 'model_converters')


to_ours = load_script('tools/model_converters/dropmae_to_mmdropmae.py')
to_ref = load_script('tools/model_converters/mmdropmae_to_dropmae.py')
export_encoder = load_script('tools/model_converters/export_encoder.py')


def _run(script, *args):
    proc = subprocess.run(
        [sys.executable, osp.join(CONVERTERS, script), *map(str, args)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=120)
    return proc.returncode, proc.stdout


def _load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


@pytest.fixture
def reference_ckpt(tmp_path):
    """A tiny DropMAE in the reference layout, with the training arguments
    the reference code stores (so weights_only loading fails)."""
    torch.manual_seed(0)
    model = tiny_dropmae()
    ref = mmdropmae_to_reference(model.state_dict())
    # the fixed sin-cos table is not random: make every tensor distinct
    ref = {k: v + torch.randn_like(v) * 1e-3 for k, v in ref.items()}
    path = tmp_path / 'dropmae_ref.pth'
    torch.save({'model': ref, 'epoch': 799,
                'args': argparse.Namespace(model='mae_vit_base')}, path)
    return path, ref


@pytest.mark.slow
def test_roundtrip_through_the_scripts(tmp_path, reference_ckpt):
    src, ref = reference_ckpt
    ours_path, back_path = tmp_path / 'ours.pth', tmp_path / 'back.pth'
    # one step as a user runs it, the other in-process (faster)
    rc, out = _run('dropmae_to_mmdropmae.py', src, ours_path)
    assert rc == 0, out
    assert '65 tensors' in out and 'decoder 2 blocks' in out
    assert to_ref.main([str(ours_path), str(back_path)]) == 0

    ours = _load(ours_path)
    assert set(ours) == {'meta', 'state_dict'}
    assert ours['meta']['epoch'] == 799
    assert ours['meta']['source_layout'] == 'dropmae-reference'
    model = tiny_dropmae()
    assert set(ours['state_dict']) == set(model.state_dict())
    model.load_state_dict(ours['state_dict'], strict=True)

    back = _load(back_path)
    assert set(back) == {'model'}
    assert set(back['model']) == reference_keys(2, 2)
    for k, v in ref.items():
        assert back['model'][k].dtype == v.dtype
        assert torch.equal(back['model'][k], v), k
    # no temporary files left next to the outputs
    assert sorted(os.listdir(tmp_path)) == [
        'back.pth', 'dropmae_ref.pth', 'ours.pth']


def test_trained_model_to_reference_and_back(tmp_path):
    """ours (as tools/train.py saves it) -> reference -> ours is lossless."""
    model = tiny_dropmae()
    src = tmp_path / 'epoch_1.pth'
    torch.save({'meta': {'epoch': 1}, 'state_dict': model.state_dict(),
                'optimizer': {'state': {}, 'param_groups': []},
                'message_hub': argparse.Namespace(log={})}, src)
    assert to_ref.main([str(src), str(tmp_path / 'ref.pth')]) == 0
    ref = _load(tmp_path / 'ref.pth')['model']
    assert set(ref) == reference_keys(2, 2)
    assert to_ours.main([str(tmp_path / 'ref.pth'),
                         str(tmp_path / 'ours.pth')]) == 0
    ours = _load(tmp_path / 'ours.pth')['state_dict']
    for k, v in model.state_dict().items():
        assert torch.equal(ours[k], v), k


def test_class_token_and_classifier_are_dropped(tmp_path, reference_ckpt,
                                                capsys):
    src, ref = reference_ckpt
    ckpt = _load(src)
    ckpt['model']['cls_token'] = torch.zeros(1, 1, 32)
    ckpt['model']['head.weight'] = torch.zeros(10, 32)
    torch.save(ckpt, src)
    assert to_ours.main([str(src), str(tmp_path / 'ours.pth')]) == 0
    assert 'cls_token' in capsys.readouterr().out
    ours = _load(tmp_path / 'ours.pth')['state_dict']
    tiny_dropmae().load_state_dict(ours, strict=True)


@pytest.mark.parametrize('img_size', [64, 128])
@pytest.mark.parametrize('source', ['reference', 'ours'])
def test_export_encoder_loads_into_vit(tmp_path, reference_ckpt, img_size,
                                       source):
    src, ref = reference_ckpt
    if source == 'ours':
        assert to_ours.main([str(src), str(tmp_path / 'ours.pth')]) == 0
        src = tmp_path / 'ours.pth'
    dst = tmp_path / 'encoder.pth'
    assert export_encoder.main([str(src), str(dst)]) == 0
    enc = _load(dst)
    assert set(enc) == {'model'}
    keys = set(enc['model'])
    assert keys == {k for k in reference_keys(2, 2)
                    if not k.startswith('decoder') and k != 'mask_token'}
    for k in keys:
        assert torch.equal(enc['model'][k], ref[k])

    vit = VisionTransformer(arch=TINY, img_size=img_size)
    result = vit.load_encoder_checkpoint(str(dst), strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []
    torch.testing.assert_close(vit.blocks[1].mlp.fc2.weight,
                               ref['blocks.1.mlp.fc2.weight'])
    assert vit.pos_embed.shape == (1, 1 + (img_size // 16)**2, 32)
    feats = vit(torch.randn(1, 3, img_size, img_size),
                torch.randn(1, 3, img_size, img_size))[0]
    assert torch.isfinite(feats).all()


def test_export_encoder_options(tmp_path, reference_ckpt):
    src, ref = reference_ckpt
    # MMEngine layout with a key prefix, pos_embed resized to 128 px
    dst = tmp_path / 'enc_backbone.pth'
    assert export_encoder.main([
        str(src), str(dst), '--prefix', 'backbone.', '--format', 'mmengine',
        '--img-size', '128'
    ]) == 0
    enc = _load(dst)
    assert enc['meta']['key_prefix'] == 'backbone.'
    assert all(k.startswith('backbone.') for k in enc['state_dict'])
    assert enc['state_dict']['backbone.pos_embed'].shape == (1, 65, 32)
    # the same interpolation as on load (from a plain-tensor export: the
    # source holds training arguments, which weights-only loading refuses)
    assert export_encoder.main([str(src), str(tmp_path / 'enc64.pth')]) == 0
    vit = VisionTransformer(arch=TINY, img_size=128)
    vit.load_encoder_checkpoint(str(tmp_path / 'enc64.pth'))
    torch.testing.assert_close(enc['state_dict']['backbone.pos_embed'],
                               vit.pos_embed.data)
    # a prefixed export is itself a valid input (and init_cfg loads it)
    assert export_encoder.main([str(dst), str(tmp_path / 'again.pth')]) == 0
    again = _load(tmp_path / 'again.pth')['model']
    assert torch.equal(again['pos_embed'], vit.pos_embed.data)
    vit2 = VisionTransformer(
        arch=TINY, img_size=128,
        init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    vit2.init_weights()
    torch.testing.assert_close(vit2.pos_embed, vit.pos_embed)
    assert export_encoder.main(
        [str(src), str(tmp_path / 'bad.pth'), '--img-size', '100']) == 1


def _write(path, obj):
    torch.save(obj, path)
    return path


@pytest.mark.parametrize('tool', [to_ours, to_ref, export_encoder])
def test_unrelated_checkpoints_give_clear_errors(tmp_path, tool, capsys):
    unrelated = _write(tmp_path / 'resnet.pth', {
        'state_dict': {'conv1.weight': torch.zeros(8, 3, 7, 7),
                       'fc.bias': torch.zeros(10)}})
    not_dict = _write(tmp_path / 'list.pth', [1, 2, 3])
    text = tmp_path / 'notes.pth'
    text.write_text('not a checkpoint\n')
    dst = tmp_path / 'out.pth'
    for src, message in [(unrelated, 'conv1.weight|no backbone'),
                         (not_dict, 'expected a dict'),
                         (text, 'cannot read it as a PyTorch checkpoint'),
                         (tmp_path / 'missing.pth', 'no such checkpoint')]:
        assert tool.main([str(src), str(dst)]) == 1
        err = capsys.readouterr().err
        assert str(src) in err, err
        assert any(m in err for m in message.split('|')), err
        assert not dst.exists()


def test_incomplete_or_misnamed_checkpoints(tmp_path, reference_ckpt,
                                            capsys):
    src, ref = reference_ckpt
    broken = dict(ref)
    del broken['blocks.1.attn.qkv.bias']
    broken['decoder_blocks.0.attn.extra'] = torch.zeros(1)
    _write(tmp_path / 'broken.pth', {'model': broken})
    assert to_ours.main([str(tmp_path / 'broken.pth'),
                         str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert 'blocks.1.attn.qkv.bias' in err
    assert 'decoder_blocks.0.attn.extra' in err

    # an encoder-only export is no full DropMAE checkpoint
    assert export_encoder.main([str(src), str(tmp_path / 'enc.pth')]) == 0
    assert to_ours.main([str(tmp_path / 'enc.pth'),
                         str(tmp_path / 'o.pth')]) == 1
    assert 'mask_token' in capsys.readouterr().err
    # the wrong direction points to the right script
    assert to_ref.main([str(src), str(tmp_path / 'o.pth')]) == 1
    assert 'dropmae_to_mmdropmae.py' in capsys.readouterr().err
    model = tiny_dropmae()
    _write(tmp_path / 'ours.pth', {'state_dict': model.state_dict()})
    assert to_ours.main([str(tmp_path / 'ours.pth'),
                         str(tmp_path / 'o.pth')]) == 1
    assert 'mmdropmae_to_dropmae.py' in capsys.readouterr().err
    assert not (tmp_path / 'o.pth').exists()


def test_failed_write_leaves_destination_untouched(tmp_path, reference_ckpt,
                                                   monkeypatch):
    src, _ = reference_ckpt
    dst = tmp_path / 'ours.pth'
    dst.write_bytes(b'previous')
    tools = sys.modules[to_ours.save_atomic.__module__]

    def broken_save(obj, f):
        f.write(b'partial')
        raise OSError('disk full')

    monkeypatch.setattr(tools.torch, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'):
        to_ours.convert(str(src), str(dst))
    assert dst.read_bytes() == b'previous'
    assert set(os.listdir(tmp_path)) == {'dropmae_ref.pth', 'ours.pth'}
