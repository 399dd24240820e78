from .tracking_visualizer import TrackingVisualizer, track_colors

__all__ = ['TrackingVisualizer', 'track_colors']
from .tap_drawer import draw_tap_frame, draw_tap_video, write_tap_video  # noqa: F401,E402
from .sot3d_drawer import SOT3DDrawer, draw_bev_frame  # noqa: F401,E402
