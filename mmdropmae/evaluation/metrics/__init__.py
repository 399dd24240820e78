
from .vos_metric import VOSMetric  # noqa: F401
