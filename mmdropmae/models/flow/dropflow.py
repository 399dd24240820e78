"""DropFlow: a two-frame optical-flow estimator on the DropMAE ViT.

1. **Joint encoding.** Frame 1 (``img1``, the frame the flow is defined on)
   is embedded with temporal embedding ``'x'``, frame 2 with ``'z'`` (the
   earlier / later frames of DropMAE pre-training), the position table
   interpolated to the input grid; the ViT runs on the concatenated tokens,
   so the two frames attend to each other in every block, as in
   pre-training. ``out_indices`` (ViT-B: blocks 2, 5, 8, 11, DPT's) give four
   levels of tokens, split per frame into feature maps (backbone API:
   ``embed``, ``forward_tokens``, ``tokens_to_featmap``).
2. **Head** (:class:`~mmdropmae.models.heads.DPTFlowHead`): DPT decoder per
   frame, flow regressed at 1/8 (or 1/4) of the image, RAFT's convex
   upsampling, optional RAFT refinement (correlation + ConvGRU).
3. **Loss**: RAFT's sequence loss over the predictions
   (:class:`~mmdropmae.models.losses.SequenceLoss`).

Any input size: inputs are padded as RAFT's ``InputPadder`` (replicated
borders, ``'sintel'`` centred / ``'kitti'`` bottom) to a multiple of
``lcm(patch_size, flow_stride)``, the prediction cropped back. Large inputs
can be predicted in overlapping, blended windows (``test_cfg.tile_size``,
CroCo-Flow's ``tiled_pred``), which bounds the memory of the joint attention
(quadratic in the tokens), the correlation volume (quadratic in the flow
grid) and the DPT maps.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmdropmae.registry import MODELS
from mmdropmae.structures import DataSample
from ..base import BaseTaskModel
from .padding import InputPadder
from .tiling import tiled_flow
from .warm_start import WarmStartState


def _field(sample, key):
    if isinstance(sample, dict):
        return sample.get(key)
    return getattr(sample, key, None)


@MODELS.register_module()
class DropFlow(BaseTaskModel):
    """Optical flow on a DropMAE ViT (see the module docstring).

    Args:
        backbone (dict): :class:`~mmdropmae.models.VisionTransformer` config
            with temporal embeddings; ``init_cfg=dict(type='Pretrained',
            checkpoint=...)`` loads a DropMAE checkpoint's encoder.
        head (dict): :class:`~mmdropmae.models.heads.DPTFlowHead` config
            (``embed_dims``/``patch_size`` default to the backbone's).
        out_indices (Sequence[int]): The four blocks whose outputs feed the
            head (DPT on ViT-B: 2, 5, 8, 11).
        loss (dict): :class:`~mmdropmae.models.losses.SequenceLoss` config.
        test_cfg (dict): ``pad_mode`` ('sintel' / 'kitti'), ``num_iters``
            (refinement iterations at test time; None: the head's),
            ``tile_size`` ((h, w) windows for inputs larger than it; None:
            whole images), ``tile_overlap`` (CroCo: 0.5), ``warm_start``
            (RAFT's Sintel warm start, needs refinement iterations and
            untiled inference; pairs of one sequence in frame order, one
            pair per batch; default False).
        data_preprocessor (dict, optional): Default
            :class:`~mmdropmae.models.PairDataPreprocessor` (stacks the
            (2, 3, H, W) pairs and normalises them).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 out_indices: Sequence[int] = (2, 5, 8, 11),
                 loss: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        data_preprocessor = MODELS.build(data_preprocessor
                                         or dict(type='PairDataPreprocessor'))
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        if not getattr(self.backbone, 'with_temporal_embed', False):
            raise ValueError('DropFlow needs a ViT with temporal embeddings')
        if len(out_indices) != 4:
            raise ValueError(f'DropFlow feeds 4 levels to its head, got out_indices '
                             f'{list(out_indices)}')
        self.out_indices = list(out_indices)
        self.patch_size = self.backbone.patch_size
        head = dict(head)
        head.setdefault('embed_dims', self.backbone.embed_dims)
        head.setdefault('patch_size', self.patch_size)
        self.head = MODELS.build(head)
        self.flow_stride = self.head.flow_stride
        self.divisor = self.patch_size * self.flow_stride // math.gcd(self.patch_size,
                                                                      self.flow_stride)
        self.loss_module = MODELS.build(loss or dict(type='SequenceLoss'))
        self.test_cfg = dict(pad_mode='sintel', num_iters=None, tile_size=None,
                             tile_overlap=0.5, warm_start=False)
        self.test_cfg.update(test_cfg or {})
        self.warm_state = WarmStartState()
        tile = self.test_cfg.get('tile_size')
        if tile is not None:
            tile = (int(tile), int(tile)) if isinstance(tile, int) else tuple(map(int, tile))
            if tile[0] % self.divisor or tile[1] % self.divisor:
                raise ValueError(f'test_cfg.tile_size {tile} must be a multiple of '
                                 f'{self.divisor} (patch size and flow stride)')
            self.test_cfg['tile_size'] = tile
        if self.test_cfg['warm_start']:
            if tile is not None:
                raise ValueError('test_cfg.warm_start needs untiled inference (tile_size=None)')
            iters = self.test_cfg['num_iters']
            if (self.head.num_iters if iters is None else iters) == 0:
                raise ValueError('test_cfg.warm_start needs refinement iterations (num_iters > 0)')

    # ------------------------------------------------------------- core
    def extract_feats(self, img1: Tensor, img2: Tensor) -> Tuple[List[Tensor], List[Tensor]]:
        """Four-level feature maps of both frames, encoded jointly.

        Args:
            img1 (Tensor): (B, 3, H, W) normalised frame 1, sides multiples
                of the patch size.
            img2 (Tensor): (B, 3, H, W) normalised frame 2.

        Returns:
            tuple: Frame 1's and frame 2's lists of (B, D, H/p, W/p) maps.
        """
        bb = self.backbone
        t1, t2 = bb.embed(img1, 'x'), bb.embed(img2, 'z')
        n = t1.shape[1]
        outs = bb.forward_tokens(torch.cat([t1, t2], 1), out_indices=self.out_indices)
        grid = (img1.shape[-2] // self.patch_size, img1.shape[-1] // self.patch_size)
        f1 = [bb.tokens_to_featmap(o[:, :n], grid) for o in outs]
        f2 = [bb.tokens_to_featmap(o[:, n:], grid) for o in outs]
        return f1, f2

    def estimate(self, img1: Tensor, img2: Tensor, num_iters: Optional[int] = None,
                 flow_init: Optional[Tensor] = None, return_low: bool = False):
        """Flow predictions (first to last, (B, 2, H, W) pixels) of inputs
        whose sides are multiples of :attr:`divisor` (with ``return_low``,
        also the last flow on the flow grid; ``flow_init``: the warm start,
        see :meth:`DPTFlowHead.forward`)."""
        h, w = img1.shape[-2:]
        if h % self.divisor or w % self.divisor:
            raise ValueError(f'input size {h}x{w} is not a multiple of {self.divisor}; pad '
                             'it (InputPadder) or use predict_flow')
        f1, f2 = self.extract_feats(img1, img2)
        return self.head(f1, f2, (h, w), num_iters=num_iters, img1=img1, img2=img2,
                         flow_init=flow_init, return_low=return_low)

    @torch.no_grad()
    def predict_flow(self, img1: Tensor, img2: Tensor, flow_init: Optional[Tensor] = None,
                     return_low: bool = False):
        """Final flow of normalised inputs of any size: padded
        (``test_cfg.pad_mode``), predicted whole or in windows
        (``test_cfg.tile_size``), cropped back.

        Args:
            img1 (Tensor): (B, 3, H, W) normalised frame 1.
            img2 (Tensor): (B, 3, H, W) normalised frame 2.
            flow_init (Tensor, optional): (B, 2, h, w) initial flow on the
                flow grid of the padded input (RAFT's warm start; untiled
                inference only).
            return_low (bool): Also return the last flow on the flow grid
                of the padded input (untiled inference only).

        Returns:
            Tensor | tuple: (B, 2, H, W) flow in pixels; with
            ``return_low``, ``(flow, low)``.
        """
        padder = InputPadder(img1.shape, self.test_cfg['pad_mode'], self.divisor)
        a, b = padder.pad(img1, img2)
        iters = self.test_cfg.get('num_iters')
        tile = self.test_cfg.get('tile_size')
        hp, wp = a.shape[-2:]
        if tile is not None and (hp > tile[0] or wp > tile[1]):
            if flow_init is not None or return_low:
                raise ValueError('warm start (flow_init / return_low) needs untiled inference')
            size = (min(tile[0], hp), min(tile[1], wp))
            flow = tiled_flow(lambda x, y: self.estimate(x, y, iters)[-1], a, b, size,
                              self.test_cfg.get('tile_overlap', 0.5))
            return padder.unpad(flow)
        preds, low = self.estimate(a, b, iters, flow_init=flow_init, return_low=True)
        flow = padder.unpad(preds[-1])
        return (flow, low) if return_low else flow

    # ------------------------------------------------------------- modes
    @staticmethod
    def _split(inputs) -> Tuple[Tensor, Tensor]:
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(list(inputs))
        if inputs.ndim != 5 or inputs.shape[1] != 2:
            raise ValueError('DropFlow takes (B, 2, 3, H, W) image pairs (PackFlowInputs + '
                             f'PairDataPreprocessor), got shape {tuple(inputs.shape)}')
        return inputs[:, 0], inputs[:, 1]

    def _forward(self, inputs, data_samples=None) -> List[Tensor]:
        img1, img2 = self._split(inputs)
        padder = InputPadder(img1.shape, 'sintel', self.divisor)
        a, b = padder.pad(img1, img2)
        return [padder.unpad(p) for p in self.estimate(a, b)]

    def loss(self, inputs, data_samples=None) -> Dict[str, Tensor]:
        if not data_samples:
            raise ValueError('DropFlow.loss needs data samples with gt_flow')
        preds = self._forward(inputs)
        dev = preds[-1].device
        gt, valid = [], []
        for s in data_samples:
            g = _field(s, 'gt_flow')
            if g is None:
                raise KeyError('a training sample has no gt_flow')
            g = torch.as_tensor(g, device=dev, dtype=torch.float32)
            gt.append(g.permute(2, 0, 1))
            v = _field(s, 'flow_valid')
            valid.append(torch.ones(g.shape[:2], device=dev) if v is None else
                         torch.as_tensor(v, device=dev, dtype=torch.float32))
        loss, stats = self.loss_module(preds, torch.stack(gt), torch.stack(valid))
        out = {'loss_flow': loss}
        out.update({k: v.detach() for k, v in stats.items()})
        return out

    def predict(self, inputs, data_samples=None) -> List[DataSample]:
        """One (H, W, 2) ``pred_flow`` per pair, added to its data sample
        (the ground truth, if any, stays in it for the metric)."""
        img1, img2 = self._split(inputs)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(img1.shape[0])]
        for i, sample in enumerate(data_samples):
            if self.test_cfg['warm_start']:
                flow = self._predict_warm(img1[i:i + 1], img2[i:i + 1], sample)
            else:
                flow = self.predict_flow(img1[i:i + 1], img2[i:i + 1])[0]
            sample.pred_flow = flow.permute(1, 2, 0).float().cpu()
        return list(data_samples)

    def _predict_warm(self, img1: Tensor, img2: Tensor, sample) -> Tensor:
        """RAFT's warm start: the sequence and frame of a pair are read from
        its ``out_name`` (``{pass}/{scene}/frame{k:04d}``, Sintel's)."""
        name = _field(sample, 'out_name')  # a metainfo field of the data sample
        sequence, _, stem = str(name).rpartition('/')
        digits = ''.join(c for c in stem if c.isdigit())
        if name is None or not sequence or not digits:
            raise ValueError(f'test_cfg.warm_start needs out_name = sequence/frameNNNN per pair '
                             f'(Sintel), got {name!r}')
        frame = int(digits)
        flow, low = self.predict_flow(img1, img2, self.warm_state.take(sequence, frame),
                                      return_low=True)
        self.warm_state.put(sequence, frame, low[0])
        return flow[0]
