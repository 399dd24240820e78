"""3D single-object tracking data: KITTI tracking and nuScenes LiDAR
tracklets."""
from .kitti_tracking import (SOT3D_CATEGORIES, KittiAnnotationError, KittiTrackingSOTDataset,
                             build_tracklets, kitti_scene_list, read_kitti_calib,
                             read_kitti_tracking_labels)
from .nuscenes import (NUSCENES_SOT_CATEGORIES, NuScenesDataError, NuScenesSOTDataset,
                       build_nuscenes_tracklets, load_nuscenes, nuscenes_box_to_lidar,
                       nuscenes_general_classes)
from .points_io import POINT_EXTENSIONS, PointCloudReadError, load_points

__all__ = [
    'KittiTrackingSOTDataset', 'KittiAnnotationError', 'build_tracklets', 'kitti_scene_list',
    'read_kitti_calib', 'read_kitti_tracking_labels', 'SOT3D_CATEGORIES', 'PointCloudReadError',
    'load_points', 'POINT_EXTENSIONS', 'NuScenesSOTDataset', 'NuScenesDataError',
    'NUSCENES_SOT_CATEGORIES', 'build_nuscenes_tracklets', 'load_nuscenes',
    'nuscenes_box_to_lidar', 'nuscenes_general_classes'
]
