"""Reading fields of the predictions that metrics receive."""
from typing import Any

#: Default of :func:`get_sample_field` meaning "no default: caller decides".
MISSING = object()


def get_sample_field(sample: Any, key: str, default: Any = MISSING) -> Any:
    """A field of one prediction, whatever its container.

    Looks in a dict (top level, then its ``metainfo`` dict) or in an MMEngine
    data element (metainfo, then data fields).

    Returns:
        The value, or ``default`` when absent (``MISSING`` unless given).
    """
    if isinstance(sample, dict):
        if key in sample:
            return sample[key]
        meta = sample.get('metainfo')
        return meta[key] if isinstance(meta, dict) and key in meta else default
    meta = getattr(sample, 'metainfo', None)
    if isinstance(meta, dict) and key in meta:
        return meta[key]
    return getattr(sample, key, default)
