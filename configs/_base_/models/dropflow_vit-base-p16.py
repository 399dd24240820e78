# DropFlow: a DropMAE ViT-B/16 encoder (both frames jointly, temporal
# embeddings x = frame 1, z = frame 2) with a DPT head per frame, flow
# regressed at 1/8, RAFT's convex upsampling and RAFT-style refinement
# (princeton-vl/RAFT core/raft.py: 4-level correlation pyramid, radius 4,
# 128-d GRU, 12 training iterations; mmseg DPT blocks 2, 5, 8, 11).
model = dict(
    type='DropFlow',
    backbone=dict(
        type='VisionTransformer',
        arch='base',
        img_size=224,  # DropMAE pre-training size; interpolated to any input grid
        patch_size=16,
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='')),
    out_indices=(2, 5, 8, 11),  # DPT's ViT-B levels
    head=dict(
        type='DPTFlowHead',
        flow_stride=8,  # RAFT's 1/8 flow grid
        dpt=dict(post_process_channels=(96, 192, 384, 768), channels=256,
                 norm_cfg=None),  # batch 6 per stage: no BatchNorm (RAFT freezes its BN)
        hidden_dims=128,
        corr_levels=4,
        corr_radius=4,
        num_iters=12),  # RAFT trains with 12 iterations
    loss=dict(type='SequenceLoss', gamma=0.8, max_flow=400.0),
    # RAFT evaluate.py: 24 (chairs), 32 (sintel), 24 (KITTI) iterations at test
    test_cfg=dict(pad_mode='sintel', num_iters=24, tile_size=None, tile_overlap=0.5),
    data_preprocessor=dict(type='PairDataPreprocessor'))
find_unused_parameters = False
