"""Centre-based box head of OSTrack/DropTrack (``CenterPredictor``)."""
from typing import Dict, Optional, Tuple

import numpy as np
import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdropmae.registry import MODELS
from mmdropmae.structures.bbox import box_cxcywh_to_xyxy, box_xywh_to_xyxy


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 conv + BatchNorm + ReLU (OSTrack's ``conv``)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=True),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


def gaussian_radius(wh: Tensor, min_overlap: float = 0.7) -> Tensor:
    """CenterNet's Gaussian radius (the form OSTrack uses, ``r = (b + sq) /
    2`` for all three cases) for box sizes ``wh`` (N, 2) in feature cells."""
    width, height = wh[..., 0], wh[..., 1]
    b1 = height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + torch.sqrt((b1**2 - 4 * c1).clamp(min=0))) / 2
    a2 = 4
    b2 = 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + torch.sqrt((b2**2 - 4 * a2 * c2).clamp(min=0))) / 2
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + torch.sqrt((b3**2 - 4 * a3 * c3).clamp(min=0))) / 2
    return torch.min(r1, torch.min(r2, r3))


def gaussian_2d(radius: int, sigma: float) -> np.ndarray:
    y, x = np.ogrid[-radius:radius + 1, -radius:radius + 1]
    g = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    g[g < np.finfo(g.dtype).eps * g.max()] = 0
    return g


def generate_heatmap(bboxes: Tensor, feat_size: int,
                     min_overlap: float = 0.7) -> Tensor:
    """Gaussian centre targets of OSTrack (``generate_heatmap``).

    Args:
        bboxes (Tensor): (B, 4) xywh boxes normalised to the search crop.
        feat_size (int): Side of the score map.

    Returns:
        Tensor: (B, 1, feat_size, feat_size), peak exactly 1 at the rounded
        box centre (when it is on the map).
    """
    bboxes = bboxes.detach().float().cpu() * feat_size
    wh = bboxes[:, 2:]
    centers = (bboxes[:, :2] + wh / 2).round()
    radius = gaussian_radius(wh, min_overlap).clamp(min=0).int().numpy()
    heat = torch.zeros(bboxes.shape[0], 1, feat_size, feat_size)
    for i in range(bboxes.shape[0]):
        r = int(radius[i])
        g = torch.from_numpy(gaussian_2d(r, (2 * r + 1) / 6)).float()
        x, y = int(centers[i, 0]), int(centers[i, 1])
        left, right = min(x, r), min(feat_size - x, r + 1)
        top, bottom = min(y, r), min(feat_size - y, r + 1)
        if min(left + right, top + bottom) <= 0 or x < 0 or y < 0:
            continue
        region = heat[i, 0, y - top:y + bottom, x - left:x + right]
        patch = g[r - top:r + bottom, r - left:r + right]
        if min(region.shape) > 0 and min(patch.shape) > 0:
            heat[i, 0, y - top:y + bottom, x - left:x + right] = \
                torch.max(region, patch)
    return heat


@MODELS.register_module()
class CenterHead(BaseModule):
    """Score, size and offset maps from the search-region feature map
    (OSTrack's ``CenterPredictor``).

    Three conv towers (3x3 conv-BN-ReLU with ``channels``, /2, /4, /8
    channels, then a 1x1 conv) predict a centre score map (sigmoid), the
    box size normalised to the search crop (sigmoid) and the sub-cell
    offset of the centre. The box is read at the score map's maximum:
    ``cx = (col + off_x) / feat_size``, ``cy = (row + off_y) / feat_size``,
    ``w, h`` = the size map there, all in [0, 1] of the search crop.

    Args:
        in_channels (int): Channels of the ViT tokens.
        channels (int): Width of the towers. Defaults to 256 (OSTrack's
            ``HEAD.NUM_CHANNELS``).
        feat_size (int): Side of the search feature map (search size /
            stride: 16 for 256, 24 for 384).
        stride (int): Patch stride. Defaults to 16.
        loss_cls (dict): Focal loss on the score map.
        loss_giou (dict): GIoU loss (weight 2).
        loss_l1 (dict): L1 loss (weight 5).
    """

    def __init__(self,
                 in_channels: int = 768,
                 channels: int = 256,
                 feat_size: int = 16,
                 stride: int = 16,
                 loss_cls: dict = dict(type='CenterFocalLoss', loss_weight=1.),
                 loss_giou: dict = dict(type='GIoULoss', loss_weight=2.),
                 loss_l1: dict = dict(type='BoxL1Loss', loss_weight=5.),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.feat_size = feat_size
        self.stride = stride

        def tower(out):
            return nn.Sequential(
                conv_bn_relu(in_channels, channels),
                conv_bn_relu(channels, channels // 2),
                conv_bn_relu(channels // 2, channels // 4),
                conv_bn_relu(channels // 4, channels // 8),
                nn.Conv2d(channels // 8, out, kernel_size=1))

        self.ctr = tower(1)
        self.offset = tower(2)
        self.size = tower(2)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_giou = MODELS.build(loss_giou)
        self.loss_l1 = MODELS.build(loss_l1)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """(B, C, H, W) -> score (B, 1, H, W), size (B, 2, H, W), offset
        (B, 2, H, W). Score and size are sigmoids clamped to [1e-4,
        1 - 1e-4] (OSTrack's ``_sigmoid``)."""
        score = self.ctr(x).sigmoid().clamp(1e-4, 1 - 1e-4)
        size = self.size(x).sigmoid().clamp(1e-4, 1 - 1e-4)
        offset = self.offset(x)
        return score, size, offset

    def cal_bbox(self, score_map: Tensor, size_map: Tensor,
                 offset_map: Tensor,
                 return_score: bool = False):
        """Box (B, 4) (cx, cy, w, h) in [0, 1] of the search crop at the
        maximum of ``score_map`` (optionally with that maximum)."""
        b = score_map.shape[0]
        fs = score_map.shape[-1]
        max_score, idx = score_map.flatten(1).max(dim=1, keepdim=True)
        idx_y = torch.div(idx, fs, rounding_mode='floor')
        idx_x = idx % fs
        gidx = idx.unsqueeze(1).expand(b, 2, 1)
        size = size_map.flatten(2).gather(2, gidx).squeeze(-1)
        offset = offset_map.flatten(2).gather(2, gidx).squeeze(-1)
        bbox = torch.cat([(idx_x.float() + offset[:, :1]) / fs,
                          (idx_y.float() + offset[:, 1:]) / fs, size],
                         dim=1)
        if return_score:
            return bbox, max_score
        return bbox

    def loss(self, score_map: Tensor, size_map: Tensor, offset_map: Tensor,
             gt_bboxes: Tensor) -> Dict[str, Tensor]:
        """OSTrack's training objective.

        Args:
            gt_bboxes (Tensor): (B, 4) xywh in [0, 1] of the search crop.

        Returns:
            dict: ``loss_focal``, ``loss_giou``, ``loss_l1`` (weighted) and
            the mean IoU of the predicted boxes (``iou``, not a loss).
        """
        target = generate_heatmap(gt_bboxes, score_map.shape[-1]).to(
            score_map.device)
        pred = self.cal_bbox(score_map, size_map, offset_map)
        if not torch.isfinite(pred).all():
            raise ValueError('the network predicted non-finite boxes; '
                             'stop training')
        pred_xyxy = box_cxcywh_to_xyxy(pred)
        gt_xyxy = box_xywh_to_xyxy(gt_bboxes.float()).clamp(0., 1.)
        loss_giou, iou = self.loss_giou(pred_xyxy, gt_xyxy)
        return dict(
            loss_focal=self.loss_cls(score_map, target),
            loss_giou=loss_giou,
            loss_l1=self.loss_l1(pred_xyxy, gt_xyxy),
            iou=iou.mean())
