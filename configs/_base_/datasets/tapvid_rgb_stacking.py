# TAP-Vid RGB-Stacking (tapvid_rgb_stacking.pkl: a list of entries), as
# tapnet's create_rgb_stacking_dataset: 256x256, points scaled by (W, H).
_base_ = ['./tapvid_davis.py']
test_dataloader = dict(
    dataset=dict(ann_file='tapvid_rgb_stacking/tapvid_rgb_stacking.pkl',
                 subset='rgb_stacking'))
