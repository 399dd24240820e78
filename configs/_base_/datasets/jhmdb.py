# JHMDB pose (15 joints) for label propagation: split list 'testdata.txt',
# scored with PCK@0.1 / PCK@0.2.
data_root = 'data/JHMDB'
test_dataloader = dict(
    batch_size=1,  # one whole video per test step
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='JHMDBDataset',
        data_root=data_root,
        ann_file='testdata.txt',
        pipeline=[dict(type='PackSequence')]))
test_evaluator = dict(type='PCKMetric', alphas=(0.1, 0.2))
