# Sintel test submission (RAFT create_sintel_submission: 32 iterations,
# warm start, {clean,final}/{scene}/frame%04d.flo); one pass per run, on one
# process (the warm start carries the flow from frame to frame):
#
#   python tools/test.py configs/flow/dropflow_vit-b16_sintel-submission.py CKPT
#   python tools/test.py configs/flow/dropflow_vit-b16_sintel-submission.py CKPT \
#       --cfg-options test_dataloader.dataset.pass_name=final
# then bundle work_dirs/sintel_submission with the Sintel SDK's bundler.
_base_ = ['./dropflow_vit-b16_sintel.py']
model = dict(test_cfg=dict(warm_start=True))  # RAFT's published Sintel test setting
test_dataloader = dict(dataset=dict(split='test', pass_name='clean'))
test_evaluator = dict(type='FlowMetric', protocol='sintel', format_only=True,
                      outfile_prefix='work_dirs/sintel_submission',
                      submission_layout='sintel')
