# Label propagation of JHMDB pose (15 joints as Gaussian heatmaps), frozen
# ViT-B/16 encoder, PCK@0.1 / PCK@0.2 (split list 'testdata.txt').
#   python tools/test.py configs/correspondence/labelprop_vit-b16_jhmdb.py CHECKPOINT
# Propagation protocol as the DAVIS config (DINO's values); frames resized to
# a short side of 320 (the JHMDB frames are 320x240, i.e. about 2x), sides
# floored to a multiple of 16; heatmap sigma 0.5 feature cells (ours).
_base_ = [
    '../_base_/models/labelprop_vit-base-p16.py',
    '../_base_/datasets/jhmdb.py',
    '../_base_/schedules/test_only.py',
    '../_base_/default_runtime.py',
]

model = dict(task='keypoint', keypoint_sigma=0.5, norm_mask=False)
test_pipeline = [
    dict(type='LoadSequenceFrames', short_side=320, size_divisor=16),
    dict(type='PackSequence'),
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
default_hooks = dict(logger=dict(interval=1))  # log every video
