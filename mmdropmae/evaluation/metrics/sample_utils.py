"""Reading fields of the predictions that metrics receive."""
from typing import Any, List, Optional, Sequence

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


def batch_size(data_batch: Any) -> Optional[int]:
    """Number of data items (data set entries) in a batch, or ``None``."""
    if isinstance(data_batch, dict):
        for key in ('data_samples', 'inputs'):
            v = data_batch.get(key)
            if isinstance(v, (list, tuple)):
                return len(v)
            if hasattr(v, 'shape') and len(getattr(v, 'shape')):
                return int(v.shape[0])
        return None
    if isinstance(data_batch, (list, tuple)):
        return len(data_batch)
    return None


def extend_per_item(results: List, entries: Sequence, data_batch: Any) -> None:
    """Append a batch's result entries to ``results`` as one list per data
    item.

    MMEngine's ``BaseMetric.evaluate`` keeps the first ``len(dataset)``
    entries of ``results`` (``collect_results`` drops the padding of
    distributed samplers). A whole-video data item gives one prediction per
    frame, so a metric appending one entry per prediction would be cut to
    the first frames. Here every item gets exactly one entry: a list with its
    entries when the batch has one entry per item, else all entries in the
    first item's list and empty lists for the others (a batch of whole
    videos). ``compute_metrics`` flattens them with :func:`flatten_items`.
    """
    n_items = batch_size(data_batch) or len(entries)
    if n_items == len(entries):
        results.extend([e] for e in entries)
    else:
        results.append(list(entries))
        results.extend([] for _ in range(max(0, n_items - 1)))


def flatten_items(results: Sequence[Sequence]) -> List:
    """The entries of :func:`extend_per_item`'s per-item lists, in order."""
    return [e for item in results for e in item]
