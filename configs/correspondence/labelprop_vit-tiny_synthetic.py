# Tiny CPU config for tests: a 2-block ViT (32 dims, patch 16) on the
# synthetic DAVIS layout (64x48 frames kept at 64x48 -> 4x3 feature grid).
#   python tools/test.py configs/correspondence/labelprop_vit-tiny_synthetic.py CKPT \
#       --cfg-options test_dataloader.dataset.data_root=PATH
_base_ = ['./labelprop_vit-b16_davis17.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='VisionTransformer',
        arch=dict(embed_dims=32, num_layers=2, num_heads=2, mlp_ratio=2.),
        img_size=64,
        patch_size=16),
    n_context=3,
    radius=2,
    topk=3)

test_pipeline = [
    dict(type='LoadSequenceFrames', img_scale=(64, 48)),  # (w, h), kept
    dict(type='PackSequence'),
]
test_dataloader = dict(
    num_workers=0, dataset=dict(data_root='data/synthetic_davis', pipeline=test_pipeline))
