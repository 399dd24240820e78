from .dropseg import (BootstrappedCELoss, DropSeg, VOSDataPreprocessor, aggregate_objects,
                      bootstrap_top_p)

__all__ = [
    'DropSeg', 'VOSDataPreprocessor', 'BootstrappedCELoss', 'aggregate_objects',
    'bootstrap_top_p'
]
