# LaSOT test (testing_set.txt, 280 sequences), one-pass evaluation: success
# AUC, precision and normalised precision as the LaSOT toolkit.
test_pipeline = [
    dict(type='LoadTrackingFrame'),
    dict(type='PackTrackingFrame'),
]
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='VideoSampler'),  # whole videos, frames in order
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='LaSOTDataset',
        data_root='data/lasot',
        ann_file='testing_set.txt',
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(type='OPEMetric', dataset='lasot', outfile_prefix=None)
