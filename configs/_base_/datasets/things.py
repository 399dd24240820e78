# FlyingThings3D clean + final passes (TRAIN, left camera, into_future and
# into_past), the RAFT things stage (core/datasets.py fetch_dataloader: crop
# 400x720, scale 2^[-0.4, 0.8], flips); validated on Sintel training as RAFT
# (--validation sintel).
_base_ = ['./sintel_val.py']
things_root = 'data/FlyingThings3D'
crop_size = (400, 720)
things_pipeline = [
    dict(type='LoadFlowPair'),
    dict(type='FlowColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
         hue=0.5 / 3.14, asymmetric_prob=0.2),
    dict(type='FlowEraser', prob=0.5, bounds=(50, 100)),
    dict(type='FlowRandomResize', crop_size=crop_size, min_scale=-0.4, max_scale=0.8),
    dict(type='FlowRandomFlip', h_prob=0.5, v_prob=0.1),
    dict(type='FlowRandomCrop', crop_size=crop_size),
    dict(type='PackFlowInputs'),
]
train_dataloader = dict(
    batch_size=6,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(type='FlyingThings3DDataset', data_root=things_root, pass_name='clean',
                 split='TRAIN', pipeline=things_pipeline),
            dict(type='FlyingThings3DDataset', data_root=things_root, pass_name='final',
                 split='TRAIN', pipeline=things_pipeline),
        ]))
