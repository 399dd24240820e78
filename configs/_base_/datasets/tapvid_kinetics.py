# TAP-Vid Kinetics: a folder of shards *_of_0010.pkl (lists of entries whose
# frames are JPEG bytes), as tapnet's create_kinetics_dataset.
_base_ = ['./tapvid_davis.py']
test_dataloader = dict(
    dataset=dict(ann_file='tapvid_kinetics', subset='kinetics',
                 shard_pattern='*_of_0010.pkl'))
