# A tiny BEVTrack that trains on CPU in about a minute on synthetic LiDAR
# scenes in the KITTI tracking layout (Open3D ray casting, exact boxes):
#
#   python tools/dataset_converters/make_synthetic_lidar.py data/synthetic_kitti \
#       --scenes 0-11,19,20 --num-frames 20 --beams 64 --azimuth-step 0.25
#   python tools/train.py configs/sot3d/bevtrack_tiny_synthetic.py \
#       --work-dir work_dirs/bevtrack_tiny
#   python tools/test.py configs/sot3d/bevtrack_tiny_synthetic.py \
#       work_dirs/bevtrack_tiny/epoch_8.pth --work-dir work_dirs/bevtrack_tiny
#   python tools/analysis_tools/eval_sot3d.py work_dirs/bevtrack_tiny/results/pred \
#       work_dirs/bevtrack_tiny/results/gt
#
# ViT 96-d, 4 blocks, 3 heads (the tiny DropMAE of
# configs/dropmae/pretrain_tiny_synthetic.py: pass its checkpoint with
# --cfg-options model.backbone.init_cfg.checkpoint=...; empty = random
# encoder), BEV template 64 px / search 128 px (4x4 and 8x8 tokens).
# Scenes 0-11 train, 19-20 test (Open3DSOT's test scene ids).
# What makes it learn in 240 iterations from a random encoder (measured in
# docs/point_cloud_tracking.md): a 16x16 heat map (upsample 2, 0.56 m cells
# for a car) with the search BEV as a skip input and 3 convs per branch (a
# receptive field of +-3 cells: from the visible faces to the box centre),
# and training references drawn 0.8 m (std) around the previous box, so that
# the tracker learns to find a target far from the centre again (after a
# frame without points) instead of a prior near the centre.
_base_ = ['./bevtrack_vit-b16_kitti_car.py']

data_root = 'data/synthetic_kitti'
template_size = 64
search_size = 128

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=96, num_layers=4, num_heads=3, mlp_ratio=4.),
        img_size=64,
        drop_path_rate=0.,
        init_cfg=dict(type='Pretrained', checkpoint='')),
    head=dict(in_channels=96, channels=64, num_convs=3, feat_size=search_size // 16,
              upsample=2, skip_channels=3),
    template_size=template_size,
    search_size=search_size)

train_pipeline = [
    dict(step, template_size=template_size, search_size=search_size,
         ref_jitter=(0.8, 0.8, 0.1, 0.087))
    if step['type'] == 'SOT3DPairToBEV' else step for step in _base_.train_pipeline
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=False,
    dataset=dict(data_root=data_root, scenes=list(range(12)), samples_per_epoch=480,
                 pipeline=train_pipeline))
test_dataloader = dict(
    num_workers=0,
    dataset=dict(data_root=data_root, scenes=[19, 20]))
test_evaluator = dict(outfile_prefix=None)  # tools/test.py: set with --cfg-options

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(
    optimizer=dict(lr=1e-3),
    # a random tiny encoder learns at the full rate
    paramwise_cfg=dict(custom_keys=dict(_delete_=True)),
    clip_grad=dict(max_norm=1.0))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[6], gamma=0.1)]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=4, max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
