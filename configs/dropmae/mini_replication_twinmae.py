# Mini replication, TwinMAE arm: the DropMAE arm without ASAD (drop ratio 0,
# which is plain softmax attention), everything else identical.
#   python tools/experiments/mini_replication.py
_base_ = ['./mini_replication_dropmae.py']

model = dict(neck=dict(attn_cfg=dict(type='ASADAttention', drop_prob=0.0)))
