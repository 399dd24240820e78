# The RAFT sintel (C+T+K+S+H) stage mixture (core/datasets.py
# fetch_dataloader): 100 x Sintel clean + 100 x Sintel final + 200 x KITTI-2015
# + 5 x HD1K + FlyingThings3D clean, crop 368x768, each with its own scale
# range (Sintel/Things 2^[-0.2, 0.6], KITTI 2^[-0.3, 0.5], HD1K
# 2^[-0.5, 0.2]); sparse sets use the SparseFlowAugmentor rules (jitter 0.3,
# no stretch, scattered resize, h-flip only). Validated on Sintel training.
_base_ = ['./sintel_val.py']
sintel_root = 'data/Sintel'
things_root = 'data/FlyingThings3D'
kitti_root = 'data/KITTI'
hd1k_root = 'data/HD1K'
crop_size = (368, 768)

dense_jitter = dict(type='FlowColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                    hue=0.5 / 3.14, asymmetric_prob=0.2)
sparse_jitter = dict(type='FlowColorJitter', brightness=0.3, contrast=0.3, saturation=0.3,
                     hue=0.3 / 3.14, asymmetric_prob=0.0)
eraser = dict(type='FlowEraser', prob=0.5, bounds=(50, 100))
dense_pipeline = [  # Sintel and FlyingThings3D
    dict(type='LoadFlowPair'), dense_jitter, eraser,
    dict(type='FlowRandomResize', crop_size=crop_size, min_scale=-0.2, max_scale=0.6),
    dict(type='FlowRandomFlip', h_prob=0.5, v_prob=0.1),
    dict(type='FlowRandomCrop', crop_size=crop_size),
    dict(type='PackFlowInputs'),
]
kitti_pipeline = [
    dict(type='LoadFlowPair'), sparse_jitter, eraser,
    dict(type='FlowRandomResize', crop_size=crop_size, min_scale=-0.3, max_scale=0.5),
    dict(type='FlowRandomFlip', h_prob=0.5, v_prob=0.0),
    dict(type='FlowRandomCrop', crop_size=crop_size),
    dict(type='PackFlowInputs'),
]
hd1k_pipeline = [
    dict(type='LoadFlowPair'), sparse_jitter, eraser,
    dict(type='FlowRandomResize', crop_size=crop_size, min_scale=-0.5, max_scale=0.2),
    dict(type='FlowRandomFlip', h_prob=0.5, v_prob=0.0),
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
            dict(type='RepeatDataset', times=100,
                 dataset=dict(type='SintelDataset', data_root=sintel_root, split='training',
                              pass_name='clean', pipeline=dense_pipeline)),
            dict(type='RepeatDataset', times=100,
                 dataset=dict(type='SintelDataset', data_root=sintel_root, split='training',
                              pass_name='final', pipeline=dense_pipeline)),
            dict(type='RepeatDataset', times=200,
                 dataset=dict(type='KITTI2015Dataset', data_root=kitti_root,
                              split='training', pipeline=kitti_pipeline)),
            dict(type='RepeatDataset', times=5,
                 dataset=dict(type='HD1KDataset', data_root=hd1k_root,
                              pipeline=hd1k_pipeline)),
            dict(type='FlyingThings3DDataset', data_root=things_root, pass_name='clean',
                 split='TRAIN', pipeline=dense_pipeline),
        ]))
