# VIP (Video Instance-level Parsing) part labels (20 classes) for label
# propagation: the val videos, mIoU accumulated over all frames.
data_root = 'data/VIP'
test_dataloader = dict(
    batch_size=1,  # one whole video per test step
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='VIPDataset',
        data_root=data_root,
        ann_file='lists/val_videos.txt',
        pipeline=[dict(type='PackSequence')]))
test_evaluator = dict(type='mIoUMetric', num_classes=20)
