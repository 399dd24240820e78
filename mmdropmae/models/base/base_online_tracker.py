"""The base of online (frame-by-frame) trackers: one state per video."""
import time
from abc import abstractmethod
from collections import OrderedDict
from typing import Any, Hashable, List

from mmdropmae.structures.data_sample import DataSample
from .base_model import BaseTaskModel


class VideoStateCache:
    """The tracking states of the videos being tracked, frames in order.

    Test items come one frame at a time (``VideoSampler``: whole videos, in
    order, several videos interleaved across batches); a state is created at
    frame 0 and advanced frame by frame. Only the ``max_videos`` most
    recently started videos are kept.
    """

    def __init__(self, max_videos: int = 8):
        self.max_videos = max_videos
        self._states: 'OrderedDict[Hashable, list]' = OrderedDict()

    def start(self, key: Hashable, state: Any) -> None:
        self._states.pop(key, None)
        self._states[key] = [state, 0]
        while len(self._states) > self.max_videos:
            self._states.popitem(last=False)

    def advance(self, key: Hashable, frame_id: int) -> Any:
        """The state of ``key`` for its frame ``frame_id``; raises
        ``RuntimeError`` when frames come out of order."""
        entry = self._states.get(key)
        if entry is None:
            raise RuntimeError(f'frame {frame_id} of video {key!r} came before its frame 0: '
                               'test with VideoSampler (whole videos, in order)')
        if entry[1] + 1 != frame_id:
            raise RuntimeError(f'video {key!r}: frame {frame_id} follows frame {entry[1]}; '
                               'frames must come in order')
        entry[1] = frame_id
        return entry[0]

    def clear(self) -> None:
        self._states.clear()

    def __len__(self) -> int:
        return len(self._states)


class BaseOnlineTracker(BaseTaskModel):
    """Base of trackers that run online over a video (VOT, TAP, 3D SOT).

    ``mode='predict'`` takes per-frame test items (metainfo ``frame_id`` and
    ``video_id`` or ``video_name``; frame 0 starts a video) and keeps one
    state per video in a :class:`VideoStateCache` (``test_cfg
    ['max_cached_videos']``). Subclasses implement

    - :meth:`init_video` (frame 0 and its sample -> a new state),
    - :meth:`track_frame` (a later frame -> the updated state),
    - :meth:`state_to_sample` (the state after a frame -> the prediction
      fields of that frame's output :class:`DataSample`).

    Each output sample carries the input metainfo, the predictions and
    ``time`` (seconds spent on the frame; GOT-10k's ``{seq}_time.txt``).
    """

    @property
    def video_states(self) -> VideoStateCache:
        if not hasattr(self, '_video_states'):
            test_cfg = getattr(self, 'test_cfg', None) or {}
            self._video_states = VideoStateCache(int(test_cfg.get('max_cached_videos', 8)))
        return self._video_states

    def reset_states(self) -> None:
        """Forget every video's tracking state."""
        self.video_states.clear()

    @abstractmethod
    def init_video(self, frame, data_sample) -> Any:
        """Start a video at its frame 0: returns the tracking state."""

    @abstractmethod
    def track_frame(self, frame, state: Any, data_sample) -> None:
        """Advance ``state`` by one frame (in place)."""

    @abstractmethod
    def state_to_sample(self, state: Any, sample: DataSample) -> DataSample:
        """Write the prediction of the state's current frame into
        ``sample``."""

    def predict(self, inputs: List, data_samples: List) -> List[DataSample]:
        results = []
        for frame, data_sample in zip(inputs, data_samples):
            meta = data_sample.metainfo
            key = meta.get('video_id', meta.get('video_name'))
            fid = int(meta['frame_id'])
            t0 = time.perf_counter()
            if fid == 0:
                state = self.init_video(frame, data_sample)
                self.video_states.start(key, state)
            else:
                state = self.video_states.advance(key, fid)
                self.track_frame(frame, state, data_sample)
            elapsed = time.perf_counter() - t0
            out = self.state_to_sample(state, DataSample(metainfo=meta))
            out.time = float(elapsed)
            results.append(out)
        return results
