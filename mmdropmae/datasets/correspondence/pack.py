"""Wrap a whole-video entry so that MMEngine's ``pseudo_collate`` keeps it
intact (a plain nested dict would be collated key by key)."""
from mmengine.structures import BaseDataElement

from mmdropmae.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackSequence:
    """``entry -> dict(data_samples=BaseDataElement(metainfo=entry))``.

    One data item is one whole video; ``LabelPropagation.test_step`` reads the
    entry back from the metainfo.
    """

    def __call__(self, results: dict) -> dict:
        return dict(data_samples=BaseDataElement(metainfo=dict(results)))

    def __repr__(self) -> str:
        return 'PackSequence()'
