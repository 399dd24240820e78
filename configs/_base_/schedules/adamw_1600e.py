# DropMAE recipe: AdamW(0.9, 0.95), wd 0.05, base lr 1.5e-4 per 256 samples,
# 40 warm-up epochs then cosine to 0, mixed precision.
num_gpus = 8
batch_per_gpu = 64
accumulative_counts = 8  # 64 x 8 GPUs x 8 = 4096 samples per update
total_batch = num_gpus * batch_per_gpu * accumulative_counts
base_lr = 1.5e-4
lr = base_lr * total_batch / 256  # 2.4e-3 at 4096

max_epochs = 1600
warmup_epochs = 40

optim_wrapper = dict(
    type='AmpOptimWrapper',  # tools/train.py falls back to fp32 on CPU
    loss_scale='dynamic',
    accumulative_counts=accumulative_counts,
    optimizer=dict(
        type='AdamW', lr=lr, betas=(0.9, 0.95), weight_decay=0.05),
    # as the reference (timm add_weight_decay): no decay on norms and biases
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - warmup_epochs,
        eta_min=0.0,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)

# `tools/train.py --auto-scale-lr` rescales lr by the real per-step batch
# (GPUs x batch_per_gpu) over this one; keep accumulative_counts fixed.
auto_scale_lr = dict(base_batch_size=num_gpus * batch_per_gpu, enable=False)
