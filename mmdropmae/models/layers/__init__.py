from .asad import (asad_drop_indices, asad_drop_mask, asad_drop_mask_reference, asad_drop_score,
                   asad_keep_mask, frame_attention_stats, native_available, num_asad_drops)
from .attention import ASADAttention, Attention
from .correlation import CorrBlock, bilinear_sampler, coords_grid  # noqa: F401
from .pos_embed import build_2d_sincos_position_embedding, resize_pos_embed
from .token_selection import (CandidateElimination, TokenSelector, adjust_keep_rate,
                              candidate_elimination, template_center_rows)
from .transformer import DropPath, Mlp, TransformerBlock

__all__ = [
    'asad_drop_indices', 'asad_drop_mask', 'asad_drop_mask_reference', 'asad_drop_score',
    'asad_keep_mask', 'native_available',
    'frame_attention_stats', 'num_asad_drops', 'Attention', 'ASADAttention',
    'build_2d_sincos_position_embedding', 'resize_pos_embed', 'DropPath',
    'Mlp', 'TransformerBlock', 'TokenSelector', 'CandidateElimination', 'adjust_keep_rate',
    'candidate_elimination', 'template_center_rows'
]
