# DropTAP: a DropMAE ViT-B/16 encoder in a windowed point tracker
# (correlation pyramid + iterative refinement + visibility head, the
# PIPs / TAPIR / CoTracker family). Defaults follow CoTracker3's online
# Kubric recipe where they apply (facebookresearch/co-tracker,
# launch_training_kubric_online.sh: sliding window 16, model stride 4,
# corr radius 3, 4 refinement iterations; train_on_kubric.py defaults).
model = dict(
    type='DropTAP',
    backbone=dict(
        type='VisionTransformer',
        arch='base',
        img_size=224,  # DropMAE pre-training size; interpolated to 16 x 16
        patch_size=16,
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='')),
    out_indices=(5, 11),  # a middle and the last block
    neck=dict(type='TAPFeatureNeck', out_channels=128, feature_stride=4, stem_channels=64),
    refiner=dict(hidden_dims=256, depth=4, kernel=3, motion_scale=32.),
    num_iters=4,  # CoTracker --train_iters 4
    corr_levels=4,  # CoTracker --corr_levels 4
    corr_radius=3,  # CoTracker --corr_radius 3
    init_temperature=0.05,
    loss_track=dict(type='TrackSequenceLoss', gamma=0.8, delta=4.0),
    loss_vis=dict(type='VisibilityBCELoss', loss_weight=1.0),
    test_cfg=dict(window=16, window_stride=8, num_iters=4, input_size=(256, 256),
                  backward_tracking=True, max_queries=256, vis_threshold=0.5),
    data_preprocessor=dict(type='TAPDataPreprocessor'))
find_unused_parameters = False
