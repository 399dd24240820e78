from ..data_preprocessors import VOSDataPreprocessor
from .dropseg import BootstrappedCELoss, DropSeg, aggregate_objects, bootstrap_top_p

__all__ = [
    'DropSeg', 'VOSDataPreprocessor', 'BootstrappedCELoss', 'aggregate_objects',
    'bootstrap_top_p'
]
