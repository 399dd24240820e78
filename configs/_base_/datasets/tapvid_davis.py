# TAP-Vid DAVIS (30 videos, tapvid_davis.pkl: dict name -> entry), one whole
# video per test step, frames resized to 256x256 (PIL Lanczos, as mediapy in
# google-deepmind/tapnet tapnet/tapvid/evaluation_datasets.py) and the
# points scaled by (W, H). query_mode: 'strided' (every 5 frames) or
# 'first' (first visible point), the two TAP-Vid protocols:
#   --cfg-options test_dataloader.dataset.query_mode=first
tapvid_test_pipeline = [
    dict(type='LoadTAPVidVideo', resolution=(256, 256)),
    dict(type='TAPVidSampleQueries'),
    dict(type='PackTAPInputs'),
]
test_dataloader = dict(
    batch_size=1,  # one whole video per test step
    num_workers=0,  # the pickle is cached per process
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='TAPVidDataset',
        data_root='data/tapvid',
        ann_file='tapvid_davis/tapvid_davis.pkl',
        subset='davis',
        query_mode='strided',
        query_stride=5,
        serialize_data=False,
        test_mode=True,
        pipeline=tapvid_test_pipeline))
test_evaluator = dict(type='TAPVidMetric', outfile_prefix=None)
