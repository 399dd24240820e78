# A tiny DropTAP that trains on CPU in a few minutes (96 iterations) on synthetic
# Kubric-like clips (64x64), evaluated on synthetic TAP-Vid DAVIS-layout
# clips through tools/test.py:
#
#   python tools/dataset_converters/make_synthetic_tap.py data/synthetic_tap/train.pkl \
#       --num-videos 32 --num-frames 24 --size 64x64 --seed 0
#   python tools/dataset_converters/make_synthetic_tap.py data/synthetic_tap/val.pkl \
#       --num-videos 4 --num-frames 24 --size 64x64 --num-points 24 --seed 1
#   python tools/train.py configs/tap/droptap_tiny_synthetic.py --work-dir work_dirs/droptap_tiny
#   python tools/test.py configs/tap/droptap_tiny_synthetic.py \
#       work_dirs/droptap_tiny/epoch_4.pth
_base_ = ['./droptap_vit-b16_kubric-synthetic_tapvid-davis.py']

data_root = 'data/synthetic_tap'
size = (64, 64)
clip_len = 8

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=96, num_layers=4, num_heads=3, mlp_ratio=4.),
        img_size=64,  # the tiny pre-training size
        patch_size=8,  # 8 x 8 tokens on 64 x 64 frames
        drop_path_rate=0.,
        init_cfg=None),  # or dict(type='Pretrained', checkpoint=TINY_DROPMAE)
    out_indices=(1, 3),
    neck=dict(out_channels=32, feature_stride=4, stem_channels=16),
    refiner=dict(hidden_dims=64, depth=2, motion_scale=16.),
    num_iters=3,
    corr_levels=3,
    corr_radius=3,
    loss_track=dict(delta=2.0),
    test_cfg=dict(window=clip_len, window_stride=clip_len // 2, num_iters=3, input_size=None))

train_pipeline = [
    dict(type='LoadTAPVidVideo', resolution=size),
    dict(type='TAPClipSample', clip_len=clip_len, num_points=32, min_visible=2),
    dict(type='TAPClipRandomFlip', prob=0.5, temporal_prob=0.5),
    dict(type='PackTAPInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=3,
        dataset=dict(type='TAPVidDataset', data_root=data_root, ann_file='train.pkl',
                     subset='davis', serialize_data=False, pipeline=train_pipeline)))
test_dataloader = dict(
    dataset=dict(data_root=data_root, ann_file='val.pkl', subset='davis',
                 pipeline=[
                     dict(type='LoadTAPVidVideo', resolution=size),
                     dict(type='TAPVidSampleQueries'),
                     dict(type='PackTAPInputs'),
                 ]))

max_epochs = 4
train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop', max_epochs=max_epochs)
optim_wrapper = dict(
    optimizer=dict(lr=1e-3, weight_decay=1e-4),  # higher than the recipe's so that
    # the tiny random-init model learns in a minute
    paramwise_cfg=dict(_delete_=True))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[3],
                        gamma=0.1)]
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(_delete_=True, type='CheckpointHook', by_epoch=True, interval=max_epochs,
                    max_keep_ckpts=1))
log_processor = dict(by_epoch=True)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
