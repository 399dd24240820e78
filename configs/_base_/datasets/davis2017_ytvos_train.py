# 3-frame clips of DAVIS-2017 train + YouTube-VOS 2019 train for memory VOS
# training, as STCN's main-training stage (hkchengrex/STCN: train.py DAVIS x5
# ConcatDataset and skip_values [10, 15, 20, 25, 5] with YouTube-VOS skip // 5;
# dataset/vos_dataset.py 384 crops, scale 0.36-1.0, up to 2 objects per
# clip; batch 4 per GPU x 2 GPUs).
davis_root = 'data/DAVIS'
ytvos_root = 'data/YouTube-VOS/2019'
crop_size = (384, 384)

train_pipeline = [
    dict(type='LoadVOSClip'),
    dict(type='VOSClipRandomResizedCrop', size=crop_size, scale=(0.36, 1.0),
         min_ref_pixels=100),
    dict(type='VOSClipRandomFlip', prob=0.5),
    dict(type='VOSClipColorJitter', brightness=0.1, contrast=0.03, saturation=0.03,
         frame_jitter=0.01, gray_prob=0.05),
    dict(type='PackVOSClip'),
]
train_dataloader = dict(
    batch_size=4,  # per GPU; 2 GPUs -> 8 (STCN)
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='VOSClipDataset',
        datasets=[
            dict(type='DAVISDataset', data_root=davis_root, year='2017', split='train',
                 serialize_data=False),
            dict(type='YouTubeVOSDataset', data_root=ytvos_root, split='train',
                 serialize_data=False),
        ],
        dataset_weights=[5, 1],  # STCN: DAVIS x5 ConcatDataset
        samples_per_epoch=12000,  # 150K iterations = 100 epochs x 1500 iters x 8
        num_frames=3,
        max_skip=[25, 5],  # DAVIS frames; YouTube-VOS 5-fps annotated frames
        max_objects=2,
        pipeline=train_pipeline))
