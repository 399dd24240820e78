# DropSeg: a DropMAE ViT-B/16 encoder in an STCN-style memory VOS model
# (hkchengrex/STCN: key dim 64; model/losses.py BootstrappedCE 20K / 70K /
# 0.15; eval_davis.py top-k 20 memory read, memory every 5th frame).
model = dict(
    type='DropSeg',
    backbone=dict(
        type='VisionTransformer',
        arch='base',
        img_size=224,  # DropMAE pre-training size; interpolated to 24 x 24
        patch_size=16,
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='')),
    key_dims=64,  # STCN key dim
    value_dims=None,  # = ViT width
    decoder_channels=256,
    mem_topk=20,  # STCN top-k
    loss=dict(type='BootstrappedCELoss', start_warm=20000, end_warm=70000, top_p=0.15),
    test_cfg=dict(mem_every=5, max_mem_frames=4, short_side=480),
    data_preprocessor=dict(type='VOSDataPreprocessor'))
find_unused_parameters = False
