# KITTI-2015 test submission (RAFT create_kitti_submission: KITTI padding,
# 24 iterations): work_dirs/kitti_submission/flow/{i:06d}_10.png 16-bit PNGs,
# zip the flow/ folder for the server.
#
#   python tools/test.py configs/flow/dropflow_vit-b16_kitti-submission.py CKPT
_base_ = ['./dropflow_vit-b16_kitti.py']
test_dataloader = dict(dataset=dict(split='testing'))
test_evaluator = dict(type='FlowMetric', protocol='kitti', format_only=True,
                      outfile_prefix='work_dirs/kitti_submission', submission_layout='kitti')
