# DropTrack / OSTrack fine-tuning schedule, GOT-10k protocol:
# OSTrack experiments/ostrack/vitb_256_mae_ce_32x4_got10k_ep100.yaml
#   EPOCH 100, BATCH_SIZE 32 x 4 GPUs = 128, LR 4e-4,
#   BACKBONE_MULTIPLIER 0.1, WEIGHT_DECAY 1e-4, AdamW,
#   scheduler step: LR_DROP_EPOCH 80 (x0.1, i.e. at 80% of the epochs),
#   GRAD_CLIP_NORM 0.1.
# DropTrack (jimmy-dq/DropTrack vitb_384_mae_ce_32x4_got10k_ep100.yaml) uses
# the same schedule with LR 2.5e-4 for its 384 variant.
max_epochs = 100
lr = 4e-4  # for a total batch of 128 (32 x 4)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# no validation loop (OSTrack only logs validation losses)
val_dataloader = None
val_evaluator = None
val_cfg = None
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
