from .mae_head import MAEPretrainHead, patchify, unpatchify

__all__ = ['MAEPretrainHead', 'patchify', 'unpatchify']
