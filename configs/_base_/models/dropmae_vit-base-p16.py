# DropMAE: ViT-B/16 encoder, 512-d x 8 x 16-head decoder with ASAD (P=0.1)
model = dict(
    type='DropMAE',
    data_preprocessor=dict(
        type='PairDataPreprocessor',
        mean=[123.675, 116.28, 103.53],  # ImageNet, RGB, 0-255
        std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='DropMAEViT',
        arch='base',  # 768-d, 12 blocks, 12 heads
        img_size=224,
        patch_size=16,
        pos_embed_type='sincos',
        norm_eps=1e-6,
        qkv_bias=True,
        mask_ratio=0.75),  # joint over the 2N tokens of both frames
    neck=dict(
        type='DropMAEPretrainDecoder',
        num_patches=196,
        patch_size=16,
        embed_dims=768,
        decoder_embed_dims=512,
        decoder_depth=8,
        decoder_num_heads=16,
        attn_cfg=dict(type='ASADAttention', drop_prob=0.1)),
    head=dict(type='MAEPretrainHead', patch_size=16, norm_pix=True))
