# DropTrack / OSTrack fine-tuning schedule on the full training mix:
# OSTrack experiments/ostrack/vitb_256_mae_ce_32x4_ep300.yaml
#   EPOCH 300, BATCH 32 x 4, LR 4e-4, LR_DROP_EPOCH 240 (80%);
#   optimizer, multipliers and clipping as the GOT-10k 100-epoch schedule.
_base_ = ['./droptrack_100e.py']

max_epochs = 300
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[240], gamma=0.1),
]
