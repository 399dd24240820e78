# DropFlow ViT-B/16, stage 3: the Sintel mixture (C+T+S+K+H: 100 x Sintel
# clean + 100 x final + 200 x KITTI + 5 x HD1K + Things), gamma 0.85, from
# the Things stage; validated on Sintel training (clean; pass_name='final'
# for final).
#
#   python tools/train.py configs/flow/dropflow_vit-b16_sintel.py
#   python tools/test.py configs/flow/dropflow_vit-b16_sintel.py CKPT \
#       --cfg-options test_dataloader.dataset.pass_name=final
_base_ = [
    '../_base_/models/dropflow_vit-base-p16.py',
    '../_base_/datasets/sintel.py',
    '../_base_/schedules/flow_sintel_100k.py',
    '../_base_/default_runtime.py',
]
model = dict(loss=dict(gamma=0.85), test_cfg=dict(num_iters=32))
load_from = 'work_dirs/dropflow_vit-b16_things/iter_100000.pth'
# iteration-based: checkpoints every 5k steps (RAFT's VAL_FREQ), logs by iteration
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=5000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
