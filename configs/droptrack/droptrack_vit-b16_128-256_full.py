# DropTrack ViT-B/16, template 128 / search 256, full schedule on LaSOT +
# GOT-10k (vot-train split, the GOT-10k sequences that do not overlap VOT) +
# TrackingNet + COCO, evaluated on LaSOT (and the other OPE benchmarks).
#
# Schedule: OSTrack experiments/ostrack/vitb_256_mae_ce_32x4_ep300.yaml
#   DATASETS LASOT, GOT10K_vottrain, COCO17, TRACKINGNET, ratios 1:1:1:1,
#   EPOCH 300, SAMPLE_PER_EPOCH 60000, BATCH 32 x 4, LR 4e-4,
#   LR_DROP_EPOCH 240 (80%), CE_START_EPOCH 20, CE_WARM_EPOCH 80.
_base_ = ['./droptrack_vit-b16_128-256_got10k.py']

model = dict(ce_warm_epochs=80)

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

test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LaSOTDataset',
        data_root='data/lasot',
        ann_file='testing_set.txt',
        test_mode=True,
        pipeline=[
            dict(type='LoadTrackingFrame'),
            dict(type='PackTrackingFrame'),
        ]))
test_evaluator = dict(
    _delete_=True,
    type='OPEMetric',
    dataset='lasot',
    outfile_prefix='work_dirs/droptrack_full/results/lasot')

max_epochs = 300
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[240], gamma=0.1),
]
