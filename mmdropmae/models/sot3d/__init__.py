"""3D single-object tracking on LiDAR points."""
from .bev_tracker import BEVTrack, SOT3DTrackingWarning

__all__ = ['BEVTrack', 'SOT3DTrackingWarning']
