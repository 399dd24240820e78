"""Token selection between the attention and the MLP of ViT blocks.

:meth:`VisionTransformer.forward_tokens
<mmdropmae.models.VisionTransformer.forward_tokens>` takes a
:class:`TokenSelector`: in each block of ``selector.layers`` it runs the
attention half, hands the tokens (and the attention weights of the query
rows the selector asks for) to :meth:`TokenSelector.select`, then runs the
MLP half on what the selector returns. Candidate elimination (OSTrack, Ye et
al. ECCV 2022, ``lib/models/layers/attn_blocks.py``: ``CEBlock``,
``candidate_elimination``; ``lib/utils/ce_utils.py``) is one such selector.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from mmdropmae.registry import MODELS


class TokenSelector:
    """Base of the selectors :class:`VisionTransformer` runs between blocks.

    A selector holds the state of one forward pass: call :meth:`reset`
    before each pass. Subclasses set :attr:`layers` (0-based block indices
    where they act) and implement :meth:`select`; :meth:`attn_rows` names the
    query rows whose attention weights :meth:`select` receives (None: no
    weights needed).
    """

    layers: Sequence[int] = ()

    def reset(self, *args, **kwargs) -> None:
        """Start a forward pass."""

    def attn_rows(self, layer: int):
        """Query rows (slice / list / index tensor) whose attention weights
        block ``layer`` should return, or None."""
        return None

    def select(self, layer: int, tokens: Tensor,
               attn: Optional[Tensor]) -> Tensor:
        """Tokens (B, L, C) after the attention of block ``layer`` -> the
        tokens the MLP half (and the next blocks) see."""
        raise NotImplementedError


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


@MODELS.register_module()
class CandidateElimination(TokenSelector):
    """OSTrack's candidate elimination for ``[template, search]`` tokens.

    In each block of ``layers`` it keeps the ``ceil(keep_ratio * L_s)``
    search tokens with the highest attention from the template rows of
    ``template_range`` (averaged over those rows and the heads); the template
    tokens always stay. After the forward pass :meth:`restore` scatters the
    search tokens back to the full grid (zeros where removed), as OSTrack's
    ``VisionTransformerCE.forward_features``.

    Args:
        layers (Sequence[int]): 0-based blocks (OSTrack ``CE_LOC``
            3, 6, 9, i.e. layers 4, 7, 10).
        keep_ratio (float | Sequence[float]): Keep ratio per block
            (``CE_KEEP_RATIO`` 0.7).
        template_range (str): 'CTR_POINT' (OSTrack/DropTrack configs),
            'CTR_REC' or 'ALL' (:func:`template_center_rows`).
    """

    def __init__(self,
                 layers: Sequence[int] = (3, 6, 9),
                 keep_ratio: Union[float, Sequence[float]] = 0.7,
                 template_range: str = 'CTR_POINT'):
        self.ce_layers = tuple(int(i) for i in (layers or ()))
        if isinstance(keep_ratio, (int, float)):
            keep_ratio = [float(keep_ratio)] * len(self.ce_layers)
        if len(keep_ratio) != len(self.ce_layers):
            raise ValueError(f'{len(keep_ratio)} keep ratios for '
                             f'{len(self.ce_layers)} CE blocks')
        self.keep_ratio = [float(r) for r in keep_ratio]
        template_center_rows((1, 1), template_range)  # validates the name
        self.template_range = template_range
        self.layers: Dict[int, float] = {}

    def keep_ratios(self, keep_rate: Optional[float] = None
                    ) -> Dict[int, float]:
        """Block -> keep ratio of a pass with the scheduled ``keep_rate``.

        OSTrack's ``CEBlock``: a block with ratio 1, or a scheduled rate of 1,
        eliminates nothing (and is left out); otherwise the scheduled rate
        replaces the configured ratio."""
        ratios = {}
        for i, r in zip(self.ce_layers, self.keep_ratio):
            if r < 1 and (keep_rate is None or keep_rate < 1):
                ratios[i] = r if keep_rate is None else keep_rate
        return ratios

    def reset(self, template_grid: Tuple[int, int], num_search: int,
              batch_size: int, device: torch.device,
              keep_rate: Optional[float] = None) -> None:
        """Start a pass over ``[template (template_grid), search
        (num_search)]`` tokens of ``batch_size`` samples."""
        self.lens_t = template_grid[0] * template_grid[1]
        self.num_search = num_search
        rows = template_center_rows(template_grid, self.template_range)
        self.rows = slice(0, self.lens_t) if rows is None else rows
        self.layers = self.keep_ratios(keep_rate)
        self.global_index = torch.arange(
            num_search, device=device).unsqueeze(0).expand(batch_size, -1)
        self.removed_indexes: List[Tensor] = []
        self.kept_tokens: List[int] = []

    def attn_rows(self, layer: int):
        return self.rows

    def select(self, layer: int, tokens: Tensor,
               attn: Optional[Tensor]) -> Tensor:
        tokens, self.global_index, removed = candidate_elimination(
            attn[..., self.lens_t:], tokens, self.lens_t, self.layers[layer],
            self.global_index)
        if removed is not None:
            self.removed_indexes.append(removed)
        self.kept_tokens.append(tokens.shape[1] - self.lens_t)
        return tokens

    def restore(self, search_tokens: Tensor) -> Tensor:
        """(B, L_keep, C) kept search tokens -> (B, L_s, C) in grid order,
        zeros at the removed positions (OSTrack's ``recover_tokens``)."""
        if not self.removed_indexes:
            return search_tokens
        b, _, c = search_tokens.shape
        xs = torch.cat([
            search_tokens,
            search_tokens.new_zeros(b, self.num_search - search_tokens.shape[1],
                                    c)
        ], dim=1)
        index_all = torch.cat([self.global_index] + self.removed_indexes,
                              dim=1)
        return torch.zeros_like(xs).scatter_(
            1, index_all.unsqueeze(-1).expand(b, -1, c), xs)
