"""Synthetic videos (textured moving objects, camera motion) written as real
H.264 mp4 files in the Kinetics layout, for tests and CPU-scale runs."""
from .renderer import SyntheticVideoRenderer
from .tap import make_synthetic_tapvid, render_tap_clip
from .writer import (DEFAULT_CLASS_NAMES, make_synthetic_kinetics, write_ann_file,
                     write_corrupt_video, write_synthetic_video, write_video)

__all__ = [
    'SyntheticVideoRenderer', 'DEFAULT_CLASS_NAMES', 'make_synthetic_kinetics',
    'write_ann_file', 'write_corrupt_video', 'write_synthetic_video', 'write_video',
    'make_synthetic_tapvid', 'render_tap_clip'
]
from .lidar import (SyntheticLidarScene, default_kitti_calib,  # noqa: F401,E402
                    make_synthetic_kitti_tracking, write_corrupt_bin)
from .nuscenes import (NUSCENES_SYNTHETIC_SCENES,  # noqa: F401,E402
                       make_synthetic_nuscenes, write_corrupt_pcd_bin)
