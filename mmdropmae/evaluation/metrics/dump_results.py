"""``tools/test.py --out``: every prediction dumped, whole videos included."""
from typing import Any, Sequence

from mmengine.evaluator import DumpResults as _MMEngineDumpResults
from mmengine.evaluator.metric import _to_cpu

from mmdropmae.registry import METRICS
from .sample_utils import extend_per_item, flatten_items


@METRICS.register_module()
class DumpResults(_MMEngineDumpResults):
    """MMEngine's ``DumpResults`` (a pickle of the predictions' dicts), with
    the predictions of whole-video data items kept.

    MMEngine's version appends one entry per prediction, and its
    ``evaluate`` keeps the first ``len(dataset)`` entries: for a data set of
    videos whose model returns one prediction per frame (DropSeg, label
    propagation) the dump held only the first frames. Here the entries are
    grouped per data item (:func:`extend_per_item`) and flattened again
    before writing, so the file holds every prediction, in order.

    Args:
        out_file_path (str): The ``.pkl`` / ``.pickle`` file.
    """

    def process(self, data_batch: Any, predictions: Sequence[dict]) -> None:
        extend_per_item(self.results, _to_cpu(list(predictions)), data_batch)

    def compute_metrics(self, results: list) -> dict:
        return super().compute_metrics(flatten_items(results))
