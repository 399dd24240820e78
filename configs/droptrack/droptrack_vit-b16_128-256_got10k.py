# DropTrack ViT-B/16, template 128 / search 256, GOT-10k-only schedule
# (the GOT-10k protocol: train on GOT-10k train only).
#
#   python tools/train.py configs/droptrack/droptrack_vit-b16_128-256_got10k.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=DROPMAE.pth
#   python tools/test.py configs/droptrack/droptrack_vit-b16_128-256_got10k.py CKPT
#
# Schedule: OSTrack experiments/ostrack/vitb_256_mae_ce_32x4_got10k_ep100.yaml
#   EPOCH 100, SAMPLE_PER_EPOCH 60000, BATCH_SIZE 32 x 4 GPUs = 128,
#   LR 4e-4, BACKBONE_MULTIPLIER 0.1, WEIGHT_DECAY 1e-4, AdamW,
#   scheduler step: LR_DROP_EPOCH 80 (x0.1, i.e. at 80% of the epochs),
#   GRAD_CLIP_NORM 0.1, CE_START_EPOCH 20, CE_WARM_EPOCH 50,
#   MAX_SAMPLE_INTERVAL 200, search jitter scale 0.25 / centre 3.
# DropTrack (jimmy-dq/DropTrack vitb_384_mae_ce_32x4_got10k_ep100.yaml) uses
# the same schedule with LR 2.5e-4 for its 384 variant.
_base_ = [
    '../_base_/models/droptrack_vit-base-p16.py',
    '../_base_/default_runtime.py',
]

data_root = 'data/got10k'
template_size = 128
search_size = 256
template_factor = 2.0
search_factor = 4.0

train_pipeline = [
    dict(type='LoadSOTPairImages'),
    dict(type='SOTPairGrayscale', prob=0.05),  # joint ToGrayscale(0.05)
    dict(
        type='SOTPairCrop',
        template_size=template_size,
        search_size=search_size,
        template_factor=template_factor,
        search_factor=search_factor,
        template_scale_jitter=0.,
        template_center_jitter=0.,
        search_scale_jitter=0.25,
        search_center_jitter=3.),
    dict(type='SOTPairBrightnessJitter', brightness=0.2),  # ToTensorAndJitter
    dict(type='SOTPairRandomFlip', prob=0.5),
    dict(type='PackSOTPairInputs'),
]
train_dataloader = dict(
    batch_size=32,  # per GPU; 4 GPUs -> 128
    num_workers=10,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='SOTPairDataset',
        datasets=[
            dict(type='GOT10kDataset', data_root=data_root, split='train',
                 serialize_data=False),
        ],
        dataset_weights=[1],
        samples_per_epoch=60000,
        max_gap=200,
        pipeline=train_pipeline))

test_pipeline = [
    dict(type='LoadTrackingFrame'),
    dict(type='PackTrackingFrame'),
]
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='VideoSampler'),  # whole videos, frames in order
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='GOT10kDataset',
        data_root=data_root,
        split='test',
        test_mode=True,
        pipeline=test_pipeline))
# GOT-10k test has first-frame boxes only: write the server's layout
test_evaluator = dict(
    type='GOT10kMetric',
    outfile_prefix='work_dirs/droptrack_got10k/results/got10k_test',
    format_only=True)
# validation on GOT-10k val with AO/SR: use `val_dataloader`/`val_evaluator`
# as below with split='val' and format_only=False (not run during training
# by default, as OSTrack only logs validation losses).
val_dataloader = None
val_evaluator = None
val_cfg = None

max_epochs = 100
lr = 4e-4  # for a total batch of 128 (32 x 4)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=lr, weight_decay=1e-4),
    # BACKBONE_MULTIPLIER 0.1 on every parameter with 'backbone' in its name
    # (plus the learned template/search position embeddings, which live in
    # the backbone in OSTrack)
    paramwise_cfg=dict(custom_keys={
        'backbone': dict(lr_mult=0.1),
        'pos_embed_z': dict(lr_mult=0.1),
        'pos_embed_x': dict(lr_mult=0.1),
    }),
    clip_grad=dict(max_norm=0.1, norm_type=2))
param_scheduler = [
    # StepLR(step_size=LR_DROP_EPOCH=80, gamma=0.1)
    dict(type='MultiStepLR', by_epoch=True, milestones=[80], gamma=0.1),
]
auto_scale_lr = dict(base_batch_size=128, enable=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3,
                    save_last=True))
find_unused_parameters = True  # removed search tokens / unused pos_embed
