# Toy config for the tool-script tests: see toy_modules.py.
custom_imports = dict(imports=['toy_modules'], allow_failed_imports=False)
default_scope = 'mmdropmae'

model = dict(type='ToyRegressor', in_dim=8)

train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='ToyRegressionDataset', length=64, in_dim=8))
test_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ToyRegressionDataset', length=16, in_dim=8, seed=1))
test_evaluator = dict(type='ToyMSEMetric')
test_cfg = dict(type='TestLoop')

train_cfg = dict(type='IterBasedTrainLoop', max_iters=20)
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.9))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
auto_scale_lr = dict(enable=False, base_batch_size=8)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=5),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, by_epoch=False),
    sampler_seed=dict(type='DistSamplerSeedHook'))
log_processor = dict(by_epoch=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
randomness = dict(seed=0)
log_level = 'INFO'
