# DropFlow ViT-B/16, stage 1 of RAFT's schedule: FlyingChairs (C).
#
#   python tools/train.py configs/flow/dropflow_vit-b16_chairs.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=DROPMAE_K700.pth
#   python tools/test.py configs/flow/dropflow_vit-b16_chairs.py CKPT   # chairs val EPE
#
# Schedule C -> T -> S -> K of princeton-vl/RAFT train_standard.sh (100k /
# 100k / 100k / 50k steps, crops 368x496 / 400x720 / 368x768 / 288x960,
# AdamW + OneCycle, clip 1.0); each stage loads the previous one
# (load_from). Adapted to the ViT: crops are multiples of the 16-pixel
# patch (RAFT's already are), the encoder learns at 0.1x the head's rate.
#
#   model     _base_/models/dropflow_vit-base-p16.py   (joint ViT + DPT + RAFT refinement)
#   data      _base_/datasets/chairs.py                (train split, RAFT chairs augmentation)
#   test      FlyingChairs val, FlowMetric protocol 'chairs'
#   schedule  _base_/schedules/flow_chairs_100k.py     (AdamW 4e-4, OneCycle, batch 12)
_base_ = [
    '../_base_/models/dropflow_vit-base-p16.py',
    '../_base_/datasets/chairs.py',
    '../_base_/schedules/flow_chairs_100k.py',
    '../_base_/default_runtime.py',
]
model = dict(test_cfg=dict(num_iters=24))  # RAFT validate_chairs: 24 iterations
# iteration-based: checkpoints every 5k steps (RAFT's VAL_FREQ), logs by iteration
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=5000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
