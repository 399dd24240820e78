"""Flow head over multi-level ViT features: a DPT decoder per frame, a dense
flow regression at 1/``flow_stride`` of the image, RAFT's learned convex
upsampling to full resolution, and optional RAFT-style refinement (all-pairs
correlation lookup + convolutional GRU, ``num_iters`` iterations).

References: DPT (Ranftl et al., ICCV 2021; the blocks are mmsegmentation's,
through :class:`~mmdropmae.models.heads.DPTFeatureHead`); RAFT (Teed and
Deng, ECCV 2020; princeton-vl/RAFT ``core/raft.py`` ``upsample_flow``,
``core/update.py`` ``BasicMotionEncoder`` / ``ConvGRU`` / ``FlowHead``,
``core/corr.py``); CroCo-Flow (Weinzaepfel et al., ICCV 2023) for the DPT
head on a two-frame ViT.
"""
import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdropmae.registry import MODELS
from ..layers.correlation import CorrBlock, coords_grid


def convex_upsample(flow: Tensor, mask: Tensor, factor: int) -> Tensor:
    """RAFT's ``upsample_flow``: each full-resolution pixel is a convex
    combination (softmax over 9 weights) of the 3x3 coarse neighbours of its
    coarse cell, of the flow scaled by ``factor``.

    Args:
        flow (Tensor): (B, 2, h, w) flow in coarse-grid units.
        mask (Tensor): (B, 9 * factor^2, h, w) logits.
        factor (int): Upsampling factor (RAFT: 8).

    Returns:
        Tensor: (B, 2, factor * h, factor * w) flow in full-resolution pixels.
    """
    b, _, h, w = flow.shape
    mask = mask.view(b, 1, 9, factor, factor, h, w).softmax(dim=2)
    up = F.unfold(factor * flow, [3, 3], padding=1).view(b, 2, 9, 1, 1, h, w)
    up = torch.sum(mask * up, dim=2)  # b, 2, f, f, h, w
    return up.permute(0, 1, 4, 2, 5, 3).reshape(b, 2, factor * h, factor * w)


def _conv(cin: int, cout: int, k: int = 3) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, padding=k // 2)


class _MotionEncoder(nn.Module):
    """RAFT's ``BasicMotionEncoder`` (channels scaled by ``dims``)."""

    def __init__(self, corr_channels: int, dims: int):
        super().__init__()
        self.convc1 = _conv(corr_channels, 2 * dims, 1)
        self.convc2 = _conv(2 * dims, dims + dims // 2)
        self.convf1 = _conv(2, dims, 7)
        self.convf2 = _conv(dims, dims // 2)
        self.conv = _conv(dims + dims // 2 + dims // 2, dims - 2)

    def forward(self, flow: Tensor, corr: Tensor) -> Tensor:
        c = F.relu(self.convc2(F.relu(self.convc1(corr))))
        f = F.relu(self.convf2(F.relu(self.convf1(flow))))
        return torch.cat([F.relu(self.conv(torch.cat([c, f], 1))), flow], 1)


class _ConvGRU(nn.Module):
    """RAFT's ``ConvGRU`` (3x3 gates)."""

    def __init__(self, hidden: int, inp: int):
        super().__init__()
        self.convz = _conv(hidden + inp, hidden)
        self.convr = _conv(hidden + inp, hidden)
        self.convq = _conv(hidden + inp, hidden)

    def forward(self, h: Tensor, x: Tensor) -> Tensor:
        hx = torch.cat([h, x], 1)
        z, r = torch.sigmoid(self.convz(hx)), torch.sigmoid(self.convr(hx))
        q = torch.tanh(self.convq(torch.cat([r * h, x], 1)))
        return (1 - z) * h + z * q


def _flow_and_mask(channels: int, hidden: int, factor: int) -> Tuple[nn.Module, nn.Module]:
    flow = nn.Sequential(_conv(channels, hidden), nn.ReLU(inplace=True), _conv(hidden, 2))
    mask = nn.Sequential(_conv(channels, hidden), nn.ReLU(inplace=True),
                         nn.Conv2d(hidden, 9 * factor * factor, 1))
    return flow, mask


@MODELS.register_module()
class DPTFlowHead(BaseModule):
    """Optical flow from the multi-level ViT features of two frames.

    1. **DPT per frame.** Each frame's four maps (shallow to deep, one
       ``patch_size`` grid) go through one shared
       :class:`~mmdropmae.models.heads.DPTFeatureHead` (``dpt``), resized
       (area / bilinear) to the flow grid, 1/``flow_stride`` of the image.
    2. **Regression.** ``[F1, F2]`` (plus, with correlation, the
       correlation window of every pixel at zero motion) -> conv head ->
       flow on the flow grid and a convex-upsampling mask (RAFT's mask
       head, scaled by 0.25) -> the first full-resolution prediction. The
       last convs of the flow (and delta) heads start at zero, so an
       untrained head predicts zero motion.
    3. **Refinement** (``num_iters > 0``, needs ``corr_levels > 0``),
       RAFT's update loop: correlation lookup around the current match,
       motion encoder, ConvGRU (hidden state ``tanh``, context ``relu`` of
       a projection of ``F1``), flow delta and mask heads; the match is
       detached between iterations (RAFT). Each iteration adds one
       full-resolution prediction.

    Args:
        embed_dims (int): ViT width.
        patch_size (int): ViT patch size (the features' stride).
        flow_stride (int): Stride of the flow grid (RAFT: 8; 4 or 8).
        dpt (dict): :class:`DPTFeatureHead` arguments (``embed_dims`` is set
            here; ``out_channels`` is forced to None).
        hidden_dims (int): Width of the regression/update convs (RAFT: 128).
        corr_levels (int): Correlation pyramid levels (RAFT: 4); 0: none.
        corr_radius (int): Correlation lookup radius (RAFT: 4).
        num_iters (int): Refinement iterations in training (RAFT trains with
            12); at test time :meth:`forward`'s ``num_iters`` may override.
        match_init (bool): Start the regression from the global-matching
            flow (GMFlow, Xu et al., CVPR 2022: softmax over the
            all-pairs similarity of every pixel, expected match minus
            position); the
            conv head then regresses a correction to it. Needs
            ``corr_levels > 0``. Default False (pure regression).
        match_temperature (float): Softmax temperature of ``match_init``
            over cosine similarities.
        stem_channels (int): Width of a small conv stem on each (normalised)
            image, ``log2(flow_stride)`` stride-2 3x3 convs, whose features
            are concatenated to the DPT features on the flow grid (the local
            detail RAFT's CNN encoder sees and 16-pixel ViT tokens blur; as
            the image skips of DropSeg's mask decoder). 0: none (default).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int = 768,
                 patch_size: int = 16,
                 flow_stride: int = 8,
                 dpt: Optional[dict] = None,
                 hidden_dims: int = 128,
                 corr_levels: int = 4,
                 corr_radius: int = 4,
                 num_iters: int = 0,
                 match_init: Optional[str] = None,
                 match_temperature: float = 0.05,
                 stem_channels: int = 0,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        if match_init not in (None, 'global', 'local'):
            raise ValueError(f"match_init must be None, 'global' or 'local', got {match_init!r}")
        if match_init and corr_levels <= 0:
            raise ValueError('match_init needs correlation (corr_levels > 0)')
        self.match_init, self.match_temperature = match_init, match_temperature
        if flow_stride not in (4, 8):
            raise ValueError(f'flow_stride must be 4 or 8, got {flow_stride}')
        if num_iters > 0 and corr_levels <= 0:
            raise ValueError('refinement (num_iters > 0) needs correlation (corr_levels > 0)')
        dpt = dict(dpt or {})
        dpt.update(type='DPTFeatureHead', embed_dims=embed_dims, out_channels=None)
        self.dpt = MODELS.build(dpt)
        c = int(dpt.get('channels', 256))
        self.stem = None
        if stem_channels > 0:
            layers, cin = [], 3
            for _ in range(int(round(math.log2(flow_stride)))):
                layers += [nn.Conv2d(cin, stem_channels, 3, 2, 1), nn.ReLU(inplace=True)]
                cin = stem_channels
            self.stem = nn.Sequential(*layers)
            c = c + stem_channels
        self.patch_size, self.flow_stride = patch_size, flow_stride
        self.corr_levels, self.corr_radius = corr_levels, corr_radius
        self.num_iters = num_iters
        corr_ch = corr_levels * (2 * corr_radius + 1)**2 if corr_levels > 0 else 0
        self.regress_in = nn.Sequential(_conv(2 * c + corr_ch + 2 * bool(match_init), hidden_dims),
                                        nn.ReLU(inplace=True))
        self.regress_flow, self.regress_mask = _flow_and_mask(hidden_dims, hidden_dims,
                                                              flow_stride)
        if corr_levels > 0:
            self.match_proj = nn.Conv2d(c, c, 1)  # features correlated
        if num_iters > 0:
            self.context = nn.Conv2d(c, 2 * hidden_dims, 1)
            self.encoder = _MotionEncoder(corr_ch, hidden_dims)
            self.gru = _ConvGRU(hidden_dims, 2 * hidden_dims)
            self.delta_flow, self.delta_mask = _flow_and_mask(hidden_dims, hidden_dims,
                                                              flow_stride)
        self.hidden_dims = hidden_dims
        # the flow outputs start at zero motion (the zero-flow baseline), so
        # that the first steps do not fight random flows of hundreds of pixels
        for head in (self.regress_flow, getattr(self, 'delta_flow', None)):
            if head is not None:
                nn.init.zeros_(head[-1].weight)
                nn.init.zeros_(head[-1].bias)

    def dense_features(self, feats: Sequence[Tensor], size: Tuple[int, int]) -> Tensor:
        """DPT features of one frame resized to ``size`` (the flow grid)."""
        x = self.dpt(feats)
        if tuple(x.shape[-2:]) == tuple(size):
            return x
        mode = 'area' if x.shape[-2] >= size[0] and x.shape[-1] >= size[1] else 'bilinear'
        return F.interpolate(x, size=size, mode=mode,
                             **({} if mode == 'area' else dict(align_corners=False)))

    def global_match(self, f1: Tensor, f2: Tensor, coords0: Tensor) -> Tensor:
        """Softmax-matching flow: ``sum_j softmax_j(<f1_i, f2_j> / T) x_j - x_i``
        over L2-normalised features, ``T = match_temperature``.

        Args:
            f1 (Tensor): (B, C, h, w) matching features of frame 1.
            f2 (Tensor): (B, C, h, w) matching features of frame 2.
            coords0 (Tensor): (B, 2, h, w) pixel grid.

        Returns:
            Tensor: (B, 2, h, w) flow in grid units.
        """
        b, _, h, w = coords0.shape
        a = F.normalize(f1.flatten(2), dim=1).transpose(1, 2)  # B, hw, C
        k = F.normalize(f2.flatten(2), dim=1)  # B, C, hw
        prob = (torch.bmm(a, k) / self.match_temperature).softmax(-1)
        grid = coords0.flatten(2).transpose(1, 2)  # B, hw, 2
        matched = torch.bmm(prob, grid)  # B, hw, 2
        return (matched - grid).transpose(1, 2).reshape(b, 2, h, w)

    def local_match(self, f1: Tensor, f2: Tensor, coords0: Tensor) -> Tensor:
        """Softmax-expected offset over the ``(2r + 1)^2`` window of cosine
        similarities around every pixel (``r = corr_radius``; zeros outside
        the map), ``T = match_temperature``."""
        r = self.corr_radius
        window = CorrBlock(F.normalize(f1, dim=1), F.normalize(f2, dim=1), 1, r)(coords0)
        # CorrBlock scales by 1 / sqrt(C); undo it to get cosines
        prob = (window * f1.shape[1]**0.5 / self.match_temperature).softmax(1)
        d = torch.linspace(-r, r, 2 * r + 1, device=f1.device, dtype=f1.dtype)
        dy, dx = torch.meshgrid(d, d, indexing='ij')  # CorrBlock's window order
        offsets = torch.stack([dx.flatten(), dy.flatten()])  # 2, (2r+1)^2
        return torch.einsum('bkhw,ck->bchw', prob, offsets)

    def forward(self, feats1: Sequence[Tensor], feats2: Sequence[Tensor],
                image_size: Tuple[int, int], num_iters: Optional[int] = None,
                img1: Optional[Tensor] = None, img2: Optional[Tensor] = None,
                flow_init: Optional[Tensor] = None, return_low: bool = False):
        """Full-resolution flow predictions, first (regression) to last.

        Args:
            feats1 (Sequence[Tensor]): Four (B, D, h, w) maps of frame 1.
            feats2 (Sequence[Tensor]): Four (B, D, h, w) maps of frame 2.
            image_size (tuple): (H, W) of the (padded) input, multiples of
                ``flow_stride``.
            num_iters (int, optional): Refinement iterations (default: the
                head's ``num_iters``).
            img1 (Tensor, optional): (B, 3, H, W) normalised frame 1 (needed
                with ``stem_channels``).
            img2 (Tensor, optional): (B, 3, H, W) normalised frame 2.
            flow_init (Tensor, optional): (B, 2, h, w) flow on the flow grid
                (grid units) that the refinement starts from instead of the
                regressed flow (RAFT's ``flow_init``, the warm start of
                :mod:`mmdropmae.models.flow.warm_start`); needs refinement
                iterations.
            return_low (bool): Also return the last flow on the flow grid
                (RAFT's ``flow_low``). Default False.

        Returns:
            list[Tensor] | tuple: ``1 + num_iters`` (B, 2, H, W) flows in
            pixels; with ``return_low``, ``(flows, low)`` with the
            (B, 2, h, w) last flow on the flow grid.
        """
        s = self.flow_stride
        h, w = image_size
        if h % s or w % s:
            raise ValueError(f'input size {h}x{w} is not a multiple of the flow stride {s}')
        grid = (h // s, w // s)
        iters = self.num_iters if num_iters is None else int(num_iters)
        if iters > 0 and self.num_iters == 0:
            raise ValueError('this head was built without refinement (num_iters=0)')
        if flow_init is not None and iters == 0:
            raise ValueError('flow_init (warm start) needs refinement iterations (num_iters > 0)')
        f1, f2 = self.dense_features(feats1, grid), self.dense_features(feats2, grid)
        if self.stem is not None:
            if img1 is None or img2 is None:
                raise ValueError('a head with an image stem needs img1 and img2')
            f1 = torch.cat([f1, self.stem(img1)], 1)
            f2 = torch.cat([f2, self.stem(img2)], 1)
        b = f1.shape[0]
        coords0 = coords_grid(b, grid[0], grid[1], device=f1.device, dtype=f1.dtype)
        inp = [f1, f2]
        corr_fn = None
        if self.corr_levels > 0:
            m1, m2 = self.match_proj(f1), self.match_proj(f2)
            corr_fn = CorrBlock(m1, m2, self.corr_levels, self.corr_radius)
            inp.append(corr_fn(coords0))
        match = None
        if self.match_init == 'global':
            match = self.global_match(m1, m2, coords0)
        elif self.match_init == 'local':
            match = self.local_match(m1, m2, coords0)
        if match is not None:
            inp.append(match)
        x = self.regress_in(torch.cat(inp, 1))
        flow = self.regress_flow(x)
        if match is not None:
            flow = flow + match
        preds = [convex_upsample(flow, 0.25 * self.regress_mask(x), s)]
        low = flow
        if iters > 0:
            net, ctx = torch.split(self.context(f1), [self.hidden_dims, self.hidden_dims], 1)
            net, ctx = torch.tanh(net), F.relu(ctx)
            if flow_init is not None:
                if flow_init.shape != flow.shape:
                    raise ValueError(f'flow_init has shape {tuple(flow_init.shape)}, the flow '
                                     f'grid is {tuple(flow.shape)}')
                flow = flow_init.to(flow)
            coords1 = coords0 + flow
            for _ in range(iters):
                coords1 = coords1.detach()
                cur = coords1 - coords0
                motion = self.encoder(cur, corr_fn(coords1))
                net = self.gru(net, torch.cat([ctx, motion], 1))
                coords1 = coords1 + self.delta_flow(net)
                preds.append(convex_upsample(coords1 - coords0, 0.25 * self.delta_mask(net), s))
            low = coords1 - coords0
        return (preds, low) if return_low else preds
