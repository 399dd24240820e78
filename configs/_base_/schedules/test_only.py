# Evaluation only (e.g. a frozen encoder): the test loop, no training or
# validation loops.
test_cfg = dict(type='TestLoop')
