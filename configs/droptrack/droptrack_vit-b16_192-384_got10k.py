# DropTrack ViT-B/16, template 192 / search 384, GOT-10k protocol (train on
# GOT-10k train only): the released K700-800E-GOT10k model.
#
#   python tools/train.py configs/droptrack/droptrack_vit-b16_192-384_got10k.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=DROPMAE.pth
#   python tools/test.py configs/droptrack/droptrack_vit-b16_192-384_got10k.py CKPT
#
# From DropTrack experiments/ostrack/vitb_384_mae_ce_32x4_got10k_ep100.yaml:
#   TEMPLATE SIZE 192, FACTOR 2.0; SEARCH SIZE 384, FACTOR 5.0,
#   CENTER_JITTER 4.5, SCALE_JITTER 0.5; LR 2.5e-4 (batch 32 x 4),
#   EPOCH 100, LR_DROP_EPOCH 80, CE_START_EPOCH 20, CE_WARM_EPOCH 50.
_base_ = ['./droptrack_vit-b16_128-256_got10k.py']

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
test_evaluator = dict(outfile_prefix='work_dirs/droptrack_192-384_got10k/results/got10k_test')
