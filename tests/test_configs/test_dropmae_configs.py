"""The pre-training configs carry the DropMAE recipe (arXiv 2304.00571 and
jimmy-dq/DropMAE: ``main_pretrain_kinetics.py``, ``models_mae.py``)."""
from pathlib import Path

import pytest
from mmengine import Config

CFG = Path(__file__).resolve().parents[2] / 'configs' / 'dropmae'


@pytest.mark.parametrize('name,epochs,drop', [('pretrain_k400', 1600, 0.1),
                                              ('pretrain_k400_fastdecode',
                                               1600, 0.1),
                                              ('pretrain_k700', 800, 0.1),
                                              ('twinmae_pretrain_k400', 1600,
                                               0.0)])
def test_recipe(name, epochs, drop):
    cfg = Config.fromfile(str(CFG / f'{name}.py'))
    model = cfg.model
    assert model.backbone.arch == 'base' and model.backbone.patch_size == 16
    assert model.backbone.img_size == 224
    assert model.backbone.norm_eps == 1e-6 and model.backbone.qkv_bias
    assert model.backbone.mask_ratio == 0.75
    assert (model.neck.decoder_embed_dims, model.neck.decoder_depth,
            model.neck.decoder_num_heads) == (512, 8, 16)
    assert model.neck.attn_cfg == dict(type='ASADAttention', drop_prob=drop)
    assert model.head.norm_pix
    assert list(model.data_preprocessor.mean) == [123.675, 116.28, 103.53]
    assert list(model.data_preprocessor.std) == [58.395, 57.12, 57.375]

    pipeline = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    loader = pipeline['LoadFramePairFromVideo']
    assert loader.frame_gap == 50
    # exact decoding everywhere but in the opt-in fast-decode config
    fast = name.endswith('fastdecode')
    assert loader.get('backend_kwargs', {}).get('skip_loop_filter',
                                                False) == fast
    assert list(pipeline) == [
        'LoadFramePairFromVideo', 'RandomResizedCrop', 'RandomFlip',
        'PackPairInputs'
    ]
    crop = pipeline['RandomResizedCrop']
    assert (crop.size, tuple(crop.scale), crop.interpolation) == (
        224, (0.2, 1.0), 'bicubic')
    assert pipeline['RandomFlip'].prob == 0.5

    optim = cfg.optim_wrapper
    total = (cfg.train_dataloader.batch_size * cfg.num_gpus *
             optim.accumulative_counts)
    assert cfg.train_dataloader.batch_size == 64 and total == 4096
    assert optim.optimizer.type == 'AdamW'
    assert optim.optimizer.lr == pytest.approx(1.5e-4 * 4096 / 256)
    assert tuple(optim.optimizer.betas) == (0.9, 0.95)
    assert optim.optimizer.weight_decay == 0.05
    assert optim.type == 'AmpOptimWrapper'  # mixed precision
    warmup, cosine = cfg.param_scheduler
    assert warmup.type == 'LinearLR' and warmup.end == 40
    assert cosine.type == 'CosineAnnealingLR'
    assert (cosine.begin, cosine.end) == (40, epochs)
    assert cosine.T_max == epochs - 40 and cosine.eta_min == 0
    assert cfg.train_cfg.max_epochs == epochs
