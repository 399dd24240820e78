# FlyingChairs: the RAFT chairs stage's training pairs (train split of
# FlyingChairs_train_val.txt) and augmentation (princeton-vl/RAFT
# core/datasets.py fetch_dataloader: crop 368x496, scale 2^[-0.1, 1.0], flips;
# core/utils/augmentor.py FlowAugmentor), and the validation split scored as
# RAFT's validate_chairs (EPE pooled over all pixels).
data_root = 'data/FlyingChairs_release'
crop_size = (368, 496)
train_pipeline = [
    dict(type='LoadFlowPair'),
    dict(type='FlowColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
         hue=0.5 / 3.14, asymmetric_prob=0.2),
    dict(type='FlowEraser', prob=0.5, bounds=(50, 100)),
    dict(type='FlowRandomResize', crop_size=crop_size, min_scale=-0.1, max_scale=1.0),
    dict(type='FlowRandomFlip', h_prob=0.5, v_prob=0.1),
    dict(type='FlowRandomCrop', crop_size=crop_size),
    dict(type='PackFlowInputs'),
]
test_pipeline = [dict(type='LoadFlowPair'), dict(type='PackFlowInputs')]
train_dataloader = dict(
    batch_size=12,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='FlyingChairsDataset', data_root=data_root, split='train',
                 pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='FlyingChairsDataset', data_root=data_root, split='val',
                 test_mode=True, pipeline=test_pipeline))
test_evaluator = dict(type='FlowMetric', protocol='chairs')
