# BEVTrack ViT-B/16 (DropMAE encoder) on nuScenes Car instances, Open3DSOT's
# nuScenes protocol (cfgs/BAT_CAR_NUSCENES.yaml, M2_Track_nuscene.yaml):
# version v1.0-trainval, train on the devkit's `train_track` scenes, test on
# `val`, key frames only, at test time instances whose first box has >= 1
# LiDAR point; search area x1.25 + 2 m, template x1.25 (the KITTI values,
# inherited). Needs the optional nuscenes-devkit (requirements/nuscenes.txt).
#
#   data/nuscenes/{v1.0-trainval/*.json, samples/LIDAR_TOP/, maps/}
#   python tools/train.py configs/sot3d/bevtrack_vit-b16_nuscenes_car.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=DROPMAE.pth
#   python tools/test.py configs/sot3d/bevtrack_vit-b16_nuscenes_car.py CKPT
#   python tools/analysis_tools/eval_sot3d.py \
#       work_dirs/bevtrack_nuscenes_car/results/pred \
#       work_dirs/bevtrack_nuscenes_car/results/gt
#
# Boxes and points are in Open3DSOT's global frame (the dataset's default
# coord_frame='global': LoadSOT3DPoints moves each sweep's points sensor -> ego
# -> global with the item's points_to_frame), so the search area follows the
# target and not the ego motion; coord_frame='lidar' keeps each sweep's
# LIDAR_TOP frame (see docs/point_cloud_tracking.md, "nuScenes").
_base_ = ['./bevtrack_vit-b16_kitti_car.py']

data_root = 'data/nuscenes'
version = 'v1.0-trainval'
category_name = 'Car'

train_dataloader = dict(
    dataset=dict(
        type='NuScenesSOTDataset',
        data_root=data_root,
        version=version,
        split='train_track',
        category_name=category_name,
        coord_frame='global',
        key_frame_only=True))  # min_points: Open3DSOT's -1 for training (the default)
test_dataloader = dict(
    dataset=dict(
        type='NuScenesSOTDataset',
        data_root=data_root,
        version=version,
        split='val',
        category_name=category_name,
        coord_frame='global',
        key_frame_only=True,
        min_points=1))
test_evaluator = dict(outfile_prefix='work_dirs/bevtrack_nuscenes_car/results')
