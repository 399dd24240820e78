"""tools/test.py end to end with the tiny label-propagation config."""
import os
import os.path as osp
import re
import subprocess
import sys

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_tools_test_labelprop_tiny(tmp_path, synthetic_davis_root):
    from mmdropmae.models.backbones import VisionTransformer
    root, _ = synthetic_davis_root
    torch.manual_seed(0)
    vit = VisionTransformer(arch=dict(embed_dims=32, num_layers=2, num_heads=2, mlp_ratio=2.),
                            img_size=64, patch_size=16)
    # reference-style checkpoint ('model' key + a decoder key to drop)
    ckpt = tmp_path / 'vit_tiny.pth'
    torch.save({'model': dict(vit.state_dict(), **{'decoder_embed.weight': torch.zeros(2, 2)})},
               ckpt)
    env = dict(os.environ, PYTHONPATH=REPO, CUDA_VISIBLE_DEVICES='')
    proc = subprocess.run(
        [sys.executable, 'tools/test.py',
         'configs/correspondence/labelprop_vit-tiny_synthetic.py', str(ckpt),
         '--work-dir', str(tmp_path / 'work'),
         '--cfg-options', f'test_dataloader.dataset.data_root={root}'],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:]
    m = re.search(r'vos/J&F-Mean: ([\d.]+)', proc.stdout)
    assert m is not None, proc.stdout[-3000:]
    assert 0 <= float(m.group(1)) <= 1
    assert 'missing keys' not in proc.stdout
