"""Tracking any point: the DropTAP point tracker and its modules."""
from .correlation import (CorrelationPyramid, bilinear_sample, correlation_volume,
                          raster_to_grid, soft_argmax_init)
from .drop_tap import DropTAP, TAPDataPreprocessor
from .feature_neck import TAPFeatureNeck
from .refiner import TAPRefiner, TAPVisibilityHead

__all__ = ['CorrelationPyramid', 'bilinear_sample', 'correlation_volume', 'raster_to_grid',
           'soft_argmax_init', 'DropTAP', 'TAPDataPreprocessor', 'TAPFeatureNeck',
           'TAPRefiner', 'TAPVisibilityHead']
