# KITTI-2015 training pairs: the RAFT kitti stage (core/datasets.py
# fetch_dataloader: crop 288x960, scale 2^[-0.2, 0.4], no flips; sparse
# augmentation rules) and the validation scored as RAFT's validate_kitti (EPE
# = mean of per-image means over valid pixels, Fl-all pooled), with KITTI
# padding (height at the bottom).
kitti_root = 'data/KITTI'
crop_size = (288, 960)
train_pipeline = [
    dict(type='LoadFlowPair'),
    dict(type='FlowColorJitter', brightness=0.3, contrast=0.3, saturation=0.3,
         hue=0.3 / 3.14, asymmetric_prob=0.0),
    dict(type='FlowEraser', prob=0.5, bounds=(50, 100)),
    dict(type='FlowRandomResize', crop_size=crop_size, min_scale=-0.2, max_scale=0.4),
    dict(type='FlowRandomCrop', crop_size=crop_size),
    dict(type='PackFlowInputs'),
]
train_dataloader = dict(
    batch_size=6,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='KITTI2015Dataset', data_root=kitti_root, split='training',
                 pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='KITTI2015Dataset', data_root=kitti_root, split='training',
                 test_mode=True,
                 pipeline=[dict(type='LoadFlowPair'), dict(type='PackFlowInputs')]))
test_evaluator = dict(type='FlowMetric', protocol='kitti')
