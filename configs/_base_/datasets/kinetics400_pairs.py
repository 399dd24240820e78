# Frame pairs of Kinetics-400 training videos (raw mp4, one folder per class)
dataset_type = 'VideoPairDataset'
data_root = 'data/kinetics400/train'

train_pipeline = [
    # start ~ U[0, len-2], end ~ U[start+1, min(len, start+50)-1]
    dict(type='LoadFramePairFromVideo', frame_gap=50),
    # independently for each frame
    dict(
        type='RandomResizedCrop',
        size=224,
        scale=(0.2, 1.0),
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackPairInputs'),
]

train_dataloader = dict(
    batch_size=64,  # per GPU
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='',  # or a list file of video paths relative to data_root
        pipeline=train_pipeline))
