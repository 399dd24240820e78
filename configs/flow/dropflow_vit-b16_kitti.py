# DropFlow ViT-B/16, stage 4: KITTI-2015 fine-tuning (288x960 crops, no
# flips, gamma 0.85, 50k steps), from the Sintel stage; validated on KITTI
# training (EPE, Fl-all; KITTI padding at the bottom, 24 iterations as RAFT).
#
#   python tools/train.py configs/flow/dropflow_vit-b16_kitti.py
_base_ = [
    '../_base_/models/dropflow_vit-base-p16.py',
    '../_base_/datasets/kitti15.py',
    '../_base_/schedules/flow_kitti_50k.py',
    '../_base_/default_runtime.py',
]
model = dict(loss=dict(gamma=0.85), test_cfg=dict(pad_mode='kitti', num_iters=24))
load_from = 'work_dirs/dropflow_vit-b16_sintel/iter_100000.pth'
# iteration-based: checkpoints every 5k steps (RAFT's VAL_FREQ), logs by iteration
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=5000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
