# BEVTrack: a one-stream DropMAE ViT-B/16 on 3-channel BEV pseudo-images of
# LiDAR points (height, density, reflectance on 0-255, ImageNet-normalised,
# so the pre-trained patch embedding loads unchanged), DropTrack's design:
# template = z, search = x temporal embeddings, joint attention, a centre
# head on the search tokens (CenterPoint-style heat map + offset, z, yaw).
# Search area / template as Open3DSOT (search_bb_scale 1.25,
# search_bb_offset 2 m; model_bb_scale 1.25, model_bb_offset 0); the search
# BEV spans 2 x (max(l, w) x 1.25 / 2 + 2) m, the template BEV the same
# metres per pixel.
template_size = 128
search_size = 256
model = dict(
    type='BEVTrack',
    data_preprocessor=dict(
        type='TrackingDataPreprocessor',
        mean=[123.675, 116.28, 103.53],  # ImageNet, 0-255
        std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='VisionTransformer',
        arch='base',
        img_size=224,  # DropMAE pre-training size; interpolated to 8x8 / 16x16
        patch_size=16,
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='')),
    head=dict(
        type='BEVCenterHead',
        in_channels=768,
        feat_size=search_size // 16,
        channels=256,
        num_convs=2,
        sigma=1.0,
        loss_heatmap=dict(type='CenterFocalLoss'),
        offset_weight=1.0,
        z_weight=1.0,
        yaw_weight=1.0),
    template_size=template_size,
    search_size=search_size,
    search_scale=1.25,
    search_offset=2.0,
    template_scale=1.25,
    template_offset=0.0,
    z_range=(-2.0, 2.0),
    # Open3DSOT BAT config: use_z True; a Hann window on the heat map as
    # DropTrack
    test_cfg=dict(window='hann', use_z=True, max_cached_videos=8))
find_unused_parameters = False
