# GOT-10k test (180 sequences): whole videos, frames in order, one frame per
# test step. The test split has first-frame boxes only, so the metric writes
# the evaluation server's layout (format_only).
# For GOT-10k val with AO/SR (local ground truth), use split='val' and
# format_only=False, e.g. as `val_dataloader`/`val_evaluator` (not run during
# training by default, as OSTrack only logs validation losses).
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
        type='GOT10kDataset',
        data_root='data/got10k',
        split='test',
        test_mode=True,
        pipeline=test_pipeline))
# GOT-10k test has first-frame boxes only: write the server's layout (task
# configs set outfile_prefix in their work dir)
test_evaluator = dict(
    type='GOT10kMetric',
    outfile_prefix='work_dirs/got10k_test/results',
    format_only=True)
