# A tiny DropMAE that pre-trains on CPU in minutes, on synthetic videos:
#   python tools/dataset_converters/make_synthetic_videos.py data/synthetic_videos
#   python tools/train.py configs/dropmae/pretrain_tiny_synthetic.py
_base_ = [
    '../_base_/models/dropmae_vit-base-p16.py',
    '../_base_/datasets/kinetics400_pairs.py',
    '../_base_/default_runtime.py',
]

img_size = 64  # 4 x 4 patches per frame, 32 tokens per pair
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=96,
            num_layers=4,
            num_heads=3,
            mlp_ratio=4.),
        img_size=img_size),
    neck=dict(
        num_patches=(img_size // 16)**2,
        embed_dims=96,
        decoder_embed_dims=64,
        decoder_depth=2,
        decoder_num_heads=4,
        attn_cfg=dict(type='ASADAttention', drop_prob=0.1)))

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=False,
    pin_memory=False,
    dataset=dict(
        data_root='data/synthetic_videos',
        pipeline=[
            dict(type='LoadFramePairFromVideo', frame_gap=50),
            dict(
                type='RandomResizedCrop',
                size=img_size,
                scale=(0.2, 1.0),
                interpolation='bicubic'),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackPairInputs'),
        ]))

max_epochs = 20
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-3, betas=(0.9, 0.95),  # higher than the
        # recipe's 1.5e-4 * 16 / 256 so that the tiny model learns in minutes
        weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=2,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 2,
        eta_min=0.0,
        by_epoch=True,
        begin=2,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=16, enable=False)

default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=5, max_keep_ckpts=2))
custom_hooks = [dict(type='TemporalMatchingMonitorHook', interval=50)]
env_cfg = dict(dist_cfg=dict(backend='gloo'))
