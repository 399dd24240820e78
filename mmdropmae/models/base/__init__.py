from .base_model import BaseTaskModel
from .base_online_tracker import BaseOnlineTracker, VideoStateCache
from .template_search import TemplateSearchEmbedMixin

__all__ = ['BaseTaskModel', 'BaseOnlineTracker', 'VideoStateCache', 'TemplateSearchEmbedMixin']
