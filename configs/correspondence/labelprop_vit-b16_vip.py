# Label propagation of VIP part labels (20 classes), frozen ViT-B/16 encoder,
# mIoU accumulated over all frames of the val videos.
#   python tools/test.py configs/correspondence/labelprop_vit-b16_vip.py CHECKPOINT
# Propagation protocol as the DAVIS config (DINO's values); short side 480.
_base_ = ['./labelprop_vit-b16_davis17.py']

model = dict(task='mask', num_classes=20)

data_root = 'data/VIP'
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='VIPDataset',
        data_root=data_root,
        ann_file='lists/val_videos.txt',
        pipeline=[dict(type='PackSequence')]))
test_evaluator = dict(_delete_=True, type='mIoUMetric', num_classes=20)
