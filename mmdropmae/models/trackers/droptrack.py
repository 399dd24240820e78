"""DropTrack: the OSTrack-style one-stream ViT tracker on a DropMAE encoder.

This file holds the network and its training; candidate elimination is a
token selector of the backbone
(:class:`~mmdropmae.models.layers.CandidateElimination`), the head is
:class:`~mmdropmae.models.heads.CenterHead` and the test-time logic (crop,
Hann window, map-back, clip, one state per video) is
:class:`~mmdropmae.models.trackers.base_sot_tracker.BaseSOTTracker`.

References (public code of the papers; values cited where they are used):
OSTrack (Ye et al., ECCV 2022) ``lib/models/ostrack/vit_ce.py``,
``lib/models/layers/attn_blocks.py`` (``CEBlock``, ``candidate_elimination``),
``lib/utils/ce_utils.py``, ``lib/models/layers/head.py``
(``CenterPredictor``), ``lib/train/actors/ostrack.py`` and
``lib/test/tracker/ostrack.py``; DropTrack (Wu et al., CVPR 2023) uses the
same code with the DropMAE encoder and its temporal embeddings.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import MessageHub
from torch import Tensor

from mmdropmae.registry import MODELS
from mmdropmae.structures.data_sample import DataSample
from ..base.template_search import TemplateSearchEmbedMixin
from ..layers import CandidateElimination, adjust_keep_rate
from .base_sot_tracker import BaseSOTTracker, hann2d


@MODELS.register_module()
class DropTrack(TemplateSearchEmbedMixin, BaseSOTTracker):
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
    By default the crop and the normalisation use OSTrack's arithmetic
    (``lib/test/tracker/ostrack.py``, ``processing_utils.sample_target``,
    ``data_utils.Preprocessor``), so that released DropTrack / OSTrack
    weights (``tools/model_converters/ostrack_to_mmdropmae.py``) track
    frame by frame as the reference tracker does (docs/droptrack_parity.md).

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
            ``clip_margin`` (10), ``max_cached_videos`` (8), ``crop``
            ('ostrack': OSTrack's rounded, padded and resized crop, the
            default; 'warp': the sub-pixel warp of the training pipelines),
            ``normalize`` ('ostrack': ``(x / 255 - mean) / std`` as OSTrack's
            ``Preprocessor``, the default; 'preprocessor': the data
            preprocessor's ``normalize``).
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
        self.init_template_search(template_size, search_size, learn_pos_embed)
        self.template_factor = float(template_factor)
        self.search_factor = float(search_factor)
        if self.head.feat_size != self.grid_x[0]:
            raise ValueError(f'head.feat_size {self.head.feat_size} does not '
                             f'match the search grid {self.grid_x}')

        self.token_selector = CandidateElimination(ce_loc, ce_keep_ratio, ce_template_range)
        self.ce_loc = self.token_selector.ce_layers
        self.ce_keep_ratio = self.token_selector.keep_ratio
        if any(i < 0 or i >= self.backbone.num_layers for i in self.ce_loc):
            raise ValueError(f'ce_loc {self.ce_loc} outside the '
                             f'{self.backbone.num_layers} blocks')
        self.ce_start_epoch = ce_start_epoch
        self.ce_warm_epochs = ce_warm_epochs

        # test-time arithmetic: OSTrack's (lib/test/tracker/ostrack.py) by
        # default, so that released weights give the published numbers
        # (docs/droptrack_parity.md lists every difference)
        self.test_cfg = dict(window='hann', clip_margin=10., max_cached_videos=8,
                             crop='ostrack', normalize='ostrack')
        self.test_cfg.update(test_cfg or {})
        if self.test_cfg['window'] not in ('hann', None):
            raise ValueError(f"test_cfg.window must be 'hann' or None, got "
                             f"{self.test_cfg['window']!r}")
        for key, choices in (('crop', ('ostrack', 'warp')),
                             ('normalize', ('ostrack', 'preprocessor'))):
            if self.test_cfg[key] not in choices:
                raise ValueError(f'test_cfg.{key} must be one of {choices}, got '
                                 f'{self.test_cfg[key]!r}')
        self.register_buffer('output_window', hann2d(self.grid_x), False)

    # ------------------------------------------------------------- weights
    def init_weights(self) -> None:
        """Initialise (the backbone loads its ``init_cfg`` checkpoint, an
        empty one is skipped with a warning), then copy the encoder's
        interpolated position table into the template and search position
        embeddings."""
        super().init_weights()
        self.reset_pos_embed()

    # ------------------------------------------------------------- network
    def extract_feat(self, template: Tensor, search: Tensor,
                     ce_keep_rate: Optional[float] = None
                     ) -> Tuple[Tensor, dict]:
        """Joint encoding; returns the search feature map (B, C, Hx, Wx)
        and ``aux`` with ``removed_indexes`` (list per CE block),
        ``kept_tokens`` (number of search tokens after each CE block) and
        ``global_index`` (the kept tokens' grid indices)."""
        z = self.embed(template, 'z')
        x = self.embed(search, 'x')
        b, lens_z, _ = z.shape
        lens_x = x.shape[1]
        grid_z = (template.shape[-2] // self.backbone.patch_size,
                  template.shape[-1] // self.backbone.patch_size)
        grid_x = (search.shape[-2] // self.backbone.patch_size,
                  search.shape[-1] // self.backbone.patch_size)
        ce = self.token_selector
        ce.reset(grid_z, lens_x, b, x.device, ce_keep_rate)
        tokens = self.backbone.forward_tokens(
            torch.cat([z, x], dim=1), out_indices=-1, token_selector=ce)[0]
        feat = self.backbone.tokens_to_featmap(ce.restore(tokens[:, lens_z:]), grid_x)
        return feat, dict(removed_indexes=ce.removed_indexes, kept_tokens=ce.kept_tokens,
                          global_index=ce.global_index)

    def forward_pair(self, template: Tensor, search: Tensor,
                     ce_keep_rate: Optional[float] = None) -> dict:
        """Score, size and offset maps of normalised crops."""
        feat, aux = self.extract_feat(template, search, ce_keep_rate)
        score, size, offset = self.head(feat)
        return dict(score_map=score, size_map=size, offset_map=offset, **aux)

    def _forward(self, inputs: dict, data_samples=None) -> dict:
        return self.forward_pair(inputs['template'], inputs['search'])

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
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
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
