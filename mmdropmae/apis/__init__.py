from .temporal_matching import (decoder_attention_layers, denormalize,
                                keep_decoder_attention,
                                probe_temporal_matching, reconstruction_grid)

__all__ = [
    'decoder_attention_layers', 'denormalize', 'keep_decoder_attention',
    'probe_temporal_matching', 'reconstruction_grid'
]
