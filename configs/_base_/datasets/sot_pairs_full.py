# Template/search training pairs of the full training mix: LaSOT + GOT-10k
# (vot-train split, the GOT-10k sequences that do not overlap VOT) +
# TrackingNet + COCO, sampled 1:1:1:1
# (OSTrack experiments/ostrack/vitb_256_mae_ce_32x4_ep300.yaml: DATASETS
# LASOT, GOT10K_vottrain, COCO17, TRACKINGNET, ratios 1:1:1:1). Pair sampling
# and processing as the GOT-10k-only pairs.
_base_ = ['./sot_pairs_got10k.py']

train_dataloader = dict(
    dataset=dict(
        datasets=[
            dict(type='LaSOTDataset', data_root='data/lasot',
                 ann_file='training_set.txt',
                 serialize_data=False),
            # GOT-10k vot-train split (pytracking's
            # got10k_vot_train_split.txt: indices into train/list.txt)
            dict(type='GOT10kDataset', data_root='data/got10k', split='train',
                 ann_file='got10k_vot_train_split.txt',
                 serialize_data=False),
            dict(type='COCOSOTDataset', data_root='data/coco',
                 ann_file='annotations/instances_train2017.json',
                 data_prefix=dict(img_path='train2017/'),
                 serialize_data=False),
            dict(type='TrackingNetDataset', data_root='data/trackingnet',
                 chunks='train', serialize_data=False),
        ],
        dataset_weights=[1, 1, 1, 1]))
