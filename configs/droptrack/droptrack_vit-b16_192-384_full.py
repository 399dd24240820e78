# DropTrack ViT-B/16, template 192 / search 384 (the paper's headline
# variant), full schedule (LaSOT + GOT-10k vot-train + TrackingNet + COCO).
#
# From DropTrack experiments/ostrack/vitb_384_mae_ce_32x4_ep300.yaml:
#   TEMPLATE SIZE 192, FACTOR 2.0; SEARCH SIZE 384, FACTOR 5.0,
#   CENTER_JITTER 4.5, SCALE_JITTER 0.5; LR 2.5e-4 (batch 32 x 4),
#   EPOCH 300, LR_DROP_EPOCH 240, CE_LOC [3, 6, 9], keep 0.7, CTR_POINT,
#   CE_START_EPOCH 20 / CE_WARM_EPOCH 80 (OSTrack defaults, not overridden).
# For the GOT-10k protocol use vitb_384_mae_ce_32x4_got10k_ep100 values:
#   GOT-10k train only, EPOCH 100, LR_DROP_EPOCH 80, CE_WARM_EPOCH 50.
_base_ = ['./droptrack_vit-b16_128-256_full.py']

template_size = 192
search_size = 384
template_factor = 2.0
search_factor = 5.0

model = dict(
    template_size=template_size,
    search_size=search_size,
    template_factor=template_factor,
    search_factor=search_factor,
    head=dict(feat_size=search_size // 16))

crop = dict(
    template_size=template_size,
    search_size=search_size,
    template_factor=template_factor,
    search_factor=search_factor,
    search_scale_jitter=0.5,
    search_center_jitter=4.5)
train_pipeline = [
    dict(step, **crop) if step['type'] == 'SOTPairCrop' else step
    for step in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(optimizer=dict(lr=2.5e-4))
