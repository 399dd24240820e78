# Label propagation of JHMDB pose (15 joints as Gaussian heatmaps), frozen
# ViT-B/16 encoder, PCK@0.1 / PCK@0.2 (split list 'testdata.txt').
#   python tools/test.py configs/correspondence/labelprop_vit-b16_jhmdb.py CHECKPOINT
# Propagation protocol as the DAVIS config (DINO's values); frames resized to
# a short side of 320 (the JHMDB frames are 320x240, i.e. about 2x), sides
# floored to a multiple of 16; heatmap sigma 0.5 feature cells (ours).
_base_ = ['./labelprop_vit-b16_davis17.py']

model = dict(task='keypoint', keypoint_sigma=0.5, short_side=320, size_divisor=16,
             norm_mask=False)

data_root = 'data/JHMDB'
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='JHMDBDataset',
        data_root=data_root,
        ann_file='testdata.txt',
        pipeline=[dict(type='PackSequence')]))
test_evaluator = dict(_delete_=True, type='PCKMetric', alphas=(0.1, 0.2))
