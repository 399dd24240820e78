# Template/search training pairs of GOT-10k train (the GOT-10k protocol: train
# on GOT-10k train only), as OSTrack's pair sampler and processing
# (OSTrack experiments/ostrack/vitb_256_mae_ce_32x4_got10k_ep100.yaml):
#   SAMPLE_PER_EPOCH 60000, BATCH_SIZE 32 per GPU, MAX_SAMPLE_INTERVAL 200,
#   template 128 px x2 context, search 256 px x4, search jitter scale 0.25 /
#   centre 3, joint grayscale 0.05, brightness jitter 0.2, horizontal flip.
# Configs with other template/search sizes replace the SOTPairCrop step (see
# configs/droptrack/droptrack_vit-b16_192-384_full.py).
data_root = 'data/got10k'

train_pipeline = [
    dict(type='LoadSOTPairImages'),
    dict(type='SOTPairGrayscale', prob=0.05),  # joint ToGrayscale(0.05)
    dict(
        type='SOTPairCrop',
        template_size=128,
        search_size=256,
        template_factor=2.0,
        search_factor=4.0,
        template_scale_jitter=0.,
        template_center_jitter=0.,
        search_scale_jitter=0.25,
        search_center_jitter=3.),
    dict(type='SOTPairBrightnessJitter', brightness=0.2),  # ToTensorAndJitter
    dict(type='SOTPairRandomFlip', prob=0.5),
    dict(type='PackSOTPairInputs'),
]
train_dataloader = dict(
    batch_size=32,  # per GPU; 4 GPUs -> 128
    num_workers=10,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='SOTPairDataset',
        datasets=[
            dict(type='GOT10kDataset', data_root=data_root, split='train',
                 serialize_data=False),
        ],
        dataset_weights=[1],
        samples_per_epoch=60000,
        max_gap=200,
        pipeline=train_pipeline))
