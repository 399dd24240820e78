"""A DPT decoder over multi-level ViT features, built from mmsegmentation's
DPT blocks (``mmseg/models/decode_heads/dpt_head.py``: ``ReassembleBlocks``,
``FeatureFusionBlock``), for the dense tasks (optical flow, point tracking,
masks).

DPT: Ranftl et al., "Vision Transformers for Dense Prediction", ICCV 2021.
"""
import math
from typing import Optional, Sequence

from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdropmae.registry import MODELS


@MODELS.register_module()
class DPTFeatureHead(BaseModule):
    """mmseg's DPT decoder, without its segmentation classifier and loss.

    Four ViT feature maps of one grid (e.g. ``VisionTransformer(out_indices=
    (2, 5, 8, 11), out_type='featmap')``, or maps made from
    :meth:`~mmdropmae.models.VisionTransformer.forward_tokens` outputs) are
    reassembled to strides 4, 8, 16 and 32 of a 16-pixel patch grid
    (``ReassembleBlocks``, readout 'ignore': this ViT has no class token),
    projected to ``channels``, fused from coarse to fine
    (``FeatureFusionBlock``, each upsampling x2) and projected by a 3x3 conv
    to ``out_channels``. The output is 8 times the feature grid (half the
    image side for 16-pixel patches; for an odd grid the 1/32 level is
    rounded up, so resize to the exact size you need). The task head (flow,
    visibility, mask logits) sits on top of it.

    Args:
        embed_dims (int): ViT width.
        post_process_channels (Sequence[int]): Channels of the four
            reassembled levels. Defaults to mmseg's (96, 192, 384, 768).
        channels (int): Fusion channels. Defaults to 256.
        out_channels (int, optional): Channels of the final conv; None: no
            final conv (``channels`` out).
        expand_channels (bool): mmseg's ``expand_channels``.
        act_cfg (dict): Activation of the residual units.
        norm_cfg (dict, optional): Norm of the residual units (mmseg's DPT
            uses BN; None: none).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int = 768,
                 post_process_channels: Sequence[int] = (96, 192, 384, 768),
                 channels: int = 256,
                 out_channels: Optional[int] = None,
                 expand_channels: bool = False,
                 act_cfg: dict = dict(type='ReLU'),
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        # imported here: importing mmseg.models loads all of mmseg (and mmcv.ops)
        from mmcv.cnn import ConvModule
        from mmseg.models.decode_heads.dpt_head import FeatureFusionBlock, ReassembleBlocks
        if len(post_process_channels) != 4:
            raise ValueError('DPT reassembles 4 levels; got post_process_channels '
                             f'{list(post_process_channels)}')
        self.reassemble_blocks = ReassembleBlocks(embed_dims, list(post_process_channels),
                                                  'ignore')
        levels = [c * int(math.pow(2, i)) if expand_channels else c
                  for i, c in enumerate(post_process_channels)]
        self.convs = nn.ModuleList(
            ConvModule(c, channels, 3, padding=1, act_cfg=None, bias=False) for c in levels)
        self.fusion_blocks = nn.ModuleList(
            FeatureFusionBlock(channels, act_cfg, norm_cfg) for _ in levels)
        self.fusion_blocks[0].res_conv_unit1 = None  # as mmseg: nothing to fuse at 1/32
        self.project = ConvModule(channels, channels, 3, padding=1, norm_cfg=norm_cfg)
        self.out = None if out_channels is None else nn.Conv2d(channels, out_channels, 3,
                                                               padding=1)

    def forward(self, feats: Sequence[Tensor]) -> Tensor:
        """Four (B, D, h, w) maps (shallow to deep) -> (B, C, ~8h, ~8w)."""
        if len(feats) != 4:
            raise ValueError(f'DPTFeatureHead needs 4 feature maps, got {len(feats)}')
        x = self.reassemble_blocks([(f, None) for f in feats])
        x = [conv(f) for conv, f in zip(self.convs, x)]
        out = self.fusion_blocks[0](x[-1])
        for i in range(1, len(self.fusion_blocks)):
            out = self.fusion_blocks[i](out, x[-(i + 1)])
        out = self.project(out)
        return out if self.out is None else self.out(out)
