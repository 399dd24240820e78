# Label propagation with a frozen ViT-B/16 encoder on DAVIS-2017 val (J&F).
#   python tools/test.py configs/correspondence/labelprop_vit-b16_davis17.py CHECKPOINT
# CHECKPOINT: any DropMAE / TwinMAE / MAE / timm ViT-B/16 checkpoint, ours or
# the reference layout, full or encoder-only: the model keeps its encoder.
# Protocol: DINO's eval_video_segmentation.py (facebookresearch/dino):
# first frame + 7 last frames, 12-cell neighbourhood, top-5, temperature 0.1,
# short side 480 (floored to a multiple of 64), last-block features.
#
#   model      _base_/models/labelprop_vit-base-p16.py  (DINO's protocol)
#   test       _base_/datasets/davis2017_val.py         (DAVIS-2017 val, J&F)
#   schedule   _base_/schedules/test_only.py
_base_ = [
    '../_base_/models/labelprop_vit-base-p16.py',
    '../_base_/datasets/davis2017_val.py',
    '../_base_/schedules/test_only.py',
    '../_base_/default_runtime.py',
]

data_root = 'data/DAVIS'  # the root in _base_/datasets/davis2017_val.py
test_pipeline = [
    # DINO: short side 480, both sides floored to a multiple of 64
    dict(type='LoadSequenceFrames', short_side=480, size_divisor=64),
    dict(type='PackSequence'),
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
default_hooks = dict(logger=dict(interval=1))  # log every video
