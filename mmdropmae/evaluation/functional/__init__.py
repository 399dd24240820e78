"""Pure numpy metric functions and result-file helpers."""
from .sot_metrics import *  # noqa: F401,F403
from .sot_results import *  # noqa: F401,F403
from .sot_eval import *  # noqa: F401,F403
from .vos_metrics import *  # noqa: F401,F403
from .flow_metrics import *  # noqa: F401,F403
from .flow_io import *  # noqa: F401,F403
from .sot3d_metrics import *  # noqa: F401,F403
