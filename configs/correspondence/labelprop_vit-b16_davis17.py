# Label propagation with a frozen ViT-B/16 encoder on DAVIS-2017 val (J&F).
#   python tools/test.py configs/correspondence/labelprop_vit-b16_davis17.py CHECKPOINT
# CHECKPOINT: any DropMAE / TwinMAE / MAE / timm ViT-B/16 checkpoint, ours or
# the reference layout, full or encoder-only: the model keeps its encoder.
# Protocol: DINO's eval_video_segmentation.py (facebookresearch/dino):
# first frame + 7 last frames, 12-cell neighbourhood, top-5, temperature 0.1,
# short side 480 (floored to a multiple of 64), last-block features.
_base_ = ['../_base_/default_runtime.py']

model = dict(
    type='LabelPropagation',
    backbone=dict(type='VisionTransformer', arch='base', img_size=224, patch_size=16),
    task='mask',
    n_context=7,
    radius=12,
    topk=5,
    temperature=0.1,
    last_k_blocks=1,
    norm_mask=True,
    short_side=480,
    size_divisor=64)

data_root = 'data/DAVIS'
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='DAVISDataset',
        data_root=data_root,
        year='2017',
        split='val',
        mode='sequence',
        test_mode=True,
        pipeline=[dict(type='PackSequence')]))
test_evaluator = dict(type='VOSMetric', outfile_prefix=None)
test_cfg = dict(type='TestLoop')
default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
