# RAFT's FlyingChairs stage (princeton-vl/RAFT train_standard.sh and train.py):
# 100k steps, batch 12, AdamW lr 4e-4, weight decay 1e-4, eps 1e-8, OneCycleLR
# over num_steps + 100 (pct_start 0.05, linear annealing, no momentum cycle),
# gradient clipping at norm 1.0. Adapted to the ViT: the pre-trained encoder
# learns at 0.1x the head's rate (as the DropTrack/OSTrack fine-tuning).
num_steps = 100000
lr = 4e-4
weight_decay = 1e-4
train_cfg = dict(type='IterBasedTrainLoop', max_iters=num_steps, val_interval=num_steps + 1)
val_dataloader = None
val_evaluator = None
val_cfg = None
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=lr, weight_decay=weight_decay, eps=1e-8),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}),
    clip_grad=dict(max_norm=1.0, norm_type=2))
param_scheduler = [
    dict(type='OneCycleLR', eta_max=lr, total_steps=num_steps + 100, pct_start=0.05,
         anneal_strategy='linear', by_epoch=False),
]
