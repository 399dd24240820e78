from .tracking_visualizer import TrackingVisualizer, track_colors

__all__ = ['TrackingVisualizer', 'track_colors']
from .sot3d_drawer import SOT3DDrawer, draw_bev_frame  # noqa: F401,E402
