"""Self-supervised correspondence: label propagation with frozen encoders."""
from .label_propagation import (LabelPropagation, PatchPixelEncoder, neighbourhood_mask,
                                propagate_labels, propagate_step)

__all__ = ['LabelPropagation', 'PatchPixelEncoder', 'neighbourhood_mask', 'propagate_labels',
           'propagate_step']
