# Training clips: synthetic Kubric-like videos with exact tracks in the
# TAP-Vid pickle layout (tools/dataset_converters/make_synthetic_tap.py).
# Each item is a random clip of clip_len frames with num_points queries.
tap_clip_len = 16
tap_train_pipeline = [
    dict(type='LoadTAPVidVideo', resolution=(256, 256)),
    dict(type='TAPClipSample', clip_len=tap_clip_len, num_points=256, min_visible=2),
    dict(type='TAPClipRandomFlip', prob=0.5, temporal_prob=0.5),
    dict(type='PackTAPInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='TAPVidDataset',
        data_root='data/synthetic_tap',
        ann_file='train.pkl',
        subset='davis',
        serialize_data=False,
        pipeline=tap_train_pipeline))
