# Point-tracker schedule after CoTracker (facebookresearch/co-tracker,
# train_on_kubric.py: AdamW, max lr 5e-4, eps 1e-8, OneCycleLR with 5%
# warm-up and cosine annealing, gradient norm clipped at 1.0;
# launch_training_kubric_online.sh: weight decay 5e-4), 50K iterations here
# (the DropMAE encoder is pre-trained; its learning rate is 0.1x).
max_iters = 50000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
val_dataloader = None
val_evaluator = None
val_cfg = None
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, weight_decay=5e-4, eps=1e-8),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}),
    clip_grad=dict(max_norm=1.0))
# CoTracker's one-cycle shape (warm-up over the first 5% from lr / 25, then
# cosine down to lr / 25 / 1e4) as a linear warm-up + cosine annealing, which
# keeps the per-group learning rates (the backbone's lr_mult)
warmup_iters = int(0.05 * max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1 / 25, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', eta_min_ratio=1 / 25 / 1e4, by_epoch=False,
         begin=warmup_iters, end=max_iters, T_max=max_iters - warmup_iters),
]
auto_scale_lr = dict(base_batch_size=32, enable=False)
