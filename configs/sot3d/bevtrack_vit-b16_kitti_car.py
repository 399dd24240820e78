# BEVTrack ViT-B/16 (DropMAE encoder) on KITTI tracking Car tracklets,
# Open3DSOT protocol (train scenes 0-16, test 19-20, Success / Precision).
#
#   python tools/train.py configs/sot3d/bevtrack_vit-b16_kitti_car.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=DROPMAE.pth
#   python tools/test.py configs/sot3d/bevtrack_vit-b16_kitti_car.py CKPT
#   python tools/analysis_tools/eval_sot3d.py \
#       work_dirs/bevtrack_kitti_car/results/pred \
#       work_dirs/bevtrack_kitti_car/results/gt
#
#   model      _base_/models/bevtrack_sot3d_vit-base-p16.py  (BEV 128 / 256 px)
#   data       _base_/datasets/kitti_tracking_sot3d.py       (category Car)
#   schedule   _base_/schedules/sot3d_60e.py                 (60 epochs)
_base_ = [
    '../_base_/models/bevtrack_sot3d_vit-base-p16.py',
    '../_base_/datasets/kitti_tracking_sot3d.py',
    '../_base_/schedules/sot3d_60e.py',
    '../_base_/default_runtime.py',
]
category_name = 'Car'
train_dataloader = dict(dataset=dict(category_name=category_name))
test_dataloader = dict(dataset=dict(category_name=category_name))
test_evaluator = dict(outfile_prefix='work_dirs/bevtrack_kitti_car/results')
default_hooks = dict(checkpoint=dict(interval=10))
