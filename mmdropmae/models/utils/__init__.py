from .ckpt_convert import (extract_encoder, is_decoder_key,
                           mmdropmae_to_reference, reference_to_mmdropmae,
                           unwrap_state_dict)

__all__ = [
    'extract_encoder', 'is_decoder_key', 'mmdropmae_to_reference',
    'reference_to_mmdropmae', 'unwrap_state_dict'
]
