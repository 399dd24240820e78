from .dropmae import DropMAE

__all__ = ['DropMAE']
