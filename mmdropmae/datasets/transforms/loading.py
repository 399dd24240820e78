"""Open a video and decode a pair of frames, sampled as in DropMAE."""
import logging
from typing import Dict, Optional, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from mmdropmae.registry import TRANSFORMS
from ..video_reader import VideoReadError, build_video_reader, resolve_backend

RNG = Union[np.random.Generator, np.random.RandomState, None]


def _randint(rng: RNG, low: int, high: int) -> int:
    """Uniform integer in ``[low, high)`` from ``rng`` (``None`` = the global
    ``np.random`` state, which MMEngine seeds per data loader worker)."""
    if rng is None:
        return int(np.random.randint(low, high))
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(low, high))
    return int(rng.randint(low, high))


def sample_frame_pair(num_frames: int, frame_gap: int = 50, rng: RNG = None) -> Tuple[int, int]:
    """Sample the indices of the frame pair ``(x, z)`` of one video.

    As in DropMAE: ``start`` is uniform in ``[0, num_frames - 2]`` and ``end``
    is uniform in ``[start + 1, min(num_frames, start + frame_gap) - 1]`` (both
    inclusive), so ``1 <= end - start <= frame_gap - 1``. A one-frame video
    gives ``(0, 0)`` (its frame is repeated).

    Args:
        num_frames (int): Number of frames of the video (>= 1).
        frame_gap (int): Largest ``end - start`` plus one (>= 2). Defaults
            to 50.
        rng (np.random.Generator | np.random.RandomState, optional): Random
            source; ``None`` uses the global ``np.random`` state.

    Returns:
        tuple[int, int]: ``(start, end)``, the earlier and the later frame.
    """
    if num_frames < 1:
        raise ValueError(f'num_frames must be >= 1, got {num_frames}')
    if frame_gap < 2:
        raise ValueError(f'frame_gap must be >= 2, got {frame_gap}')
    if num_frames == 1:
        return 0, 0
    start = _randint(rng, 0, num_frames - 1)
    end = _randint(rng, start + 1, min(num_frames, start + frame_gap))
    return start, end


@TRANSFORMS.register_module()
class LoadFramePairFromVideo(BaseTransform):
    """Open ``results['filename']``, sample a frame pair and decode it.

    The pair is sampled with :func:`sample_frame_pair` (the global
    ``np.random`` state, so MMEngine's per-worker seeding makes it
    reproducible) and decoded with a reader from
    :mod:`mmdropmae.datasets.video_reader`. A video that cannot be opened,
    has no frames or fails to decode is logged as a warning naming the file
    and the reason, and the transform returns ``None``, so that MMEngine's
    ``BaseDataset.__getitem__`` draws another video (in training mode).

    Required keys:

    - filename

    Added keys:

    - imgs (list[np.ndarray]): ``[frame_x, frame_z]``, the earlier and the
      later frame, RGB ``uint8`` of shape ``(H, W, 3)``.
    - frame_inds (np.ndarray): ``int64`` array ``[start, end]``.
    - num_frames (int): Number of frames of the video.
    - ori_shape (tuple[int, int]): ``(H, W)`` of the video.
    - img_shape (tuple[int, int]): ``(H, W)`` of the frames.

    Args:
        frame_gap (int): See :func:`sample_frame_pair`. Defaults to 50.
        backend (str): Video backend (``'auto'``, ``'pyav'``, ``'decord'``,
            ``'torchcodec'``, ``'opencv'``). Defaults to ``'auto'``, the
            fastest installed one (PyAV).
        num_threads (int): Decoder threads per worker. Defaults to 1.
        backend_kwargs (dict, optional): Extra arguments of the reader.
        skip_broken (bool): Return ``None`` (with a warning) for a broken
            video instead of raising. Defaults to True.
    """

    def __init__(self,
                 frame_gap: int = 50,
                 backend: str = 'auto',
                 num_threads: int = 1,
                 backend_kwargs: Optional[dict] = None,
                 skip_broken: bool = True) -> None:
        if frame_gap < 2:
            raise ValueError(f'frame_gap must be >= 2, got {frame_gap}')
        self.frame_gap = frame_gap
        self.backend = resolve_backend(backend)
        self.num_threads = num_threads
        self.backend_kwargs = dict(backend_kwargs or {})
        self.skip_broken = skip_broken

    #: what ``filename`` names, for the warning about a broken one
    source = 'video'

    def open_reader(self, results: Dict):
        """The reader of ``results['filename']`` (a ``BaseVideoReader``)."""
        return build_video_reader(results['filename'], self.backend, self.num_threads,
                                  **self.backend_kwargs)

    def transform(self, results: Dict) -> Optional[Dict]:
        filename = results['filename']
        try:
            with self.open_reader(results) as reader:
                num_frames = reader.num_frames
                start, end = sample_frame_pair(num_frames, self.frame_gap)
                frames = reader.get_frames([start, end])
        except VideoReadError as e:
            if not self.skip_broken:
                raise
            print_log(f'Skipping broken {self.source} "{filename}": {e.reason}'
                      + (f' (frame index {e.index})' if e.index is not None else ''),
                      logger='current', level=logging.WARNING)
            return None
        results['imgs'] = frames
        results['frame_inds'] = np.array([start, end], np.int64)
        results['num_frames'] = num_frames
        results['ori_shape'] = frames[0].shape[:2]
        results['img_shape'] = frames[0].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(frame_gap={self.frame_gap}, '
                f'backend={self.backend!r}, num_threads={self.num_threads}, '
                f'backend_kwargs={self.backend_kwargs}, skip_broken={self.skip_broken})')
