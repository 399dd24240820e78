# DropFlow ViT-B/16, stage 2: FlyingThings3D clean + final (C+T), from the
# Chairs stage; validated on Sintel training (clean) as RAFT.
#
#   python tools/train.py configs/flow/dropflow_vit-b16_things.py \
#       --cfg-options load_from=work_dirs/dropflow_vit-b16_chairs/iter_100000.pth
_base_ = [
    '../_base_/models/dropflow_vit-base-p16.py',
    '../_base_/datasets/things.py',
    '../_base_/schedules/flow_things_100k.py',
    '../_base_/default_runtime.py',
]
model = dict(test_cfg=dict(num_iters=32))  # RAFT validate_sintel: 32 iterations
load_from = 'work_dirs/dropflow_vit-b16_chairs/iter_100000.pth'
# iteration-based: checkpoints every 5k steps (RAFT's VAL_FREQ), logs by iteration
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=5000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
