"""Frame features of the point tracker: the DropMAE ViT's patch-grid maps,
upsampled and fused with a light conv stem for sub-patch detail."""
from typing import List

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdropmae.registry import MODELS


class _ConvGN(nn.Sequential):

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__(nn.Conv2d(cin, cout, 3, stride, 1), nn.GroupNorm(min(8, cout), cout),
                         nn.ReLU(inplace=True))


@MODELS.register_module()
class TAPFeatureNeck(BaseModule):
    """Per-frame feature maps at ``feature_stride``.

    The ViT maps of the chosen blocks (the tracker calls the backbone API:
    ``embed``, ``forward_tokens``, ``tokens_to_featmap``) are concatenated,
    projected by a 1x1 conv to ``out_channels`` and upsampled (bilinear) from
    the patch grid to ``feature_stride``; a conv stem on the pixels
    (``log2(feature_stride)`` stride-2 convs) adds sub-patch detail, and a
    3x3 conv fuses the sum.

    Args:
        in_channels (int): ViT width x number of ViT maps.
        out_channels (int): Feature channels.
        feature_stride (int): Output stride (a power of 2).
        stem_channels (int): Widest stem channels.
    """

    def __init__(self, in_channels: int, out_channels: int = 128, feature_stride: int = 8,
                 stem_channels: int = 64, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        n = max(0, int(feature_stride).bit_length() - 1)
        if 2**n != feature_stride:
            raise ValueError(f'feature_stride must be a power of 2, got {feature_stride}')
        self.feature_stride = feature_stride
        self.out_channels = out_channels
        self.proj = nn.Conv2d(in_channels, out_channels, 1)
        layers, c = [], 3
        for i in range(n):
            cout = min(stem_channels, 16 * 2**(i + 1))
            layers.append(_ConvGN(c, cout, stride=2))
            c = cout
        if not layers:
            layers.append(_ConvGN(c, stem_channels))
            c = stem_channels
        self.stem = nn.Sequential(*layers, nn.Conv2d(c, out_channels, 1))
        self.fuse = nn.Sequential(nn.ReLU(), nn.Conv2d(out_channels, out_channels, 3, 1, 1))

    def forward(self, vit_maps: List[Tensor], imgs: Tensor) -> Tensor:
        """ViT maps (B, D, h, w) and the (B, 3, H, W) normalised frames ->
        (B, C, H / s, W / s)."""
        h, w = imgs.shape[-2:]
        size = (h // self.feature_stride, w // self.feature_stride)
        vit = self.proj(torch.cat(list(vit_maps), 1))
        vit = F.interpolate(vit, size=size, mode='bilinear', align_corners=False)
        return self.fuse(vit + self.stem(imgs))
