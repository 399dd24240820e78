# DAVIS-2017 val (30 videos, semi-supervised: first-frame masks given), one
# whole video per test step (mode='sequence'), scored with J, F and J&F as
# the DAVIS toolkit (davisvideochallenge/davis2017-evaluation). Shared by
# DropSeg and the label-propagation evaluation, which set their own
# pipelines (the default only packs the sequence).
test_dataloader = dict(
    batch_size=1,  # one whole video per test step
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='DAVISDataset',
        data_root='data/DAVIS',
        year='2017',
        split='val',
        mode='sequence',
        test_mode=True,
        pipeline=[dict(type='PackSequence')]))
test_evaluator = dict(type='VOSMetric', outfile_prefix=None)
