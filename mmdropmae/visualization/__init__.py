from .tracking_visualizer import TrackingVisualizer, track_colors

__all__ = ['TrackingVisualizer', 'track_colors']
