# DropTrack: OSTrack-style one-stream ViT-B/16 tracker on a DropMAE encoder.
# Values from OSTrack experiments/ostrack/vitb_256_mae_ce_32x4_*.yaml and
# DropTrack experiments/ostrack/vitb_384_mae_ce_32x4_*.yaml:
#   BACKBONE.CE_LOC [3, 6, 9] (0-based: layers 4, 7, 10), CE_KEEP_RATIO 0.7,
#   CE_TEMPLATE_RANGE CTR_POINT, HEAD CENTER with NUM_CHANNELS 256,
#   DROP_PATH_RATE 0.1, GIOU_WEIGHT 2, L1_WEIGHT 5 (focal weight 1),
#   DATA.MEAN/STD ImageNet, template 128 px x2 context, search 256 px x4.
template_size = 128
search_size = 256
template_factor = 2.0  # crop side = factor x sqrt(w h) of the target box
search_factor = 4.0
model = dict(
    type='DropTrack',
    data_preprocessor=dict(
        type='TrackingDataPreprocessor',
        mean=[123.675, 116.28, 103.53],  # ImageNet, RGB, 0-255
        std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='VisionTransformer',
        arch='base',  # 768-d, 12 blocks, 12 heads
        img_size=224,  # the pre-training size; interpolated to 128/256
        patch_size=16,
        pos_embed_type='sincos',
        qkv_bias=True,
        norm_eps=1e-6,
        drop_path_rate=0.1,
        # the DropMAE checkpoint (ours, the reference release, or an
        # encoder export); decoder keys dropped, pos embed interpolated
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/dropmae_k700_800e.pth')),
    head=dict(
        type='CenterHead',
        in_channels=768,
        channels=256,
        feat_size=search_size // 16,
        stride=16,
        loss_cls=dict(type='CenterFocalLoss', loss_weight=1.0),
        loss_giou=dict(type='GIoULoss', loss_weight=2.0),
        loss_l1=dict(type='BoxL1Loss', loss_weight=5.0)),
    template_size=template_size,
    search_size=search_size,
    template_factor=template_factor,
    search_factor=search_factor,
    ce_loc=(3, 6, 9),
    ce_keep_ratio=0.7,
    ce_template_range='CTR_POINT',
    ce_start_epoch=20,  # TRAIN.CE_START_EPOCH
    ce_warm_epochs=50,  # TRAIN.CE_WARM_EPOCH (GOT-10k 100e; 80 for 300e)
    learn_pos_embed=True,  # OSTrack's finetune_track: pos_embed_z/x learned
    test_cfg=dict(window='hann', clip_margin=10))
find_unused_parameters = True  # removed search tokens / unused pos_embed
