# 3D SOT schedule: Open3DSOT's length (cfgs/BAT_Car.yaml: epoch 60, batch 50,
# lr decay x0.2 every 12 epochs) with DropTrack's optimiser for a ViT
# (AdamW 4e-4 for batch 128, backbone x0.1, weight decay 1e-4, grad clip).
max_epochs = 60
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
val_dataloader = None
val_evaluator = None
val_cfg = None
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),  # batch 32
    paramwise_cfg=dict(custom_keys={
        'backbone': dict(lr_mult=0.1),
        'pos_embed_z': dict(lr_mult=0.1),
        'pos_embed_x': dict(lr_mult=0.1),
    }),
    clip_grad=dict(max_norm=0.1, norm_type=2))
param_scheduler = [
    dict(type='StepLR', by_epoch=True, step_size=12, gamma=0.2),  # BAT: 12, 0.2
]
auto_scale_lr = dict(base_batch_size=32, enable=False)
