from .dropmae_decoder import DropMAEPretrainDecoder

__all__ = ['DropMAEPretrainDecoder']
