"""Template / search inputs of one-stream trackers: their token grids and
their own position tables."""
from typing import Tuple

import torch
from torch import Tensor, nn


class TemplateSearchEmbedMixin:
    """Embedding of a template (``'z'``) and a search (``'x'``) image for a
    one-stream tracker whose ``self.backbone`` is a ``VisionTransformer``.

    With ``learn_pos_embed`` each input gets its own learned position table
    (``pos_embed_z``, ``pos_embed_x``: OSTrack's ``finetune_track``), set
    from the encoder's table interpolated to its grid; without it both use
    the encoder's table through ``backbone.embed``. The temporal embeddings
    ``z`` / ``x`` mark the two inputs in both cases. Used by DropTrack (RGB
    crops) and BEVTrack (bird's-eye-view images).
    """

    def init_template_search(self, template_size: int, search_size: int,
                             learn_pos_embed: bool) -> None:
        """Set ``template_size``, ``search_size``, ``grid_z``, ``grid_x`` and
        the position tables (call after ``self.backbone`` exists)."""
        p = self.backbone.patch_size
        if template_size % p or search_size % p:
            raise ValueError(f'template ({template_size}) and search ({search_size}) sizes '
                             f'must be multiples of the patch size {p}')
        self.template_size = template_size
        self.search_size = search_size
        self.grid_z: Tuple[int, int] = (template_size // p, template_size // p)
        self.grid_x: Tuple[int, int] = (search_size // p, search_size // p)
        self.learn_pos_embed = learn_pos_embed
        if learn_pos_embed:
            self.pos_embed_z = nn.Parameter(
                self.backbone.grid_pos_embed(self.grid_z).detach().clone())
            self.pos_embed_x = nn.Parameter(
                self.backbone.grid_pos_embed(self.grid_x).detach().clone())

    @torch.no_grad()
    def reset_pos_embed(self) -> None:
        """Copy the encoder's (loaded) table, interpolated, into the
        template and search tables."""
        if self.learn_pos_embed:
            self.pos_embed_z.copy_(self.backbone.grid_pos_embed(self.grid_z))
            self.pos_embed_x.copy_(self.backbone.grid_pos_embed(self.grid_x))

    def embed(self, img: Tensor, frame: str) -> Tensor:
        """Patch tokens + position + temporal embedding of ``'z'`` or ``'x'``."""
        if not self.learn_pos_embed:
            return self.backbone.embed(img, frame)
        if frame == 'z':
            return self.backbone.embed(img, 'z', self.pos_embed_z, self.grid_z)
        return self.backbone.embed(img, 'x', self.pos_embed_x, self.grid_x)
