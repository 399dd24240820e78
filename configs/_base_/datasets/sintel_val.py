# MPI-Sintel training pairs scored as RAFT's validate_sintel (EPE pooled over
# all pixels, 1/3/5-px); the clean pass (set pass_name='final' for final).
sintel_root = 'data/Sintel'
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='SintelDataset', data_root=sintel_root, split='training',
                 pass_name='clean', test_mode=True,
                 pipeline=[dict(type='LoadFlowPair'), dict(type='PackFlowInputs')]))
test_evaluator = dict(type='FlowMetric', protocol='sintel')
