# RAFT's FlyingThings3D stage (train_standard.sh): 100k steps, batch 6, lr
# 1.25e-4, weight decay 1e-4, from the Chairs checkpoint; otherwise as
# flow_chairs_100k.py.
_base_ = ['./flow_chairs_100k.py']
num_steps = 100000
lr = 1.25e-4
optim_wrapper = dict(optimizer=dict(lr=lr, weight_decay=1e-4))
param_scheduler = [
    dict(type='OneCycleLR', eta_max=lr, total_steps=num_steps + 100, pct_start=0.05,
         anneal_strategy='linear', by_epoch=False),
]
train_cfg = dict(max_iters=num_steps, val_interval=num_steps + 1)
