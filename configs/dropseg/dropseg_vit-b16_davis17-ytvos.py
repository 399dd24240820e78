# DropSeg ViT-B/16: DropMAE encoder fine-tuned as an STCN-style memory VOS
# model on DAVIS-2017 train + YouTube-VOS 2019 train, evaluated on DAVIS-2017 val.
#
#   python tools/train.py configs/dropseg/dropseg_vit-b16_davis17-ytvos.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=DROPMAE_K700.pth
#   python tools/test.py configs/dropseg/dropseg_vit-b16_davis17-ytvos.py CKPT
#
# Schedule: DropMAE fine-tunes for VOS "following STCN" (main-training stage,
# DAVIS + YouTube-VOS, no static-image pre-training stage). STCN
# (hkchengrex/STCN, util/hyper_para.py, stage 3 = main training):
#   Adam, lr 1e-5 (hyper_para.py, stage 3), weight decay 1e-7 (model.py),
#   batch 4 per GPU x 2 GPUs (README: DDP on two GPUs), 150K iterations,
#   lr x0.1 at 125K, 3-frame clips, 384x384 crops
#   (RandomResizedCrop scale 0.36-1.0), up to 2 objects per clip,
#   BootstrappedCE start_warm 20K / end_warm 70K / top_p 0.15, top-k 20
#   memory read, memory every 5th frame at test, DAVIS sampled 5x as often
#   as YouTube-VOS, max_skip curriculum [10, 15, 20, 25, 5] over the run
#   (YouTube-VOS counted in its 5-fps frames: /5).
# Checked against hkchengrex/STCN: hyper_para.py (stage 3: lr 1e-5, batch 4,
# 150K iterations, step at 125K, gamma 0.1), model/model.py (Adam, wd 1e-7),
# model/losses.py (BootstrappedCE 20K/70K/0.15), dataset/vos_dataset.py
# (384 crops, scale 0.36-1.0 for stage 3), train.py (DAVIS x5 ConcatDataset,
# skip_values [10, 15, 20, 25, 5], YouTube-VOS skip // 5), eval_davis.py
# (top 20, mem_every 5).
_base_ = ['../_base_/default_runtime.py']

davis_root = 'data/DAVIS'
ytvos_root = 'data/YouTube-VOS/2019'
crop_size = (384, 384)

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

train_pipeline = [
    dict(type='LoadVOSClip'),
    dict(type='VOSClipRandomResizedCrop', size=crop_size, scale=(0.36, 1.0),
         min_ref_pixels=100),
    dict(type='VOSClipRandomFlip', prob=0.5),
    dict(type='VOSClipColorJitter', brightness=0.1, contrast=0.03, saturation=0.03,
         frame_jitter=0.01, gray_prob=0.05),
    dict(type='PackVOSClip'),
]
train_dataloader = dict(
    batch_size=4,  # per GPU; 2 GPUs -> 8 (STCN)
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='VOSClipDataset',
        datasets=[
            dict(type='DAVISDataset', data_root=davis_root, year='2017', split='train',
                 serialize_data=False),
            dict(type='YouTubeVOSDataset', data_root=ytvos_root, split='train',
                 serialize_data=False),
        ],
        dataset_weights=[5, 1],  # STCN: DAVIS x5 ConcatDataset
        samples_per_epoch=12000,  # 150K iterations = 100 epochs x 1500 iters x 8
        num_frames=3,
        max_skip=[25, 5],  # DAVIS frames; YouTube-VOS 5-fps annotated frames
        max_objects=2,
        pipeline=train_pipeline))

test_pipeline = [dict(type='LoadVOSSequence'), dict(type='PackVOSSequence')]
test_dataloader = dict(
    batch_size=1,  # one whole video per test step
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='DAVISDataset',
        data_root=davis_root,
        year='2017',
        split='val',
        mode='sequence',
        test_mode=True,
        serialize_data=False,
        pipeline=test_pipeline))
test_evaluator = dict(
    type='VOSMetric', outfile_prefix='work_dirs/dropseg_davis17/results')
val_dataloader = None
val_evaluator = None
val_cfg = None

max_epochs = 100
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-5, weight_decay=1e-7),
    clip_grad=None)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[125000], gamma=0.1),
]
auto_scale_lr = dict(base_batch_size=8, enable=False)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3, save_last=True))
find_unused_parameters = False
