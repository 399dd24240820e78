# KITTI tracking LiDAR for 3D SOT (Open3DSOT datasets/kitti.py): tracklets of
# one category; train scenes 0-16, test scenes 19-20 (val 17-18).
# data_root = the KITTI tracking `training` folder (velodyne/, label_02/,
# calib/).
data_root = 'data/kitti_tracking/training'
category_name = 'Car'

train_pipeline = [
    dict(type='LoadSOT3DPoints', on_error='warn'),
    dict(
        type='SOT3DPairToBEV',
        template_size=128,  # = model.template_size (BEV px)
        search_size=256,  # = model.search_size
        search_scale=1.25,  # Open3DSOT search_bb_scale
        search_offset=2.0,  # search_bb_offset (m)
        template_scale=1.25,  # model_bb_scale
        template_offset=0.0,  # model_bb_offset
        ref_jitter=(0.3, 0.3, 0.1, 0.087),  # m, m, m, rad (5 deg)
        template_jitter=(0.05, 0.05, 0.02, 0.03),
        z_range=(-2.0, 2.0),
        flip_prob=0.5),
    dict(type='PackSOT3DInputs'),
]
test_pipeline = [
    # a missing / corrupt .bin: empty cloud + warning; the tracker keeps the
    # last box (Open3DSOT: one point at the origin)
    dict(type='LoadSOT3DPoints', on_error='warn'),
    dict(type='PackSOT3DFrame'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='KittiTrackingSOTDataset',
        data_root=data_root,
        split='train',
        category_name=category_name,
        test_mode=False,
        pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='VideoSampler'),  # whole tracklets, frames in order
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='KittiTrackingSOTDataset',
        data_root=data_root,
        split='test',
        category_name=category_name,
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(type='SOT3DMetric', outfile_prefix='work_dirs/sot3d/results')
