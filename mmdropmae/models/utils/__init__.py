from .ckpt_convert import (CheckpointError, extract_encoder, is_decoder_key,
                           load_checkpoint_file, mmdropmae_to_reference,
                           reference_to_mmdropmae, unwrap_state_dict)
from .ostrack_convert import (infer_tracker_arch, is_droptrack_state,
                              is_ostrack_tracker_state, load_tracker_state,
                              mmdropmae_to_ostrack, ostrack_to_mmdropmae)
from .safe_unpickle import StubObject, safe_torch_load

__all__ = [
    'CheckpointError', 'load_checkpoint_file',
    'extract_encoder', 'is_decoder_key', 'mmdropmae_to_reference',
    'reference_to_mmdropmae', 'unwrap_state_dict', 'ostrack_to_mmdropmae',
    'mmdropmae_to_ostrack', 'is_ostrack_tracker_state', 'is_droptrack_state',
    'infer_tracker_arch', 'load_tracker_state', 'safe_torch_load', 'StubObject'
]
