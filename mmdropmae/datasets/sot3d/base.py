"""The shared part of the 3D single-object tracking data sets: tracklets ->
items, the ``VideoSampler`` API and random training draws."""
import random
from typing import Dict, List

from mmengine.dataset import BaseDataset


class BaseSOT3DDataset(BaseDataset):
    """Tracklets of LiDAR frames as per-frame test items or Open3DSOT's
    ``firstandprevious`` training items.

    Subclasses implement :meth:`load_tracklets` (the filtered tracklets,
    each a dict with ``name``, ``scene``, ``track_id``, ``category`` and
    per-frame lists ``frames`` (frame numbers in the scene), ``boxes``,
    ``points_paths``) and may add per-frame fields in :meth:`frame_extras`.

    ``test_mode=True``: one item per frame of every tracklet, tracklet after
    tracklet (use ``VideoSampler``): ``points_path``, ``gt_bbox_3d`` (7,),
    ``video_id``, ``video_name``, ``frame_id`` (index in the tracklet),
    ``video_length``, ``scene``, ``track_id``, ``kitti_frame`` (the frame
    number in the scene, which messages name), ``category`` and the extras.

    ``test_mode=False``: for a frame ``t >= 1`` of a tracklet, ``frames`` =
    [first, previous, current], each with ``points_path``, ``box``,
    ``kitti_frame``, ``where`` and the extras. With ``samples_per_epoch``
    the items are drawn at random (tracklet uniform, then frame); otherwise
    every (tracklet, t) once.
    """

    samples_per_epoch = None

    def load_tracklets(self) -> List[dict]:
        """The tracklets of the data set (see the class docstring)."""
        raise NotImplementedError

    def frame_extras(self, tracklet: dict, j: int) -> Dict:
        """Extra fields of frame ``j`` of ``tracklet`` (test items and
        training frames). Default: none."""
        return {}

    def load_data_list(self) -> List[dict]:
        self.tracklets = self.load_tracklets()
        items: List[dict] = []
        self._ranges = []
        for v, t in enumerate(self.tracklets):
            n = len(t['frames'])
            start = len(items)
            if self.test_mode:
                items += [self._test_item(v, i) for i in range(n)]
            else:
                items += [self._train_item(v, i) for i in range(1, n)]
            self._ranges.append(range(start, len(items)))
        return items

    def _test_item(self, v: int, i: int) -> dict:
        t = self.tracklets[v]
        return dict(points_path=t['points_paths'][i], gt_bbox_3d=t['boxes'][i].copy(),
                    video_id=v, video_name=t['name'], frame_id=i, video_length=len(t['frames']),
                    scene=t['scene'], track_id=t['track_id'], kitti_frame=t['frames'][i],
                    category=t['category'], **self.frame_extras(t, i))

    def _train_item(self, v: int, i: int) -> dict:
        t = self.tracklets[v]
        frames = [dict(points_path=t['points_paths'][j], box=t['boxes'][j].copy(),
                       kitti_frame=t['frames'][j],
                       where=f"scene {t['scene']} frame {t['frames'][j]}",
                       **self.frame_extras(t, j)) for j in (0, i - 1, i)]
        return dict(frames=frames, video_name=t['name'], frame_id=i, category=t['category'])

    # ---------------------------------------------------- VideoSampler API
    @property
    def num_videos(self) -> int:
        self.full_init()
        return len(self.tracklets)

    def get_len_per_video(self, video_idx: int) -> int:
        self.full_init()
        return len(self.tracklets[video_idx]['frames'])

    def video_frame_range(self, video_idx: int) -> range:
        self.full_init()
        return self._ranges[video_idx]

    # ---------------------------------------------------------- training
    def __len__(self) -> int:
        if not self.test_mode and self.samples_per_epoch:
            return int(self.samples_per_epoch)
        return super().__len__()

    def prepare_data(self, idx: int):
        if not self.test_mode and self.samples_per_epoch:
            v = random.randrange(len(self.tracklets))
            i = random.randrange(1, len(self.tracklets[v]['frames']))
            return self.pipeline(self._train_item(v, i))
        return super().prepare_data(idx)
