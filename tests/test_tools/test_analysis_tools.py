"""Tests of tools/analysis_tools/temporal_matching.py and of the probe it
uses (:func:`mmdropmae.apis.probe_temporal_matching`)."""
import csv
import json
import os.path as osp
import subprocess
import sys
import textwrap

import matplotlib.image as mpimg
import pytest
import torch

from mmdropmae.apis import probe_temporal_matching
from mmdropmae.apis.temporal_matching import decoder_attention_layers
from mmdropmae.models.utils import mmdropmae_to_reference
from tests.test_models.test_vision_transformer import tiny_dropmae
from tests.utils import load_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'temporal_matching.py')
TINY_CONFIG = osp.join(REPO, 'configs', 'dropmae',
                       'pretrain_tiny_synthetic.py')


@pytest.fixture
def tiny_setup(tmp_path):
    """A config inheriting the tiny pre-training config (made smaller) and
    two checkpoints of it: one ours (MMEngine), one in the reference
    layout."""
    from mmengine.config import Config

    from mmdropmae.registry import MODELS
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    config = tmp_path / 'tiny.py'
    config.write_text(textwrap.dedent(f"""\
        _base_ = [{TINY_CONFIG!r}]
        model = dict(
            backbone=dict(arch=dict(embed_dims=32, num_layers=1,
                                    num_heads=2)),
            neck=dict(embed_dims=32, decoder_embed_dims=32,
                      decoder_depth=3, decoder_num_heads=2))
        """))
    cfg = Config.fromfile(str(config))
    ckpts = []
    for seed, layout in [(0, 'ours'), (1, 'reference')]:
        torch.manual_seed(seed)
        state = MODELS.build(cfg.model).state_dict()
        path = tmp_path / f'{layout}.pth'
        if layout == 'ours':
            torch.save({'meta': {}, 'state_dict': state}, path)
        else:
            torch.save({'model': mmdropmae_to_reference(state)}, path)
        ckpts.append(path)
    return config, ckpts


def _read_csv(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_tool_writes_figures_and_table(tmp_path, tiny_setup,
                                       synthetic_video_root):
    config, (ours, ref) = tiny_setup
    out_dir = tmp_path / 'analysis'
    proc = subprocess.run(
        [sys.executable, TOOL, str(config), str(ours), '--data-root',
         str(synthetic_video_root), '--num-pairs', '5', '--batch-size', '2',
         '--num-vis', '2', '--out-dir', str(out_dir),
         '--compare', str(config), str(ref), '--labels', 'DropMAE', 'TwinMAE'],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=180)
    assert proc.returncode == 0, proc.stdout
    assert 'DropMAE between' in proc.stdout and 'TwinMAE within' in proc.stdout

    rows = _read_csv(out_dir / 'attention_per_layer.csv')
    for label in ('DropMAE', 'TwinMAE'):
        mine = [r for r in rows if r['model'] == label]
        assert [int(r['layer']) for r in mine] == [0, 1, 2]  # decoder depth
        for r in mine:
            within, between = float(r['within']), float(r['between'])
            assert 0 < within < 1 and 0 < between < 1
            assert abs(within + between - 1) < 1e-4
            assert int(r['num_pairs']) == 5
    # different weights, same pairs and masks: different numbers
    assert [r['between'] for r in rows[:3]] != [r['between'] for r in rows[3:]]

    for name in ('attention_per_layer.png', 'f_tem_0.png', 'f_tem_1.png',
                 'reconstruction.png'):
        img = mpimg.imread(str(out_dir / name))
        assert img.ndim == 3 and img.shape[0] > 50 and img.shape[1] > 50
    assert not (out_dir / 'f_tem_2.png').exists()
    summary = json.loads((out_dir / 'summary.json').read_text())
    assert [m['label'] for m in summary['models']] == ['DropMAE', 'TwinMAE']
    assert len(summary['visualised_pairs']) == 2
    assert summary['visualised_pairs'][0]['filename'].endswith('.mp4')


def test_tool_is_deterministic_and_checks_inputs(tmp_path, tiny_setup,
                                                 synthetic_video_root):
    tool = load_script('tools/analysis_tools/temporal_matching.py')
    config, (ours, ref) = tiny_setup
    common = ['--data-root', str(synthetic_video_root), '--num-pairs', '3',
              '--batch-size', '3', '--num-vis', '1']
    for run in ('a', 'b'):
        assert tool.main([str(config), str(ours), *common, '--out-dir',
                          str(tmp_path / run)]) == 0
    first = _read_csv(tmp_path / 'a' / 'attention_per_layer.csv')
    assert first == _read_csv(tmp_path / 'b' / 'attention_per_layer.csv')
    assert [r['model'] for r in first] == ['ours'] * 3  # default label

    # an encoder-only checkpoint cannot be probed
    enc = tmp_path / 'enc.pth'
    state = torch.load(ref, weights_only=True)['model']
    torch.save({'model': {k: v for k, v in state.items()
                          if not k.startswith(('decoder', 'mask_token'))}},
               enc)
    with pytest.raises(tool.CheckpointError, match='no decoder'):
        tool.main([str(config), str(enc), *common])
    # a checkpoint of another architecture
    with pytest.raises(tool.CheckpointError, match='does not fit'):
        tool.main([TINY_CONFIG, str(ours), *common])
    with pytest.raises(SystemExit):
        tool.main([str(config), str(ours), *common, '--labels', 'a', 'b'])


def _forced_attention(layer, attn):
    """Make a decoder attention layer record ``attn`` and pass tokens on."""

    def forward(x, attn_mask=None, attn_rows=None):
        if layer.keep_attn:
            layer.last_attn = attn.expand(x.shape[0], -1, -1, -1).clone()
        return torch.zeros_like(x)

    layer.forward = forward


def _hand_made_attention(n, heads_within):
    """(1, H, 2N, 2N): a query of frame t puts ``w_t`` on its own frame
    (uniformly) and ``1 - w_t`` on the token at its position in the other
    frame; ``heads_within`` lists (w_x, w_z) per head."""
    attn = torch.zeros(1, len(heads_within), 2 * n, 2 * n)
    eye = torch.eye(n)
    for h, (w_x, w_z) in enumerate(heads_within):
        attn[0, h, :n, :n] = w_x / n
        attn[0, h, :n, n:] = (1 - w_x) * eye
        attn[0, h, n:, n:] = w_z / n
        attn[0, h, n:, :n] = (1 - w_z) * eye
    return attn


def test_probe_on_hand_made_attention():
    torch.manual_seed(0)
    model = tiny_dropmae(img_size=64)  # 2 decoder layers, 2 heads, N = 16
    layers = decoder_attention_layers(model)
    first = _hand_made_attention(16, [(0.2, 0.2), (0.4, 0.4)])
    last = _hand_made_attention(16, [(0.1, 0.5), (0.3, 0.9)])
    _forced_attention(layers[0], first)
    _forced_attention(layers[1], last)
    out = probe_temporal_matching(model, torch.randn(3, 2, 3, 64, 64))

    assert out['within'] == pytest.approx([0.3, 0.45], abs=1e-6)
    assert out['between'] == pytest.approx([0.7, 0.55], abs=1e-6)
    # f_tem: max attention to the other frame, mean over heads, per frame
    assert out['f_tem'].shape == (3, 2, 4, 4)
    torch.testing.assert_close(out['f_tem'][:, 0],
                               torch.full((3, 4, 4), (0.9 + 0.7) / 2))
    torch.testing.assert_close(out['f_tem'][:, 1],
                               torch.full((3, 4, 4), (0.5 + 0.1) / 2))
    assert out['pred'].shape == (3, 2, 3, 64, 64)
    # the layers are left as they were: not keeping weights, none kept
    assert all(not a.keep_attn and a.last_attn is None for a in layers)
    assert model.training


def test_probe_uniform_attention_of_a_real_model():
    """Zero query/key weights: every decoder query attends uniformly."""
    torch.manual_seed(0)
    model = tiny_dropmae(img_size=64)
    for blk in model.neck.decoder_blocks:
        with torch.no_grad():
            blk.attn.qkv.weight[:32].zero_()  # q and k (16 channels each)
            blk.attn.qkv.bias[:32].zero_()
    out = probe_temporal_matching(model, torch.randn(2, 2, 3, 64, 64))
    assert out['within'] == pytest.approx([0.5, 0.5], abs=1e-6)
    assert out['between'] == pytest.approx([0.5, 0.5], abs=1e-6)
    torch.testing.assert_close(out['f_tem'], torch.full((2, 2, 4, 4), 1 / 32))
