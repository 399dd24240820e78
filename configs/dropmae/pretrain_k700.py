# DropMAE ViT-B/16 on Kinetics-700, 800 epochs (the paper's K700 model).
_base_ = ['./pretrain_k400.py']

max_epochs = 800
train_dataloader = dict(dataset=dict(data_root='data/kinetics700/train'))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=40,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 40,
        eta_min=0.0,
        by_epoch=True,
        begin=40,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
