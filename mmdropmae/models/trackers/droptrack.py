"""DropTrack: the OSTrack-style one-stream ViT tracker on a DropMAE encoder.

References (public code of the papers; values cited where they are used):
OSTrack (Ye et al., ECCV 2022) ``lib/models/ostrack/vit_ce.py``,
``lib/models/layers/attn_blocks.py`` (``CEBlock``, ``candidate_elimination``),
``lib/utils/ce_utils.py``, ``lib/models/layers/head.py``
(``CenterPredictor``), ``lib/train/actors/ostrack.py`` and
``lib/test/tracker/ostrack.py``; DropTrack (Wu et al., CVPR 2023) uses the
same code with the DropMAE encoder and its temporal embeddings.
"""
import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import Tensor, nn

from mmdropmae.datasets.transforms.sot_transforms import sample_target
from mmdropmae.registry import MODELS
from ..layers import resize_pos_embed


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def hann1d(size: int, centered: bool = True) -> Tensor:
    """OSTrack's ``hann1d`` (``lib/test/utils/hann.py``)."""
    if centered:
        return 0.5 * (1 - torch.cos(
            (2 * math.pi / (size + 1)) * torch.arange(1, size + 1).float()))
    w = 0.5 * (1 + torch.cos(
        (2 * math.pi / (size + 2)) * torch.arange(0, size // 2 + 1).float()))
    return torch.cat([w, w[1:size - size // 2].flip((0, ))])


def hann2d(size: Tuple[int, int], centered: bool = True) -> Tensor:
    """(1, 1, H, W) 2D Hann window."""
    return hann1d(size[0], centered).reshape(1, 1, -1, 1) * \
        hann1d(size[1], centered).reshape(1, 1, 1, -1)


def clip_box(box: Sequence[float], height: int, width: int,
             margin: float = 0.) -> List[float]:
    """Clip an (x, y, w, h) box into the image and keep it at least
    ``margin`` pixels wide and high (OSTrack's ``clip_box``; the margin is
    capped by the image size so that the box always lies inside it)."""
    margin = min(float(margin), float(width), float(height))
    x1, y1, w, h = [float(v) for v in box]
    x2, y2 = x1 + w, y1 + h
    x1 = min(max(0., x1), width - margin)
    x2 = min(max(margin, x2), float(width))
    y1 = min(max(0., y1), height - margin)
    y2 = min(max(margin, y2), float(height))
    return [x1, y1, max(margin, x2 - x1), max(margin, y2 - y1)]


def adjust_keep_rate(epoch: int, warmup_epochs: int, total_epochs: int,
                     base_keep_rate: float = 0.5,
                     max_keep_rate: float = 1.) -> float:
    """OSTrack's CE keep-rate schedule (``ce_utils.adjust_keep_rate`` with
    ``ITERS_PER_EPOCH=1``): 1 before ``warmup_epochs``, then a cosine from
    ``max_keep_rate`` to ``base_keep_rate`` until ``total_epochs``."""
    if epoch < warmup_epochs:
        return 1.
    if epoch >= total_epochs:
        return base_keep_rate
    t = (epoch - warmup_epochs) / (total_epochs - warmup_epochs)
    return base_keep_rate + (max_keep_rate - base_keep_rate) * (
        math.cos(t * math.pi) + 1) * 0.5


def template_center_rows(grid: Tuple[int, int], mode: str
                         ) -> Optional[List[int]]:
    """Template token indices whose attention decides candidate elimination
    (OSTrack's ``generate_mask_cond``).

    ``'CTR_POINT'``: the centre token, index ``(s - 1) // 2`` per axis
    (OSTrack: 3 of 8 for 128 px, 5 of 12 for 192 px); ``'CTR_REC'``: the
    central 2x2 tokens; ``'ALL'``: every template token (returns None).
    """
    h, w = grid
    if mode == 'ALL':
        return None
    if mode == 'CTR_POINT':
        rows, cols = [(h - 1) // 2], [(w - 1) // 2]
    elif mode == 'CTR_REC':
        rows = list(range(max(h // 2 - 1, 0), min(h // 2 + 1, h)))
        cols = list(range(max(w // 2 - 1, 0), min(w // 2 + 1, w)))
    else:
        raise ValueError("ce_template_range must be 'ALL', 'CTR_POINT' or "
                         f"'CTR_REC', got {mode!r}")
    return [r * w + c for r in rows for c in cols]


def candidate_elimination(attn_t: Tensor, tokens: Tensor, lens_t: int,
                          keep_ratio: float, global_index: Tensor
                          ) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
    """Keep the search tokens the template attends to most (OSTrack's
    ``candidate_elimination``).

    Args:
        attn_t (Tensor): (B, heads, T', L_s) attention of the chosen template
            tokens to the current search tokens.
        tokens (Tensor): (B, L_t + L_s, C) template then search tokens.
        lens_t (int): Template length.
        keep_ratio (float): Keep ``ceil(keep_ratio * L_s)`` search tokens.
        global_index (Tensor): (B, L_s) original indices of the search
            tokens.

    Returns:
        tuple: new tokens (B, L_t + L_keep, C), the kept global indices
        (B, L_keep) and the removed ones (B, L_s - L_keep) or None when
        nothing is removed.
    """
    lens_s = tokens.shape[1] - lens_t
    lens_keep = math.ceil(keep_ratio * lens_s)
    if lens_keep >= lens_s:
        return tokens, global_index, None
    score = attn_t.mean(dim=2).mean(dim=1)  # B, L_s
    order = torch.argsort(score, dim=1, descending=True)
    topk, rest = order[:, :lens_keep], order[:, lens_keep:]
    keep_index = global_index.gather(1, topk)
    removed_index = global_index.gather(1, rest)
    tokens_t = tokens[:, :lens_t]
    tokens_s = tokens[:, lens_t:]
    b, _, c = tokens_s.shape
    kept = tokens_s.gather(1, topk.unsqueeze(-1).expand(b, -1, c))
    return torch.cat([tokens_t, kept], dim=1), keep_index, removed_index


@dataclass
class TrackState:
    """What the tracker keeps between frames of one video."""
    template: Tensor  # (1, 3, Ht, Wt) normalised template crop
    bbox: List[float]  # current (x, y, w, h) in image pixels
    image_size: Tuple[int, int]  # (H, W)
    frame_id: int = 0
    score: float = 1.
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------
@MODELS.register_module()
class DropTrack(BaseModel):
    """One-stream ViT tracker with candidate elimination and a centre head.

    The template crop ``z`` (``template_factor`` = 2 times the box context,
    ``template_size`` px) and the search crop ``x`` (``search_factor`` = 4
    (256 px) or 5 (384 px, DropTrack) times the context) are patch-embedded
    by the DropMAE ViT, get their position embedding and the DropMAE
    temporal embeddings (``temporal_pos_embed_z`` for the template,
    ``_x`` for the search region), and run jointly ``[z, x]`` through the
    ViT blocks. In blocks ``ce_loc`` (0-based 3, 6, 9, i.e. layers 4, 7,
    10) candidate elimination keeps ``ceil(keep_ratio * L_s)`` search
    tokens, those with the highest attention from the template centre
    token (``ce_template_range='CTR_POINT'``), averaged over heads; it runs
    between the attention and the MLP of the block, as OSTrack's
    ``CEBlock``. After the final norm the search tokens are scattered back
    to the full grid (zeros where removed) and the :class:`CenterHead`
    predicts score, size and offset maps.

    Training (``mode='loss'``): focal loss on the score map with Gaussian
    targets + GIoU (2) + L1 (5) on the box read at the score maximum. The
    CE keep rate follows OSTrack's schedule: 1 (no elimination) before
    ``ce_start_epoch``, a cosine to ``ce_keep_ratio`` over
    ``ce_warm_epochs`` epochs, then ``ce_keep_ratio`` (read from the
    message hub's ``epoch``; without one, ``ce_keep_ratio``).

    Tracking: :meth:`init_track` crops the template around the first box;
    :meth:`track` crops the search region around the previous box
    (``sample_target`` with zero padding), multiplies the score map by a
    Hann window, reads the box at the maximum, maps it back to the image and
    clips it (``clip_margin`` px minimum size, as OSTrack's
    ``clip_box(margin=10)``). ``mode='predict'`` runs this over per-frame
    test items, keeping one state per video (``frame_id == 0`` initialises).

    Args:
        backbone (dict): :class:`VisionTransformer` config; its ``init_cfg``
            loads a DropMAE checkpoint.
        head (dict): :class:`CenterHead` config.
        template_size (int): Template crop side. Defaults to 128.
        search_size (int): Search crop side. Defaults to 256.
        template_factor (float): Template context factor. Defaults to 2.
        search_factor (float): Search context factor. Defaults to 4.
        ce_loc (Sequence[int]): 0-based CE blocks. Defaults to (3, 6, 9).
        ce_keep_ratio (float | Sequence[float]): Keep ratio per CE block.
            Defaults to 0.7.
        ce_template_range (str): 'CTR_POINT' (OSTrack/DropTrack configs),
            'CTR_REC' or 'ALL'.
        ce_start_epoch (int): OSTrack's ``CE_START_EPOCH``. Defaults to 20.
        ce_warm_epochs (int): OSTrack's ``CE_WARM_EPOCH``. Defaults to 50
            (GOT-10k schedule; 80 for the 300-epoch schedule).
        learn_pos_embed (bool): Give template and search their own learned
            position embeddings, initialised from the encoder's (interpolated)
            table, as OSTrack's ``finetune_track`` does (``pos_embed_z``,
            ``pos_embed_x`` parameters). False uses ``backbone.embed`` with
            the encoder's table. Defaults to True.
        test_cfg (dict, optional): ``window`` ('hann' or None),
            ``clip_margin`` (10), ``max_cached_videos`` (8).
        data_preprocessor (dict, optional): Defaults to
            :class:`TrackingDataPreprocessor`.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 template_size: int = 128,
                 search_size: int = 256,
                 template_factor: float = 2.,
                 search_factor: float = 4.,
                 ce_loc: Sequence[int] = (3, 6, 9),
                 ce_keep_ratio: Union[float, Sequence[float]] = 0.7,
                 ce_template_range: str = 'CTR_POINT',
                 ce_start_epoch: int = 20,
                 ce_warm_epochs: int = 50,
                 learn_pos_embed: bool = True,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        data_preprocessor = MODELS.build(
            data_preprocessor or dict(type='TrackingDataPreprocessor'))
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        p = self.backbone.patch_size
        if template_size % p or search_size % p:
            raise ValueError(f'template ({template_size}) and search '
                             f'({search_size}) sizes must be multiples of the '
                             f'patch size {p}')
        self.template_size = template_size
        self.search_size = search_size
        self.template_factor = float(template_factor)
        self.search_factor = float(search_factor)
        self.grid_z = (template_size // p, template_size // p)
        self.grid_x = (search_size // p, search_size // p)
        if self.head.feat_size != self.grid_x[0]:
            raise ValueError(f'head.feat_size {self.head.feat_size} does not '
                             f'match the search grid {self.grid_x}')

        self.ce_loc = tuple(int(i) for i in (ce_loc or ()))
        if isinstance(ce_keep_ratio, (int, float)):
            ce_keep_ratio = [float(ce_keep_ratio)] * len(self.ce_loc)
        if len(ce_keep_ratio) != len(self.ce_loc):
            raise ValueError(f'{len(ce_keep_ratio)} keep ratios for '
                             f'{len(self.ce_loc)} CE blocks')
        if any(i < 0 or i >= self.backbone.num_layers for i in self.ce_loc):
            raise ValueError(f'ce_loc {self.ce_loc} outside the '
                             f'{self.backbone.num_layers} blocks')
        self.ce_keep_ratio = [float(r) for r in ce_keep_ratio]
        self.ce_template_range = ce_template_range
        self.ce_rows = template_center_rows(self.grid_z, ce_template_range)
        self.ce_start_epoch = ce_start_epoch
        self.ce_warm_epochs = ce_warm_epochs

        self.learn_pos_embed = learn_pos_embed
        if learn_pos_embed:
            self.pos_embed_z = nn.Parameter(
                self.backbone.grid_pos_embed(self.grid_z).detach().clone())
            self.pos_embed_x = nn.Parameter(
                self.backbone.grid_pos_embed(self.grid_x).detach().clone())

        self.test_cfg = dict(window='hann', clip_margin=10.,
                             max_cached_videos=8)
        self.test_cfg.update(test_cfg or {})
        if self.test_cfg['window'] not in ('hann', None):
            raise ValueError(f"test_cfg.window must be 'hann' or None, got "
                             f"{self.test_cfg['window']!r}")
        self.register_buffer('output_window', hann2d(self.grid_x), False)
        self._states: 'OrderedDict[object, TrackState]' = OrderedDict()

    # ------------------------------------------------------------- weights
    def init_weights(self) -> None:
        """Initialise (the backbone loads its ``init_cfg`` checkpoint), then
        copy the encoder's interpolated position table into the template and
        search position embeddings.

        A ``Pretrained`` backbone ``init_cfg`` with an empty ``checkpoint``
        is skipped with a warning (random encoder), so that configs can leave
        the checkpoint to ``--cfg-options
        model.backbone.init_cfg.checkpoint=...``."""
        bb_init = self.backbone.init_cfg
        if isinstance(bb_init, dict) and bb_init.get('type') == 'Pretrained' \
                and not bb_init.get('checkpoint'):
            print_log(
                'DropTrack: no DropMAE checkpoint given '
                '(model.backbone.init_cfg.checkpoint is empty): the encoder '
                'starts from random weights', logger='current',
                level=logging.WARNING)
            self.backbone.init_cfg = None
        super().init_weights()
        self.reset_pos_embed()

    @torch.no_grad()
    def reset_pos_embed(self) -> None:
        if self.learn_pos_embed:
            self.pos_embed_z.copy_(self.backbone.grid_pos_embed(self.grid_z))
            self.pos_embed_x.copy_(self.backbone.grid_pos_embed(self.grid_x))

    # ------------------------------------------------------------- network
    def embed(self, img: Tensor, frame: str) -> Tensor:
        """Patch tokens + position + temporal embedding of 'z' or 'x'."""
        if not self.learn_pos_embed:
            return self.backbone.embed(img, frame)
        tokens, grid = self.backbone.patch_embed(img)
        pos = self.pos_embed_z if frame == 'z' else self.pos_embed_x
        ref = self.grid_z if frame == 'z' else self.grid_x
        if tuple(grid) != ref:
            pos = resize_pos_embed(pos, ref, grid, num_extra_tokens=0)
        temporal = getattr(self.backbone, f'temporal_pos_embed_{frame}')
        return tokens + pos + temporal

    def _keep_ratios(self, ce_keep_rate: Optional[float]) -> Dict[int, float]:
        ratios = {}
        for i, r in zip(self.ce_loc, self.ce_keep_ratio):
            # OSTrack's CEBlock: a block with ratio 1, or a scheduled rate
            # of 1, eliminates nothing; otherwise the scheduled rate wins.
            if r < 1 and (ce_keep_rate is None or ce_keep_rate < 1):
                ratios[i] = r if ce_keep_rate is None else ce_keep_rate
        return ratios

    def _ce_block(self, blk: nn.Module, x: Tensor, lens_t: int,
                  keep_ratio: float, global_index: Tensor):
        """One ViT block with candidate elimination after its attention."""
        attn = blk.attn
        q, k, v = attn._qkv(blk.norm1(x))
        out = F.scaled_dot_product_attention(
            q, k, v, dropout_p=attn.attn_drop if self.training else 0.)
        x = x + blk.drop_path(attn._out(out))
        with torch.no_grad():
            qt = q[:, :, :lens_t] if self.ce_rows is None \
                else q[:, :, self.ce_rows]
            attn_t = ((qt * attn.scale) @ k.transpose(-2, -1)).softmax(-1)
            attn_t = attn_t[..., lens_t:]
        x, global_index, removed = candidate_elimination(
            attn_t, x, lens_t, keep_ratio, global_index)
        x = x + blk.drop_path(blk.mlp(blk.norm2(x)))
        return x, global_index, removed

    def extract_feat(self, template: Tensor, search: Tensor,
                     ce_keep_rate: Optional[float] = None
                     ) -> Tuple[Tensor, dict]:
        """Joint encoding; returns the search feature map (B, C, Hx, Wx)
        and ``aux`` with ``removed_indexes`` (list per CE block) and
        ``kept_tokens`` (number of search tokens after each CE block)."""
        z = self.embed(template, 'z')
        x = self.embed(search, 'x')
        b, lens_z, c = z.shape
        lens_x = x.shape[1]
        tokens = torch.cat([z, x], dim=1)
        global_index = torch.arange(
            lens_x, device=x.device).unsqueeze(0).expand(b, -1)
        ratios = self._keep_ratios(ce_keep_rate)
        removed, kept = [], []
        for i, blk in enumerate(self.backbone.blocks):
            if i in ratios:
                tokens, global_index, rem = self._ce_block(
                    blk, tokens, lens_z, ratios[i], global_index)
                if rem is not None:
                    removed.append(rem)
                kept.append(tokens.shape[1] - lens_z)
            else:
                tokens = blk(tokens)
        if self.backbone.final_norm:
            tokens = self.backbone.norm(tokens)
        xs = tokens[:, lens_z:]
        if removed:
            # OSTrack: pad zeros for the removed tokens, then scatter every
            # token back to its original position
            removed_cat = torch.cat(removed, dim=1)
            xs = torch.cat(
                [xs, xs.new_zeros(b, lens_x - xs.shape[1], c)], dim=1)
            index_all = torch.cat([global_index, removed_cat], dim=1)
            xs = torch.zeros_like(xs).scatter_(
                1, index_all.unsqueeze(-1).expand(b, -1, c), xs)
        h, w = search.shape[-2] // self.backbone.patch_size, \
            search.shape[-1] // self.backbone.patch_size
        feat = xs.transpose(1, 2).reshape(b, c, h, w)
        return feat, dict(removed_indexes=removed, kept_tokens=kept,
                          global_index=global_index)

    def forward_pair(self, template: Tensor, search: Tensor,
                     ce_keep_rate: Optional[float] = None) -> dict:
        """Score, size and offset maps of normalised crops."""
        feat, aux = self.extract_feat(template, search, ce_keep_rate)
        score, size, offset = self.head(feat)
        return dict(score_map=score, size_map=size, offset_map=offset, **aux)

    # ------------------------------------------------------------- modes
    def forward(self,
                inputs: Union[dict, List],
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.forward_pair(inputs['template'], inputs['search'])
        raise RuntimeError(f'Invalid mode "{mode}".')

    def current_keep_rate(self) -> Optional[float]:
        """The scheduled CE keep rate of the current epoch (None: use
        ``ce_keep_ratio``)."""
        if not self.ce_loc:
            return None
        epoch = MessageHub.get_current_instance().get_info('epoch', None)
        if epoch is None:
            return None
        return adjust_keep_rate(
            int(epoch), self.ce_start_epoch,
            self.ce_start_epoch + self.ce_warm_epochs,
            base_keep_rate=self.ce_keep_ratio[0])

    def loss(self, inputs: dict,
             data_samples: List[BaseDataElement]) -> Dict[str, Tensor]:
        keep_rate = self.current_keep_rate()
        out = self.forward_pair(inputs['template'], inputs['search'],
                                ce_keep_rate=keep_rate)
        gt = torch.stack([s.gt_bbox for s in data_samples]).to(
            out['score_map'].device).float()
        losses = self.head.loss(out['score_map'], out['size_map'],
                                out['offset_map'], gt)
        losses['ce_keep_rate'] = torch.tensor(
            1. if keep_rate is None and not self.ce_loc else
            (self.ce_keep_ratio[0] if keep_rate is None else keep_rate))
        return losses

    # ------------------------------------------------------------- tracking
    def _device(self) -> torch.device:
        return self.output_window.device

    def preprocess(self, crop: np.ndarray) -> Tensor:
        """An RGB uint8 (S, S, 3) crop -> normalised (1, 3, S, S) tensor on
        the model's device."""
        t = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1)[None]
        return self.data_preprocessor.normalize(t.to(self._device()))

    @staticmethod
    def _as_frame(frame) -> np.ndarray:
        """An RGB uint8 (H, W, 3) array from an array or a (3, H, W) or
        (H, W, 3) tensor."""
        if isinstance(frame, Tensor):
            frame = frame.detach().cpu()
            if frame.ndim == 3 and frame.shape[0] in (1, 3) and \
                    frame.shape[-1] not in (1, 3):
                frame = frame.permute(1, 2, 0)
            frame = frame.numpy()
        frame = np.asarray(frame)
        if frame.ndim == 2:
            frame = np.repeat(frame[..., None], 3, axis=2)
        if frame.ndim != 3 or frame.shape[2] not in (1, 3):
            raise ValueError('expected an (H, W, 3) frame, got shape '
                             f'{frame.shape}')
        if frame.shape[2] == 1:
            frame = np.repeat(frame, 3, axis=2)
        if frame.dtype != np.uint8:
            frame = np.clip(frame, 0, 255).astype(np.uint8)
        return frame

    @staticmethod
    def check_init_bbox(bbox: Sequence[float], image_size: Tuple[int, int]
                        ) -> List[float]:
        """Validate an (x, y, w, h) initial box; raises ``ValueError`` with
        the problem named (degenerate or outside the image)."""
        if len(bbox) != 4:
            raise ValueError(f'the init box needs 4 values (x, y, w, h), got '
                             f'{len(bbox)}: {list(bbox)}')
        x, y, w, h = [float(v) for v in bbox]
        height, width = image_size
        if not all(math.isfinite(v) for v in (x, y, w, h)):
            raise ValueError(f'the init box {list(bbox)} has non-finite '
                             'values')
        if w <= 0 or h <= 0:
            raise ValueError(f'degenerate init box {list(bbox)}: width and '
                             f'height must be > 0 (got w={w:g}, h={h:g})')
        if x >= width or y >= height or x + w <= 0 or y + h <= 0:
            raise ValueError(f'init box {list(bbox)} (x, y, w, h) lies '
                             f'outside the {width}x{height} image')
        return [x, y, w, h]

    @torch.no_grad()
    def init_track(self, frame, bbox: Sequence[float]) -> TrackState:
        """Start tracking: crop the template (``template_factor`` context)
        around ``bbox`` (x, y, w, h) in the RGB ``frame``."""
        frame = self._as_frame(frame)
        size = frame.shape[:2]
        bbox = self.check_init_bbox(bbox, size)
        crop, _ = sample_target(frame, bbox, self.template_factor,
                                self.template_size)
        return TrackState(
            template=self.preprocess(crop), bbox=bbox, image_size=size)

    def map_box_back(self, pred_box: Sequence[float], prev: Sequence[float],
                     resize_factor: float) -> List[float]:
        """(cx, cy, w, h) in search-crop pixels / resize factor -> image
        (x, y, w, h) (OSTrack's ``map_box_back``)."""
        cx_prev = prev[0] + 0.5 * prev[2]
        cy_prev = prev[1] + 0.5 * prev[3]
        cx, cy, w, h = pred_box
        half_side = 0.5 * self.search_size / resize_factor
        cx_real = cx + (cx_prev - half_side)
        cy_real = cy + (cy_prev - half_side)
        return [cx_real - 0.5 * w, cy_real - 0.5 * h, w, h]

    def search_crop(self, frame: np.ndarray, state: TrackState):
        """The search crop (numpy) around the state's box and the resize
        factor."""
        return sample_target(frame, state.bbox, self.search_factor,
                             self.search_size)

    @torch.no_grad()
    def postprocess(self, out: dict, state: TrackState,
                    resize_factor: float) -> Tuple[List[float], float]:
        """Network outputs of one search crop -> the new (unclipped) image
        box (x, y, w, h) and the score at the chosen location: Hann window
        on the score map, box at its maximum, mapped back to the image."""
        score_map = out['score_map']
        response = score_map * self.output_window \
            if self.test_cfg['window'] == 'hann' else score_map
        box = self.head.cal_bbox(response, out['size_map'], out['offset_map'])
        idx = response.flatten(1).argmax(1, keepdim=True)
        score = float(score_map.flatten(1).gather(1, idx))
        pred = (box[0] * self.search_size / resize_factor).tolist()
        return self.map_box_back(pred, state.bbox, resize_factor), score

    @torch.no_grad()
    def track(self, frame, state: TrackState) -> Tuple[np.ndarray, float]:
        """Track one frame: returns the (x, y, w, h) box, clipped to the
        image (at least ``clip_margin`` px wide and high), and the score at
        the chosen location; ``state`` is updated. A non-finite prediction
        keeps the previous box."""
        frame = self._as_frame(frame)
        height, width = frame.shape[:2]
        crop, r = self.search_crop(frame, state)
        out = self.forward_pair(state.template, self.preprocess(crop))
        box, score = self.postprocess(out, state, r)
        if not all(math.isfinite(v) for v in box):
            box, score = list(state.bbox), 0.
        box = clip_box(box, height, width, self.test_cfg['clip_margin'])
        state.bbox = box
        state.score = score
        state.image_size = (height, width)
        state.frame_id += 1
        return np.asarray(box, dtype=np.float32), score

    # ------------------------------------------------------ MMEngine test
    def reset_states(self) -> None:
        """Forget every video's tracking state."""
        self._states.clear()

    @staticmethod
    def _init_box_xywh(meta: dict) -> List[float]:
        if meta.get('init_bbox_xywh') is not None:
            return [float(v) for v in meta['init_bbox_xywh']]
        if meta.get('gt_bbox_xywh') is not None:
            return [float(v) for v in meta['gt_bbox_xywh']]
        box = [float(v) for v in meta['init_bbox']]  # xyxy
        return [box[0], box[1], box[2] - box[0], box[3] - box[1]]

    def predict(self, inputs: List,
                data_samples: List[BaseDataElement]) -> List[BaseDataElement]:
        """Track per-frame test items (``frame_id``, ``video_id`` or
        ``video_name``, and ``init_bbox`` in the metainfo; frame 0
        initialises). Each returned sample gets ``pred_bbox`` (float32 (4,)
        xyxy, image pixels), ``pred_bbox_xywh``, ``pred_score`` and ``time``
        (seconds spent on the frame), next to the input metainfo: the input
        format of ``OPEMetric``/``GOT10kMetric``."""
        results = []
        for frame, sample in zip(inputs, data_samples):
            meta = sample.metainfo
            key = meta.get('video_id', meta.get('video_name'))
            fid = int(meta['frame_id'])
            t0 = time.perf_counter()
            if fid == 0:
                state = self.init_track(frame, self._init_box_xywh(meta))
                self._states.pop(key, None)
                self._states[key] = state
                while len(self._states) > self.test_cfg['max_cached_videos']:
                    self._states.popitem(last=False)
                box, score = np.asarray(state.bbox, np.float32), 1.
            else:
                state = self._states.get(key)
                if state is None:
                    raise RuntimeError(
                        f'frame {fid} of video {key!r} came before its frame '
                        '0: test with VideoSampler (whole videos, in order)')
                if state.frame_id + 1 != fid:
                    raise RuntimeError(
                        f'video {key!r}: frame {fid} follows frame '
                        f'{state.frame_id}; frames must come in order')
                box, score = self.track(frame, state)
            elapsed = time.perf_counter() - t0
            out = BaseDataElement(metainfo=meta)
            xyxy = box.copy()
            xyxy[2:] += xyxy[:2]
            out.pred_bbox = xyxy.astype(np.float32)
            out.pred_bbox_xywh = box.astype(np.float32)
            out.pred_score = float(score)
            out.time = float(elapsed)  # GOT-10k {seq}_time.txt
            results.append(out)
        return results
