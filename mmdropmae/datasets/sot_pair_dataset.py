"""Template/search training pairs from SOT datasets (OSTrack's
``TrackingSampler`` in its default ``causal`` mode)."""
import copy
import random
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import Compose
from torch.utils.data import Dataset

from mmdropmae.registry import DATASETS, TRANSFORMS


@DATASETS.register_module()
class SOTPairDataset(Dataset):
    """Random template/search frame pairs drawn from one or more SOT datasets.

    Each item: pick a dataset with probability proportional to
    ``dataset_weights``, a sequence of it uniformly (video sequences need
    more than ``2 * (num_template + num_search)`` visible frames and at
    least ``min_seq_length`` frames, as in OSTrack), then, OSTrack's
    ``causal`` mode: a visible template frame ``t``, and a visible search
    frame in ``[t + 1, t + max_gap)`` (OSTrack's exclusive bound); when
    none exists, a new template frame is drawn and the gap grows by 5.
    One-frame sequences (COCO) give the same image for both. The pipeline
    (crop, jitter, packing) may reject a pair by returning ``None``; another
    pair is then drawn (up to ``max_refetch`` times).

    ``len(dataset)`` is ``samples_per_epoch`` (OSTrack: 60000): the index is
    ignored and every item is a fresh random pair, so the global random
    state (seeded per data loader worker by MMEngine) decides the pairs.

    Args:
        datasets (list[dict | BaseSOTDataset]): SOT datasets in train mode
            (:class:`BaseSOTDataset`: ``num_videos``, ``get_sequence``).
        dataset_weights (list[float], optional): Sampling weights (OSTrack's
            ``DATASETS_RATIO``). Defaults to equal weights.
        samples_per_epoch (int): Length of the dataset. Defaults to 60000.
        max_gap (int): OSTrack's ``MAX_SAMPLE_INTERVAL``. Defaults to 200.
        num_template_frames (int): Defaults to 1 (only 1 is packed).
        num_search_frames (int): Defaults to 1 (only 1 is packed).
        min_seq_length (int): Shorter video sequences are skipped (OSTrack:
            20). Defaults to 20.
        pipeline (list[dict | callable]): Transforms of the pair dict.
        max_refetch (int): Attempts before giving up. Defaults to 100.
        test_mode (bool): Unused; for the MMEngine dataset signature.

    The pair dict given to the pipeline holds ``template_img_path``,
    ``search_img_path``, ``template_bbox``, ``search_bbox`` ((4,) float32
    xywh image boxes), ``template_frame_id``, ``search_frame_id``,
    ``video_name``, ``dataset_name`` and ``img_shape`` when known.
    """

    METAINFO = dict(dataset_type='sot_pairs')

    def __init__(self,
                 datasets: Sequence[Union[dict, Dataset]],
                 dataset_weights: Optional[Sequence[float]] = None,
                 samples_per_epoch: int = 60000,
                 max_gap: int = 200,
                 num_template_frames: int = 1,
                 num_search_frames: int = 1,
                 min_seq_length: int = 20,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 max_refetch: int = 100,
                 test_mode: bool = False):
        self.datasets: List = []
        for ds in datasets:
            if isinstance(ds, dict):
                ds = DATASETS.build(ds)
            self.datasets.append(ds)
        if not self.datasets:
            raise ValueError('SOTPairDataset needs at least one dataset')
        if dataset_weights is None:
            dataset_weights = [1.] * len(self.datasets)
        if len(dataset_weights) != len(self.datasets):
            raise ValueError(f'{len(dataset_weights)} weights for '
                             f'{len(self.datasets)} datasets')
        if any(w < 0 for w in dataset_weights) or sum(dataset_weights) <= 0:
            raise ValueError(f'invalid dataset weights {dataset_weights}')
        if num_template_frames != 1 or num_search_frames != 1:
            raise NotImplementedError('one template and one search frame '
                                      'per pair are supported')
        self.dataset_weights = [float(w) for w in dataset_weights]
        self.samples_per_epoch = int(samples_per_epoch)
        self.max_gap = int(max_gap)
        self.num_template_frames = num_template_frames
        self.num_search_frames = num_search_frames
        self.min_seq_length = min_seq_length
        # built from our registry, so no default scope is needed
        self.pipeline = Compose([
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in pipeline
        ])
        self.max_refetch = max_refetch
        self.test_mode = test_mode
        self._usable = [self._usable_sequences(ds) for ds in self.datasets]
        for ds, usable, w in zip(self.datasets, self._usable,
                                 self.dataset_weights):
            if len(usable) == 0 and w > 0:
                raise ValueError(
                    f'{type(ds).__name__} has no sequence with enough '
                    f'visible frames (> {2 * (num_template_frames + num_search_frames)}) '
                    f'and >= {min_seq_length} frames')

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.METAINFO)

    def __len__(self) -> int:
        return self.samples_per_epoch

    # ------------------------------------------------------------ sampling
    @staticmethod
    def _visible(seq: dict) -> np.ndarray:
        vis = np.asarray(seq['visible'], dtype=bool).copy()
        boxes = np.asarray(seq['gt_bboxes'], dtype=np.float32)
        vis &= (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
        return vis

    def _usable_sequences(self, dataset) -> np.ndarray:
        """Indices of sequences OSTrack would accept."""
        need = 2 * (self.num_template_frames + self.num_search_frames)
        usable = []
        if hasattr(dataset, 'full_init'):
            dataset.full_init()
        for i in range(dataset.num_videos):
            info = dataset._raw_info(i) if hasattr(dataset, '_raw_info') \
                else dataset.get_sequence(i)
            n = int(info['num_frames'])
            vis = self._visible(info)
            if n == 1 or len(vis) == 1:  # static image (COCO)
                if vis[0]:
                    usable.append(i)
            elif vis.sum() > need and n >= self.min_seq_length \
                    and len(vis) == n:
                usable.append(i)
        return np.asarray(usable, dtype=np.int64)

    @staticmethod
    def _sample_visible_ids(visible: np.ndarray, num_ids: int, min_id: int,
                            max_id: int) -> Optional[List[int]]:
        """OSTrack's ``_sample_visible_ids``: ``num_ids`` visible frame ids
        in ``[min_id, max_id)`` drawn with replacement, or None."""
        min_id = max(0, min_id)
        max_id = min(len(visible), max_id)
        valid = np.flatnonzero(visible[min_id:max_id]) + min_id
        if len(valid) == 0:
            return None
        return [int(v) for v in np.random.choice(valid, size=num_ids)]

    def sample_frame_ids(self, visible: np.ndarray):
        """Template and search frame ids of one sequence (causal mode)."""
        if len(visible) == 1:
            return 0, 0
        gap_increase = 0
        while True:
            base = self._sample_visible_ids(
                visible, 1, self.num_template_frames - 1,
                len(visible) - self.num_search_frames)
            if base is None:
                return None
            t = base[0]
            search = self._sample_visible_ids(
                visible, 1, t + 1, t + self.max_gap + gap_increase)
            gap_increase += 5
            if search is not None:
                return t, search[0]
            if gap_increase > len(visible) + 5:
                return None

    def sample_pair(self) -> dict:
        """Draw one raw pair (no pipeline)."""
        for _ in range(self.max_refetch):
            di = random.choices(range(len(self.datasets)),
                                self.dataset_weights)[0]
            usable = self._usable[di]
            if len(usable) == 0:
                continue
            ds = self.datasets[di]
            vi = int(usable[np.random.randint(len(usable))])
            seq = ds.get_sequence(vi)
            ids = self.sample_frame_ids(self._visible(seq))
            if ids is None:
                continue
            t, s = ids
            boxes = np.asarray(seq['gt_bboxes'], dtype=np.float32)
            return dict(
                dataset_name=seq.get('dataset', type(ds).__name__),
                video_name=seq.get('video_name', str(vi)),
                video_id=vi,
                template_frame_id=t,
                search_frame_id=s,
                template_img_path=seq['frame_paths'][t],
                search_img_path=seq['frame_paths'][s],
                template_bbox=boxes[t].copy(),
                search_bbox=boxes[s].copy(),
                img_shape=seq.get('img_shape'))
        raise RuntimeError(f'no valid frame pair after {self.max_refetch} '
                           'attempts')

    def __getitem__(self, idx: int) -> dict:
        for _ in range(self.max_refetch):
            data = self.pipeline(self.sample_pair())
            if data is not None:
                return data
        raise RuntimeError(f'the pipeline rejected {self.max_refetch} pairs '
                           'in a row; check the crop settings and the boxes')

    def __repr__(self) -> str:
        names = [type(d).__name__ for d in self.datasets]
        return (f'{self.__class__.__name__}(datasets={names}, '
                f'weights={self.dataset_weights}, '
                f'samples_per_epoch={self.samples_per_epoch}, '
                f'max_gap={self.max_gap})')
