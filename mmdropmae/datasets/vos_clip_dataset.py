"""Training clips for video object segmentation (STCN-style sampling).

Each item is a clip of ``num_frames`` (3: a reference + 2) annotated frames
of one sequence of the wrapped VOS data sets (DAVIS, YouTube-VOS, in
``mode='sequence'``), sampled as STCN's ``VOSDataset``: a first frame at
random, then each further frame within ``max_skip`` of the previous one
(distinct), sorted, reversed with ``reverse_prob``; up to ``max_objects``
objects visible in the reference (first) frame are chosen at random. The
pipeline (:mod:`mmdropmae.datasets.transforms.vos_transforms`) reads and
augments the clip.
"""
import copy
from typing import List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset

from mmdropmae.registry import DATASETS, TRANSFORMS


@DATASETS.register_module()
class VOSClipDataset(BaseDataset):
    """Sample training clips from VOS sequence data sets.

    Args:
        datasets (list[dict]): VOS data set configs (built with
            ``mode='sequence'``).
        dataset_weights (list[float], optional): Sampling weight of each data
            set (default: by number of sequences).
        samples_per_epoch (int, optional): Items per epoch (default: the
            number of sequences).
        num_frames (int): Frames per clip (STCN: 3).
        max_skip (int | list[int]): Largest gap between consecutive sampled
            frames, per data set if a list (STCN: curriculum 5..25 on
            YouTube-VOS (in its 5-fps frames) / 25 on DAVIS).
        max_objects (int): Objects per clip (STCN: 2).
        reverse_prob (float): Probability to reverse the clip order.
        pipeline (list): Transforms.
        max_tries (int): Draws of a clip until its first frame has an object.
    """

    def __init__(self,
                 datasets: Sequence[dict],
                 dataset_weights: Optional[Sequence[float]] = None,
                 samples_per_epoch: Optional[int] = None,
                 num_frames: int = 3,
                 max_skip: Union[int, Sequence[int]] = 5,
                 max_objects: int = 2,
                 reverse_prob: float = 0.5,
                 pipeline: Sequence = (),
                 max_tries: int = 20,
                 serialize_data: bool = False,
                 **kwargs):
        self.dataset_cfgs = [copy.deepcopy(d) for d in datasets]
        self.num_frames = num_frames
        self.max_skip = max_skip
        self.max_objects = max_objects
        self.reverse_prob = reverse_prob
        self.max_tries = max_tries
        self._weights = dataset_weights
        self._samples_per_epoch = samples_per_epoch
        # build with this package's registry (works without a default scope)
        pipeline = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
        super().__init__(pipeline=pipeline, serialize_data=False, lazy_init=False,
                         **kwargs)

    def full_init(self):
        if self._fully_initialized:
            return
        self.sequences: List[List[dict]] = []
        for cfg in self.dataset_cfgs:
            if isinstance(cfg, dict):
                cfg = dict(cfg, mode='sequence', pipeline=[])
                ds = DATASETS.build(cfg)
            else:
                ds = cfg
            seqs = [s for s in ds.sequences if s['num_frames'] >= 1]
            if not seqs:
                raise ValueError(f'{type(ds).__name__} has no sequences')
            self.sequences.append(seqs)
        w = self._weights or [len(s) for s in self.sequences]
        if len(w) != len(self.sequences):
            raise ValueError('dataset_weights must match datasets')
        w = np.asarray(w, np.float64)
        self.weights = w / w.sum()
        self.num_samples = int(self._samples_per_epoch or sum(len(s) for s in self.sequences))
        self.data_list = []
        self._fully_initialized = True

    def __len__(self) -> int:
        return self.num_samples

    def set_max_skip(self, max_skip: Union[int, Sequence[int]]) -> None:
        """Change ``max_skip`` (STCN's curriculum); workers must be
        re-created to see it."""
        self.max_skip = max_skip

    def _skip(self, d: int) -> int:
        s = self.max_skip
        return int(s[d] if isinstance(s, (list, tuple)) else s)

    def sample_frames(self, length: int, max_skip: int) -> List[int]:
        """STCN's clip sampling in ``[0, length)``."""
        n = self.num_frames
        if length < n:
            idx = sorted(np.random.randint(0, length, size=n).tolist())
        else:
            idx = [int(np.random.randint(length))]
            for _ in range(n - 1):
                last = idx[-1]
                ok = set(range(max(0, last - max_skip), min(length, last + max_skip + 1)))
                ok -= set(idx)
                if not ok:  # window exhausted: anywhere not used yet
                    ok = set(range(length)) - set(idx)
                idx.append(int(np.random.choice(sorted(ok))))
            idx.sort()
        if np.random.rand() < self.reverse_prob:
            idx = idx[::-1]
        return idx

    def sample_clip(self) -> dict:
        d = int(np.random.choice(len(self.sequences), p=self.weights))
        seqs = self.sequences[d]
        for _ in range(self.max_tries):
            seq = seqs[np.random.randint(len(seqs))]
            annotated = [i for i, p in enumerate(seq['mask_paths']) if p is not None]
            if not annotated:
                continue
            pos = self.sample_frames(len(annotated), self._skip(d))
            frames = [annotated[i] for i in pos]
            ids = seq['frame_object_ids'][frames[0]]
            if ids is None:
                ids = [o for o, t in seq['first_frames'].items() if t <= frames[0]]
            ids = [int(o) for o in ids]
            if ids:
                break
        if len(ids) > self.max_objects:
            ids = sorted(np.random.choice(ids, self.max_objects, replace=False).tolist())
        return dict(
            video_name=seq['video_name'],
            frame_ids=frames,
            img_paths=[seq['frame_paths'][i] for i in frames],
            mask_paths=[seq['mask_paths'][i] for i in frames],
            object_ids=[int(o) for o in ids],
            single_object=seq.get('single_object', False),
            dataset_idx=d)

    def get_data_info(self, idx: int) -> dict:
        return self.sample_clip()

    def prepare_data(self, idx: int):
        return self.pipeline(self.get_data_info(idx))
