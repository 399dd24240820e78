# DropTrack ViT-B/16, template 128 / search 256, full schedule on LaSOT +
# GOT-10k (vot-train split, the GOT-10k sequences that do not overlap VOT) +
# TrackingNet + COCO, evaluated on LaSOT (and the other OPE benchmarks).
#
# Schedule: OSTrack experiments/ostrack/vitb_256_mae_ce_32x4_ep300.yaml
#   DATASETS LASOT, GOT10K_vottrain, COCO17, TRACKINGNET, ratios 1:1:1:1,
#   EPOCH 300, SAMPLE_PER_EPOCH 60000, BATCH 32 x 4, LR 4e-4,
#   LR_DROP_EPOCH 240 (80%), CE_START_EPOCH 20, CE_WARM_EPOCH 80.
#
#   model      _base_/models/droptrack_vit-base-p16.py  (128/256; CE warm-up 80 epochs)
#   train      _base_/datasets/sot_pairs_full.py        (LaSOT + GOT-10k vot-train +
#                                                        COCO + TrackingNet, 1:1:1:1)
#   test       _base_/datasets/lasot.py                 (LaSOT test, OPE)
#   schedule   _base_/schedules/droptrack_300e.py       (AdamW 4e-4, x0.1 at epoch 240)
_base_ = [
    '../_base_/models/droptrack_vit-base-p16.py',
    '../_base_/datasets/sot_pairs_full.py',
    '../_base_/datasets/lasot.py',
    '../_base_/schedules/droptrack_300e.py',
    '../_base_/default_runtime.py',
]

model = dict(ce_warm_epochs=80)

test_evaluator = dict(outfile_prefix='work_dirs/droptrack_full/results/lasot')

default_hooks = dict(checkpoint=dict(interval=10))  # every 10 epochs, keep 3
