# DropMAE ViT-B/16 on Kinetics-400, 1600 epochs, reading the prepared form
# (JPEG frame folders) instead of decoding mp4 files: the same recipe, the
# same sampled frame indices, crops and flips as pretrain_k400 for the same
# seed; only the data set and its loading step differ. Prepare once, then
#   python tools/dataset_converters/prepare_kinetics.py \
#       data/kinetics400/train data/kinetics400/train_rawframes --workers 16
#   bash tools/dist_train.sh configs/dropmae/pretrain_k400_prepared.py 8
_base_ = [
    '../_base_/models/dropmae_vit-base-p16.py',
    '../_base_/datasets/kinetics400_prepared.py',
    '../_base_/schedules/adamw_1600e.py',
    '../_base_/default_runtime.py',
]

default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=2))
custom_hooks = [
    # within- vs between-frame decoder attention and reconstructions
    dict(type='TemporalMatchingMonitorHook', interval=1000),
]
