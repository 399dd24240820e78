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
#
#   model      _base_/models/droptrack_vit-base-p16.py  (128/256, CE 3/6/9, keep 0.7)
#   train      _base_/datasets/sot_pairs_got10k.py      (GOT-10k train, 60000 pairs/epoch)
#   test       _base_/datasets/got10k.py                (GOT-10k test, server files)
#   schedule   _base_/schedules/droptrack_100e.py       (AdamW 4e-4, x0.1 at epoch 80)
_base_ = [
    '../_base_/models/droptrack_vit-base-p16.py',
    '../_base_/datasets/sot_pairs_got10k.py',
    '../_base_/datasets/got10k.py',
    '../_base_/schedules/droptrack_100e.py',
    '../_base_/default_runtime.py',
]

test_evaluator = dict(outfile_prefix='work_dirs/droptrack_got10k/results/got10k_test')

default_hooks = dict(checkpoint=dict(interval=10))  # every 10 epochs, keep 3
