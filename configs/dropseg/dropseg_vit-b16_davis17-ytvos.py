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
#
#   model      _base_/models/dropseg_vit-base-p16.py     (STCN-style memory reader)
#   train      _base_/datasets/davis2017_ytvos_train.py  (DAVIS x5 + YouTube-VOS,
#                                                          3-frame 384 clips)
#   test       _base_/datasets/davis2017_val.py          (DAVIS-2017 val, J&F)
#   schedule   _base_/schedules/dropseg_150k.py          (Adam 1e-5, x0.1 at 125K)
_base_ = [
    '../_base_/models/dropseg_vit-base-p16.py',
    '../_base_/datasets/davis2017_ytvos_train.py',
    '../_base_/datasets/davis2017_val.py',
    '../_base_/schedules/dropseg_150k.py',
    '../_base_/default_runtime.py',
]

test_pipeline = [dict(type='LoadVOSSequence'), dict(type='PackVOSSequence')]
test_dataloader = dict(dataset=dict(serialize_data=False, pipeline=test_pipeline))
test_evaluator = dict(outfile_prefix='work_dirs/dropseg_davis17/results')

default_hooks = dict(checkpoint=dict(interval=10))  # every 10 epochs, keep 3
