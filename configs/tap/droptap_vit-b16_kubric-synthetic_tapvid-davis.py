# DropTAP ViT-B/16: a DropMAE encoder fine-tuned as a point tracker on
# synthetic Kubric-like clips, evaluated on TAP-Vid DAVIS (256x256, strided
# or first queries).
#
#   python tools/dataset_converters/make_synthetic_tap.py data/synthetic_tap/train.pkl \
#       --num-videos 2000 --num-frames 24 --size 256x256 --num-points 512
#   python tools/train.py configs/tap/droptap_vit-b16_kubric-synthetic_tapvid-davis.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=DROPMAE_K700.pth
#   python tools/test.py configs/tap/droptap_vit-b16_kubric-synthetic_tapvid-davis.py CKPT \
#       [--cfg-options test_dataloader.dataset.query_mode=first]
#
#   model      _base_/models/droptap_vit-base-p16.py             (window 16, 4 iterations)
#   train      _base_/datasets/tapvid_kubric_synthetic_train.py  (16-frame 256 clips,
#                                                                 256 queries)
#   test       _base_/datasets/tapvid_davis.py                   (TAP-Vid DAVIS: AJ,
#                                                                 <delta_avg, OA)
#   schedule   _base_/schedules/tap_50k.py                       (AdamW 5e-4, one-cycle)
# Other benchmarks: swap the test base for tapvid_kinetics.py or
# tapvid_rgb_stacking.py.
_base_ = [
    '../_base_/models/droptap_vit-base-p16.py',
    '../_base_/datasets/tapvid_kubric_synthetic_train.py',
    '../_base_/datasets/tapvid_davis.py',
    '../_base_/schedules/tap_50k.py',
    '../_base_/default_runtime.py',
]
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=5000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
