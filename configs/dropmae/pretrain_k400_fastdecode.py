# DropMAE ViT-B/16 on Kinetics-400 with approximate, faster video decoding.
# Same recipe and the same sampled frames, crops and flips as pretrain_k400;
# only H.264's in-loop deblocking filter is skipped while decoding (FFmpeg
# skip_loop_filter='all'): 2.2x the plain decord loader per worker instead of
# 1.85x, at 36-41 dB PSNR against exact frames (docs/video_decoding.md).
# For when data loading is the bottleneck; norm_pix_loss amplifies the faint
# blocking in flat patches, so the exact pretrain_k400 is the reference recipe.
_base_ = ['./pretrain_k400.py']

fast_decode = dict(backend='pyav', backend_kwargs=dict(skip_loop_filter=True))
train_pipeline = [
    dict(step, **fast_decode)
    if step['type'] == 'LoadFramePairFromVideo' else step
    for step in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
