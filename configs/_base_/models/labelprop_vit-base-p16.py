# Label propagation with a frozen ViT-B/16 encoder.
# Protocol: DINO's eval_video_segmentation.py (facebookresearch/dino):
# first frame + 7 last frames, 12-cell neighbourhood, top-5, temperature 0.1,
# last-block features. The frame size (DINO: short side 480, floored to a
# multiple of 64) is set in the task configs' test pipelines
# (LoadSequenceFrames).
model = dict(
    type='LabelPropagation',
    backbone=dict(type='VisionTransformer', arch='base', img_size=224, patch_size=16),
    task='mask',
    n_context=7,
    radius=12,
    topk=5,
    temperature=0.1,
    last_k_blocks=1,
    norm_mask=True)
