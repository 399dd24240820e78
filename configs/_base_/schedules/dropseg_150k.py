# DropSeg schedule: STCN's main-training stage (hkchengrex/STCN,
# util/hyper_para.py stage 3: Adam, lr 1e-5, 150K iterations, lr x0.1 at
# 125K; model/model.py: weight decay 1e-7; batch 4 per GPU x 2 GPUs),
# counted as 100 epochs of 1500 iterations of 8 clips.
max_epochs = 100
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
val_dataloader = None  # no validation loop
val_evaluator = None
val_cfg = None
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-5, weight_decay=1e-7),
    clip_grad=None)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[125000], gamma=0.1),
]
auto_scale_lr = dict(base_batch_size=8, enable=False)
