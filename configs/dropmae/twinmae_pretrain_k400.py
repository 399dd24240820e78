# TwinMAE baseline: DropMAE without ASAD (same recipe, drop ratio 0).
_base_ = ['./pretrain_k400.py']

model = dict(neck=dict(attn_cfg=dict(type='ASADAttention', drop_prob=0.0)))
