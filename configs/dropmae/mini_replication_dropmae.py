# Mini replication of the paper's central finding at CPU scale: DropMAE arm.
# A small ViT pre-trained on the project's synthetic videos for a fixed number
# of iterations; the TwinMAE arm (mini_replication_twinmae.py) differs only in
# the ASAD drop ratio. Driven by tools/experiments/mini_replication.py, which
# writes the data, sets the seed and scales the model/schedule from its
# arguments (docs/mini_replication.md):
#   python tools/experiments/mini_replication.py
#
#   model      DropMAE: 128-d x 6 encoder, 128-d x 4 decoder, 4 heads, P=0.1
#   data       synthetic Kinetics-layout mp4 videos, pair sampling and
#              augmentation of the pre-training recipe (gap 50, RRC, flip)
#   schedule   AdamW(0.9, 0.95) lr 1e-3, wd 0.05, 10% linear warm-up + cosine,
#              iteration based
_base_ = [
    '../_base_/models/dropmae_vit-base-p16.py',
    '../_base_/datasets/kinetics400_pairs.py',
    '../_base_/default_runtime.py',
]

img_size = 96  # 6 x 6 patches per frame, 72 tokens per pair
embed_dims = 128
max_iters = 1000
warmup_iters = 100

model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=embed_dims,
            num_layers=6,
            num_heads=4,
            mlp_ratio=4.),
        img_size=img_size),
    neck=dict(
        num_patches=(img_size // 16)**2,
        embed_dims=embed_dims,
        decoder_embed_dims=128,
        decoder_depth=4,
        decoder_num_heads=4,
        attn_cfg=dict(type='ASADAttention', drop_prob=0.1)))

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    pin_memory=False,
    dataset=dict(
        data_root='work_dirs/mini_replication/data/videos',
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

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-3, betas=(0.9, 0.95),  # the tiny config's lr:
        # the recipe's 1.5e-4 * 32 / 256 would not move a small model in
        # a CPU budget
        weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='CosineAnnealingLR',
        T_max=max_iters - warmup_iters,
        eta_min=0.0,
        by_epoch=False,
        begin=warmup_iters,
        end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
auto_scale_lr = dict(base_batch_size=32, enable=False)

default_hooks = dict(
    logger=dict(interval=50),
    # the training-length curve of the report probes these checkpoints
    checkpoint=dict(
        by_epoch=False, interval=max_iters // 4, max_keep_ckpts=-1,
        save_last=True))
log_processor = dict(by_epoch=False)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, diff_rank_seed=False)
