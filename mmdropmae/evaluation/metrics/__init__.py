
from .sot_metric import GOT10kMetric, OPEMetric  # noqa: F401
from .vos_metric import VOSMetric  # noqa: F401
from .correspondence_metric import PCKMetric, mIoUMetric  # noqa: F401
from .dump_results import DumpResults  # noqa: F401
from .tap_metric import TAPVidMetric  # noqa: F401
from .flow_metric import FlowMetric  # noqa: F401
from .sot3d_metric import SOT3DMetric  # noqa: F401
