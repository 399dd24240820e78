from .base_model import BaseTaskModel
from .base_online_tracker import BaseOnlineTracker, VideoStateCache

__all__ = ['BaseTaskModel', 'BaseOnlineTracker', 'VideoStateCache']
