from .ckpt_convert import (CheckpointError, extract_encoder, is_decoder_key,
                           load_checkpoint_file,
                           mmdropmae_to_reference, reference_to_mmdropmae,
                           unwrap_state_dict)

__all__ = [
    'CheckpointError', 'load_checkpoint_file',
    'extract_encoder', 'is_decoder_key', 'mmdropmae_to_reference',
    'reference_to_mmdropmae', 'unwrap_state_dict'
]
