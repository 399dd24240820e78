# DropMAE ViT-B/16 on Kinetics-400, 1600 epochs (the paper's K400 model).
# 8 GPUs x 64 pairs x 8 accumulation steps = 4096 pairs per update.
#   bash tools/dist_train.sh configs/dropmae/pretrain_k400.py 8
_base_ = [
    '../_base_/models/dropmae_vit-base-p16.py',
    '../_base_/datasets/kinetics400_pairs.py',
    '../_base_/schedules/adamw_1600e.py',
    '../_base_/default_runtime.py',
]

default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=2))
custom_hooks = [
    # within- vs between-frame decoder attention and reconstructions
    dict(type='TemporalMatchingMonitorHook', interval=1000),
]
