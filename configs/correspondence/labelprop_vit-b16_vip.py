# Label propagation of VIP part labels (20 classes), frozen ViT-B/16 encoder,
# mIoU accumulated over all frames of the val videos.
#   python tools/test.py configs/correspondence/labelprop_vit-b16_vip.py CHECKPOINT
# Propagation protocol as the DAVIS config (DINO's values); short side 480.
_base_ = [
    '../_base_/models/labelprop_vit-base-p16.py',
    '../_base_/datasets/vip.py',
    '../_base_/schedules/test_only.py',
    '../_base_/default_runtime.py',
]

model = dict(task='mask', num_classes=20)
test_pipeline = [
    dict(type='LoadSequenceFrames', short_side=480, size_divisor=64),
    dict(type='PackSequence'),
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
default_hooks = dict(logger=dict(interval=1))  # log every video
