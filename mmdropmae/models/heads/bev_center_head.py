"""BEV centre head of the 3D single-object tracker: centre heat map +
sub-cell offset, height (z) and heading (yaw) maps on the search BEV.

The CenterNet / CenterPoint recipe (Zhou et al. 2019 "Objects as Points";
Yin et al. CVPR 2021, tianweiy/CenterPoint ``det3d/models/bbox_heads/
center_head.py``: a heat map with Gaussian targets and a penalty-reduced
focal loss, regression maps read at the centre cell: ``reg`` (sub-cell
offset), ``height``, ``rot`` as (sin, cos)), reduced to one object: the
tracked target's offset from the reference box. The size is not regressed
(a tracked object keeps the size of its first box).

Map geometry: the search feature map (``feat_size`` = search tokens per
side) is upsampled ``upsample`` times (bilinear), so the search BEV
(``search_size`` px, ``resolution`` m / px, centred on the reference box) is
covered by ``S = feat_size * upsample`` cells of ``stride = search_size / S``
px; a box-frame position ``(x, y)`` is at cell coordinates ``u = x /
(resolution * stride) + S / 2`` (column) and ``v`` likewise from ``y``
(row); the target cell is ``floor(u), floor(v)`` and the offset the
fractional part.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdropmae.registry import MODELS

__all__ = ['BEVCenterHead']


def _branch(in_channels: int, channels: int, out_channels: int, num_convs: int) -> nn.Sequential:
    layers = []
    c = in_channels
    for _ in range(num_convs):
        layers += [nn.Conv2d(c, channels, 3, padding=1), nn.BatchNorm2d(channels),
                   nn.ReLU(inplace=True)]
        c = channels
    layers.append(nn.Conv2d(c, out_channels, 1))
    return nn.Sequential(*layers)


@MODELS.register_module()
class BEVCenterHead(BaseModule):
    """Heat map, offset, z and yaw maps of the search feature map.

    Args:
        in_channels (int): Channels of the search feature map (ViT width).
        feat_size (int): Side of the input map (search BEV / patch size).
        channels (int): Hidden channels of each branch. Defaults to 128.
        num_convs (int): 3x3 conv layers per branch. Defaults to 2.
        sigma (float): Std (cells) of the Gaussian heat-map target.
            Defaults to 1.
        loss_heatmap (dict): Heat-map loss. Defaults to
            ``CenterFocalLoss`` (CenterNet alpha 2, beta 4).
        offset_weight (float): L1 weight of the sub-cell offset. Defaults
            to 1.
        z_weight (float): L1 weight of z (metres). Defaults to 1.
        yaw_weight (float): L1 weight of (sin, cos) of the yaw offset.
            Defaults to 1.
        upsample (int): Bilinear upsampling of the input map (finer heat
            map cells). Defaults to 1.
        skip_channels (int): Channels of an optional skip input (e.g. the
            search BEV image average-pooled to the heat-map cells) that is
            concatenated to the upsampled map. Defaults to 0 (none).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 feat_size: int,
                 channels: int = 128,
                 num_convs: int = 2,
                 sigma: float = 1.,
                 loss_heatmap: Optional[dict] = None,
                 offset_weight: float = 1.,
                 z_weight: float = 1.,
                 yaw_weight: float = 1.,
                 upsample: int = 1,
                 skip_channels: int = 0,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.skip_channels = int(skip_channels)
        in_channels = in_channels + self.skip_channels
        self.feat_size = int(feat_size)
        self.upsample = int(upsample)
        self.map_size = self.feat_size * self.upsample
        self.sigma = float(sigma)
        self.heatmap = _branch(in_channels, channels, 1, num_convs)
        self.offset = _branch(in_channels, channels, 2, num_convs)
        self.z = _branch(in_channels, channels, 1, num_convs)
        self.yaw = _branch(in_channels, channels, 2, num_convs)
        nn.init.constant_(self.heatmap[-1].bias, -2.19)  # CenterNet prior 0.1
        self.loss_heatmap = MODELS.build(loss_heatmap or dict(type='CenterFocalLoss'))
        self.offset_weight = offset_weight
        self.z_weight = z_weight
        self.yaw_weight = yaw_weight

    def forward(self, feat: Tensor, skip: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """(B, C, F, F) -> (S = F x upsample) ``heatmap`` (B, 1, S, S) in
        (0, 1), ``offset`` (B, 2, S, S) in (0, 1) (x, y), ``z`` (B, 1, S, S)
        metres, ``yaw`` (B, 2, S, S) (sin, cos). ``skip`` (B, skip_channels,
        H, W) is average-pooled to S x S and concatenated."""
        if feat.shape[-1] != self.feat_size or feat.shape[-2] != self.feat_size:
            raise ValueError(f'BEVCenterHead expects {self.feat_size}x{self.feat_size} maps, '
                             f'got {tuple(feat.shape[-2:])}')
        if self.upsample > 1:
            feat = F.interpolate(feat, scale_factor=self.upsample, mode='bilinear',
                                 align_corners=False)
        if self.skip_channels:
            if skip is None or skip.shape[1] != self.skip_channels:
                raise ValueError(f'BEVCenterHead expects a skip input of {self.skip_channels} '
                                 'channels')
            feat = torch.cat([feat, F.adaptive_avg_pool2d(skip, self.map_size)], 1)
        return dict(heatmap=self.heatmap(feat).sigmoid(), offset=self.offset(feat).sigmoid(),
                    z=self.z(feat), yaw=self.yaw(feat))

    # ------------------------------------------------------------ targets
    def cell_coords(self, xy: Tensor, resolution: Tensor, search_size: int) -> Tensor:
        """Box-frame (B, 2) x, y (m) -> cell coordinates (B, 2) (u, v)."""
        stride = search_size / self.map_size
        return xy / (resolution[:, None] * stride) + self.map_size / 2.

    def targets(self, gt_offset: Tensor, resolution: Tensor,
                search_size: int) -> Tuple[Tensor, Tensor, Tensor]:
        """Heat map (B, 1, S, S) (Gaussian, peak exactly 1 at the target
        cell), target cells (B, 2) long (col, row; clamped to the map) and
        sub-cell offsets (B, 2) in [0, 1]."""
        uv = self.cell_coords(gt_offset[:, :2].float(), resolution.float(), search_size)
        s = self.map_size
        cell = uv.floor().clamp(0, s - 1)
        off = (uv - cell).clamp(0., 1.)
        idx = torch.arange(s, device=gt_offset.device, dtype=torch.float32)
        dx = (idx[None, :] - cell[:, 0:1]) ** 2  # (B, S) columns
        dy = (idx[None, :] - cell[:, 1:2]) ** 2  # (B, S) rows
        heat = torch.exp(-(dy[:, :, None] + dx[:, None, :]) / (2 * self.sigma ** 2))
        return heat[:, None], cell.long(), off

    def loss(self, out: Dict[str, Tensor], gt_offset: Tensor, resolution: Tensor,
             search_size: int) -> Dict[str, Tensor]:
        """Focal loss on the heat map, L1 on offset, z and (sin, cos) yaw at
        the target cell.

        Args:
            out (dict): :meth:`forward` outputs.
            gt_offset (Tensor): (B, 4) target ``dx, dy, dz, dyaw`` in the
                reference box frame.
            resolution (Tensor): (B,) metres per BEV pixel.
            search_size (int): Search BEV side (px).
        """
        heat_t, cell, off_t = self.targets(gt_offset, resolution, search_size)
        b = torch.arange(gt_offset.shape[0], device=gt_offset.device)
        col, row = cell[:, 0], cell[:, 1]
        off = out['offset'][b, :, row, col]
        z = out['z'][b, 0, row, col]
        yaw = out['yaw'][b, :, row, col]
        dyaw = gt_offset[:, 3].float()
        yaw_t = torch.stack([dyaw.sin(), dyaw.cos()], 1)
        return dict(
            loss_heatmap=self.loss_heatmap(out['heatmap'], heat_t.to(out['heatmap'])),
            loss_offset=self.offset_weight * F.l1_loss(off, off_t),
            loss_z=self.z_weight * F.l1_loss(z, gt_offset[:, 2].float()),
            loss_yaw=self.yaw_weight * F.l1_loss(yaw, yaw_t))

    # ------------------------------------------------------------ decode
    def decode(self, out: Dict[str, Tensor], resolution: Tensor, search_size: int,
               window: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """The box offset at the (windowed) heat-map maximum.

        Returns:
            tuple: (B, 4) ``dx, dy, dz, dyaw`` in the reference box frame,
            (B,) heat-map scores there (before the window).
        """
        heat = out['heatmap']
        scored = heat * window if window is not None else heat
        b, _, s, _ = heat.shape
        flat = scored.reshape(b, -1).argmax(1)
        row, col = flat // s, flat % s
        i = torch.arange(b, device=heat.device)
        off = out['offset'][i, :, row, col]
        stride = search_size / self.map_size
        u = col.float() + off[:, 0]
        v = row.float() + off[:, 1]
        res = resolution.float().to(heat.device)
        x = (u - s / 2.) * stride * res
        y = (v - s / 2.) * stride * res
        z = out['z'][i, 0, row, col]
        sc = out['yaw'][i, :, row, col]
        dyaw = torch.atan2(sc[:, 0], sc[:, 1])
        return torch.stack([x, y, z, dyaw], 1), heat[i, 0, row, col]
