from .dropmae_vit import DropMAEViT
from .vision_transformer import VisionTransformer

__all__ = ['VisionTransformer', 'DropMAEViT']
