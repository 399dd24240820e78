"""Pure numpy metric functions and result-file helpers."""
from .vos_metrics import *  # noqa: F401,F403
