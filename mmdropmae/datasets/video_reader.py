"""Random-access video readers over several decoding backends.

Every reader opens one file, knows its number of frames and returns RGB
``uint8`` frames of shape ``(H, W, 3)`` for a list of frame indices (frame
``i`` is the ``i``-th frame in presentation order). Failures are raised as
:class:`VideoReadError`, whose message names the file and the problem.

Backends (see ``docs/video_decoding.md`` for the measurements behind the
default):

- ``'pyav'`` (:class:`PyAVReader`, the default): indexes the packets once,
  then decodes each requested frame from the keyframe before it, skipping the
  frames no other frame references (``skip_frame='NONREF'``) and decoding all
  requested frames of a GOP in one forward pass. Decoder-exact.
- ``'decord'`` (:class:`DecordReader`): ``decord.VideoReader`` (decord or
  decord2, whichever provides the ``decord`` module).
- ``'torchcodec'`` (:class:`TorchCodecReader`): ``torchcodec.decoders.VideoDecoder``
  in exact seek mode.
- ``'opencv'`` (:class:`OpenCVReader`): ``cv2.VideoCapture``; its frame count
  comes from the container header and its seeking is the least reliable, so
  it is the last resort.
"""
import importlib.util
import os.path as osp
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple, Type

import numpy as np


class VideoReadError(RuntimeError):
    """A video cannot be opened, has no frames or fails to decode.

    Args:
        filename (str): The video file.
        reason (str): What went wrong.
        index (int, optional): The frame index whose decoding failed.
    """

    def __init__(self, filename: str, reason: str, index: Optional[int] = None) -> None:
        self.filename = str(filename)
        self.reason = reason
        self.index = index
        where = f' at frame index {index}' if index is not None else ''
        super().__init__(f'cannot read video "{self.filename}"{where}: {reason}')

    def __reduce__(self):
        return (self.__class__, (self.filename, self.reason, self.index))


#: Backend name -> reader class, filled by :func:`register_video_reader`.
VIDEO_READERS: Dict[str, Type['BaseVideoReader']] = {}

#: Order in which ``backend='auto'`` tries the installed backends, fastest
#: first as measured by ``tools/benchmarks/video_loading.py``.
BACKEND_PREFERENCE = ('pyav', 'decord', 'torchcodec', 'opencv')


def register_video_reader(cls: Type['BaseVideoReader']) -> Type['BaseVideoReader']:
    """Class decorator that registers a reader under ``cls.backend``."""
    VIDEO_READERS[cls.backend] = cls
    return cls


class BaseVideoReader(metaclass=ABCMeta):
    """Base class of the video readers.

    Subclasses open the file in ``__init__`` (raising :class:`VideoReadError`
    when that fails or the video has no frames), set ``self._num_frames``,
    ``self._height``, ``self._width``, ``self._fps`` and implement
    :meth:`_read`.

    Args:
        filename (str): The video file.
        num_threads (int): Decoder threads. Defaults to 1 (one data loader
            worker = one core).
    """

    #: Backend name used by :func:`build_video_reader`.
    backend: str = ''
    #: Python module the backend needs.
    module: str = ''

    def __init__(self, filename: str, num_threads: int = 1) -> None:
        self.filename = str(filename)
        self.num_threads = int(num_threads)
        self._num_frames = 0
        self._height = self._width = 0
        self._fps = float('nan')

    @classmethod
    def is_available(cls) -> bool:
        """Whether the backend's module is installed."""
        try:
            return importlib.util.find_spec(cls.module) is not None
        except (ImportError, ValueError):
            return False

    @property
    def num_frames(self) -> int:
        """Number of frames of the video."""
        return self._num_frames

    @property
    def frame_shape(self) -> Tuple[int, int]:
        """``(height, width)`` of the decoded frames."""
        return self._height, self._width

    @property
    def fps(self) -> float:
        """Average frame rate (``nan`` when unknown)."""
        return self._fps

    def __len__(self) -> int:
        return self._num_frames

    def _check_indices(self, indices: Sequence[int]) -> List[int]:
        out = []
        for i in indices:
            i = int(i)
            if not 0 <= i < self._num_frames:
                raise IndexError(f'frame index {i} out of range [0, {self._num_frames}) '
                                 f'for "{self.filename}"')
            out.append(i)
        return out

    def get_frames(self, indices: Sequence[int]) -> List[np.ndarray]:
        """Decode frames by index.

        Args:
            indices (Sequence[int]): Frame indices in presentation order, in
                any order, repeats allowed.

        Returns:
            list[np.ndarray]: RGB ``uint8`` frames of shape ``(H, W, 3)``, in
            the order of ``indices``.

        Raises:
            IndexError: An index is out of range.
            VideoReadError: Decoding failed.
        """
        indices = self._check_indices(indices)
        if not indices:
            return []
        unique = sorted(set(indices))
        frames = self._read(unique)
        by_index = dict(zip(unique, frames))
        # Repeated indices share one array; copy so callers may edit in place.
        out, seen = [], set()
        for i in indices:
            out.append(by_index[i] if i not in seen else by_index[i].copy())
            seen.add(i)
        return out

    def get_frame(self, index: int) -> np.ndarray:
        """Decode one frame, see :meth:`get_frames`."""
        return self.get_frames([index])[0]

    @abstractmethod
    def _read(self, indices: List[int]) -> List[np.ndarray]:
        """Decode sorted, unique, valid indices."""

    def close(self) -> None:
        """Release the file and the decoder."""

    def __enter__(self) -> 'BaseVideoReader':
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(filename={self.filename!r}, '
                f'num_frames={self._num_frames}, frame_shape={self.frame_shape}, '
                f'num_threads={self.num_threads})')


@register_video_reader
class PyAVReader(BaseVideoReader):
    """Frame-exact random access with PyAV (FFmpeg).

    On opening, all packets of the first video stream are demuxed once (a few
    milliseconds for a 10 s clip; no decoding) and kept in memory. Frame ``i``
    is the packet with the ``i``-th smallest presentation timestamp, like
    decord's index. To decode a set of frames, each one is decoded from the
    last keyframe at or before it; frames of one GOP are decoded in one
    forward pass and a later GOP starts a new pass at its own keyframe instead
    of decoding through. Within a pass, packets that are not targets are
    decoded with ``skip_frame='NONREF'``: frames that no other frame
    references (``nal_ref_idc == 0`` in H.264, e.g. the non-reference
    B-frames) are not decoded at all, which cannot change any other frame, so
    the output is bit-identical to a full sequential decode. Only the target
    frames are converted to RGB.

    Args:
        filename (str): The video file.
        num_threads (int): Decoder threads (also used for the RGB
            conversion). Defaults to 1.
        skip_nonref (bool): Skip decoding the non-reference frames that are
            not requested. Exact. Defaults to True.
        skip_loop_filter (bool): Approximate mode: skip H.264's in-loop
            deblocking filter on every frame (FFmpeg's
            ``skip_loop_filter='all'``). Decoding is ~15-25% faster, but the
            frames are no longer decoder-exact (blocking, and the error drifts
            along the GOP: 36-41 dB PSNR on the benchmark clips, see
            ``docs/video_decoding.md``). Defaults to False.
    """

    backend = 'pyav'
    module = 'av'

    def __init__(self, filename: str, num_threads: int = 1, skip_nonref: bool = True,
                 skip_loop_filter: bool = False) -> None:
        super().__init__(filename, num_threads)
        import av
        from av.video.reformatter import VideoReformatter
        self.skip_nonref = skip_nonref
        self.skip_loop_filter = skip_loop_filter
        self._av_error = (av.FFmpegError, OSError, ValueError, EOFError)
        self._container = None
        self._reformatter = VideoReformatter()
        try:
            # The probe decoder of avformat_find_stream_info() would decode
            # the first frames (~2 ms at 640x480); the demuxer and the
            # bitstream already give everything the index needs.
            self._container = av.open(self.filename, metadata_errors='ignore',
                                      stream_options=[{'skip_frame': 'nonkey'}])
        except self._av_error as e:
            raise VideoReadError(self.filename, f'cannot open ({e})') from e
        try:
            self._index()
        except BaseException:
            self.close()
            raise

    def _index(self) -> None:
        if not self._container.streams.video:
            raise VideoReadError(self.filename, 'no video stream')
        stream = self._container.streams.video[0]
        self._stream = stream
        ctx = stream.codec_context
        ctx.skip_frame = 'DEFAULT'
        ctx.thread_count = self.num_threads
        if self.num_threads > 1:
            ctx.thread_type = 'AUTO'
        if self.skip_loop_filter:
            ctx.options = dict(ctx.options, skip_loop_filter='all')
        self._ctx = ctx
        packets = []
        try:
            for packet in self._container.demux(stream):
                if packet.size:
                    packets.append(packet)
        except self._av_error as e:
            raise VideoReadError(self.filename,
                                 f'demuxing failed after {len(packets)} packets ({e})') from e
        # Packets flagged "discard" (before an edit list's start) are decoded
        # as references but are not frames of the video.
        shown = [k for k, p in enumerate(packets) if not p.is_discard]
        if not shown:
            raise VideoReadError(self.filename, 'zero frames')
        self._packets = packets
        self._is_key = np.array([p.is_keyframe for p in packets], bool)
        self._is_key[0] = True  # decoding can only start at the first packet
        pts = [packets[k].pts for k in shown]
        self._sequential = any(p is None for p in pts) or len(set(pts)) != len(pts)
        if self._sequential:
            # Without unique timestamps frames cannot be matched to packets:
            # decode from the start and count output frames.
            self._frame_packet = np.asarray(shown, np.int64)
            self._frame_pts = np.zeros(len(shown), np.int64)
        else:
            pts_arr = np.asarray(pts, np.int64)
            order = np.argsort(pts_arr, kind='stable')
            self._frame_packet = np.asarray(shown, np.int64)[order]
            self._frame_pts = pts_arr[order]
            self._packet_pts = np.array(
                [p.pts if p.pts is not None else np.iinfo(np.int64).min for p in packets],
                np.int64)
            self._key_pos = np.nonzero(self._is_key)[0]
        self._num_frames = len(shown)
        self._height, self._width = ctx.height, ctx.width
        rate = stream.average_rate or stream.guessed_rate
        self._fps = float(rate) if rate else float('nan')

    def _start_packet(self, pos: int) -> int:
        """Last keyframe packet at or before ``pos`` (decode order) whose pts
        is not after the target's, so that open-GOP leading frames start from
        the previous GOP."""
        keys = self._key_pos
        k = int(np.searchsorted(keys, pos, side='right')) - 1
        target_pts = self._packet_pts[pos]
        while k > 0 and self._packet_pts[keys[k]] > target_pts:
            k -= 1
        return int(keys[max(k, 0)])

    def _decode_pass(self, first: int, last: int, wanted: Dict[int, int],
                     found: Dict[int, object]) -> None:
        ctx, packets = self._ctx, self._packets
        ctx.flush_buffers()
        skip = self.skip_nonref
        mode = None
        try:
            for k in range(first, last + 1):
                packet = packets[k]
                if skip:  # set the skip mode only when it changes
                    new_mode = 'DEFAULT' if packet.pts in wanted else 'NONREF'
                    if new_mode != mode:
                        ctx.skip_frame = mode = new_mode
                for frame in ctx.decode(packet):
                    i = wanted.get(frame.pts)
                    if i is not None:
                        found[i] = frame
            if skip and mode != 'DEFAULT':
                ctx.skip_frame = 'DEFAULT'
            for frame in ctx.decode(None):
                i = wanted.get(frame.pts)
                if i is not None:
                    found[i] = frame
        except self._av_error as e:
            missing = sorted(set(wanted.values()) - set(found))
            raise VideoReadError(self.filename, f'decoding failed ({e})',
                                 missing[0] if missing else None) from e

    def _to_rgb(self, frame) -> np.ndarray:
        # One conversion context per reader, at the reader's thread count
        # (to_ndarray() sets up a new one per frame, with automatic threads).
        return self._reformatter.reformat(frame, format='rgb24',
                                          threads=self.num_threads).to_ndarray()

    def _read_sequential(self, indices: List[int]) -> List[np.ndarray]:
        ctx = self._ctx
        ctx.flush_buffers()
        ctx.skip_frame = 'DEFAULT'  # frames are counted: decode every one
        wanted, out, n = set(indices), {}, 0
        try:
            for packet in self._packets:
                for frame in ctx.decode(packet):
                    if n in wanted:
                        out[n] = self._to_rgb(frame)
                    n += 1
                if len(out) == len(wanted):
                    break
            else:
                for frame in ctx.decode(None):
                    if n in wanted:
                        out[n] = self._to_rgb(frame)
                    n += 1
        except self._av_error as e:
            raise VideoReadError(self.filename, f'decoding failed ({e})', n) from e
        missing = [i for i in indices if i not in out]
        if missing:
            raise VideoReadError(self.filename, 'the decoder returned no frame', missing[0])
        return [out[i] for i in indices]

    def _read(self, indices: List[int]) -> List[np.ndarray]:
        if self._container is None:
            raise VideoReadError(self.filename, 'reader is closed')
        if self._sequential:
            return self._read_sequential(indices)
        # Plan decoding passes in decode order.
        targets = sorted((int(self._frame_packet[i]), i) for i in indices)
        passes: List[List] = []  # [first_packet, last_packet, {pts: index}]
        for pos, i in targets:
            start = self._start_packet(pos)
            if passes and start <= passes[-1][1]:
                # The running pass has decoded (or will decode) every reference
                # this target needs: continue it instead of re-seeking.
                passes[-1][0] = min(passes[-1][0], start)
                passes[-1][1] = max(passes[-1][1], pos)
            else:
                # A later GOP: restart at its keyframe rather than decoding
                # through the frames in between.
                passes.append([start, pos, {}])
            passes[-1][2][int(self._frame_pts[i])] = i
        found: Dict[int, object] = {}
        for first, last, wanted in passes:
            self._decode_pass(first, last, wanted, found)
        out = []
        for i in indices:
            frame = found.get(i)
            if frame is None:
                raise VideoReadError(self.filename, 'the decoder returned no frame', i)
            out.append(self._to_rgb(frame))
        return out

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
            self._packets = []


@register_video_reader
class DecordReader(BaseVideoReader):
    """``decord.VideoReader`` (decord 0.6 or decord2, which installs the same
    ``decord`` module).

    Args:
        filename (str): The video file.
        num_threads (int): Decoder threads. Defaults to 1.
    """

    backend = 'decord'
    module = 'decord'

    def __init__(self, filename: str, num_threads: int = 1) -> None:
        super().__init__(filename, num_threads)
        import decord
        self._vr = None
        if not osp.isfile(self.filename):
            raise VideoReadError(self.filename, 'cannot open (no such file)')
        try:
            self._vr = decord.VideoReader(self.filename, num_threads=self.num_threads)
            self._num_frames = len(self._vr)
        except (decord.DECORDError, RuntimeError) as e:
            raise VideoReadError(self.filename, f'cannot open ({_first_line(e)})') from e
        if self._num_frames == 0:
            raise VideoReadError(self.filename, 'zero frames')
        self._fps = float(self._vr.get_avg_fps())

    @property
    def frame_shape(self) -> Tuple[int, int]:
        # decord only knows the size after decoding a frame.
        if not self._height and self._vr is not None:
            self._read([0])
        return self._height, self._width

    def _read(self, indices: List[int]) -> List[np.ndarray]:
        import decord
        if self._vr is None:
            raise VideoReadError(self.filename, 'reader is closed')
        try:
            batch = self._vr.get_batch(indices).asnumpy()
        except (decord.DECORDError, RuntimeError) as e:
            raise VideoReadError(self.filename, f'decoding failed ({_first_line(e)})',
                                 indices[0]) from e
        self._height, self._width = int(batch.shape[1]), int(batch.shape[2])
        return list(batch)

    def close(self) -> None:
        self._vr = None


@register_video_reader
class TorchCodecReader(BaseVideoReader):
    """``torchcodec.decoders.VideoDecoder`` with ``seek_mode='exact'``.

    Args:
        filename (str): The video file.
        num_threads (int): FFmpeg decoder threads. Defaults to 1.
    """

    backend = 'torchcodec'
    module = 'torchcodec'

    def __init__(self, filename: str, num_threads: int = 1) -> None:
        super().__init__(filename, num_threads)
        from torchcodec.decoders import VideoDecoder
        self._dec = None
        try:
            self._dec = VideoDecoder(self.filename, seek_mode='exact',
                                     num_ffmpeg_threads=self.num_threads,
                                     dimension_order='NHWC')
            meta = self._dec.metadata
        except (RuntimeError, ValueError, OSError) as e:
            raise VideoReadError(self.filename, f'cannot open ({_first_line(e)})') from e
        self._num_frames = int(len(self._dec))
        if self._num_frames == 0:
            raise VideoReadError(self.filename, 'zero frames')
        self._height, self._width = int(meta.height), int(meta.width)
        self._fps = float(meta.average_fps or float('nan'))

    def _read(self, indices: List[int]) -> List[np.ndarray]:
        if self._dec is None:
            raise VideoReadError(self.filename, 'reader is closed')
        try:
            batch = self._dec.get_frames_at(indices).data.numpy()
        except (RuntimeError, ValueError, IndexError) as e:
            raise VideoReadError(self.filename, f'decoding failed ({_first_line(e)})',
                                 indices[0]) from e
        return list(batch)

    def close(self) -> None:
        self._dec = None


@register_video_reader
class OpenCVReader(BaseVideoReader):
    """``cv2.VideoCapture``; reads forward without seeking when the next
    requested frame is close, otherwise seeks with ``CAP_PROP_POS_FRAMES``.

    The frame count is the container's (``CAP_PROP_FRAME_COUNT``), which can
    differ from the decodable frames for some files.

    Args:
        filename (str): The video file.
        num_threads (int): Decoder threads. Defaults to 1.
        max_forward (int): Largest gap read forward instead of seeking.
    """

    backend = 'opencv'
    module = 'cv2'

    def __init__(self, filename: str, num_threads: int = 1, max_forward: int = 64) -> None:
        super().__init__(filename, num_threads)
        import cv2
        self.max_forward = max_forward
        self._cap = None
        if not osp.isfile(self.filename):
            raise VideoReadError(self.filename, 'cannot open (no such file)')
        params = [cv2.CAP_PROP_N_THREADS, self.num_threads] if hasattr(
            cv2, 'CAP_PROP_N_THREADS') else []
        cap = cv2.VideoCapture(self.filename, cv2.CAP_FFMPEG, params)
        if not cap.isOpened():
            raise VideoReadError(self.filename, 'cannot open')
        self._cap = cap
        self._num_frames = max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
        if self._num_frames == 0:
            self.close()
            raise VideoReadError(self.filename, 'zero frames')
        self._height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self._width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self._fps = float(cap.get(cv2.CAP_PROP_FPS))
        self._pos = 0  # index of the frame the next read() returns

    def _read(self, indices: List[int]) -> List[np.ndarray]:
        import cv2
        if self._cap is None:
            raise VideoReadError(self.filename, 'reader is closed')
        out = []
        for i in indices:
            if not self._pos <= i <= self._pos + self.max_forward:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, i)
                self._pos = i
            while self._pos < i:
                if not self._cap.grab():
                    raise VideoReadError(self.filename, 'decoding failed', self._pos)
                self._pos += 1
            ok, frame = self._cap.read()
            if not ok or frame is None:
                raise VideoReadError(self.filename, 'decoding failed', i)
            self._pos += 1
            out.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        return out

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else e.__class__.__name__


def available_backends() -> List[str]:
    """Installed backends, in the order ``backend='auto'`` tries them."""
    return [b for b in BACKEND_PREFERENCE if b in VIDEO_READERS and VIDEO_READERS[b].is_available()
            ] + [b for b in VIDEO_READERS if b not in BACKEND_PREFERENCE
                 and VIDEO_READERS[b].is_available()]


def resolve_backend(backend: str = 'auto') -> str:
    """Map ``'auto'`` to the fastest installed backend; check a named one.

    Raises:
        ValueError: Unknown backend name.
        ImportError: The named backend (or, for ``'auto'``, every backend)
            is not installed.
    """
    if backend == 'auto':
        found = available_backends()
        if not found:
            raise ImportError('no video decoding backend is installed; install one of '
                              f'{list(BACKEND_PREFERENCE)} (e.g. `pip install av`)')
        return found[0]
    if backend not in VIDEO_READERS:
        raise ValueError(f'unknown video backend {backend!r}; choose from '
                         f"{['auto'] + list(VIDEO_READERS)}")
    if not VIDEO_READERS[backend].is_available():
        raise ImportError(f'video backend {backend!r} needs the Python module '
                          f'{VIDEO_READERS[backend].module!r}, which is not installed; '
                          f'installed backends: {available_backends()}')
    return backend


def build_video_reader(filename: str, backend: str = 'auto', num_threads: int = 1,
                       **kwargs) -> BaseVideoReader:
    """Open ``filename`` with a backend.

    Args:
        filename (str): The video file.
        backend (str): A name in :data:`VIDEO_READERS` or ``'auto'``.
        num_threads (int): Decoder threads.
        **kwargs: Backend-specific arguments.

    Returns:
        BaseVideoReader: An open reader.

    Raises:
        VideoReadError: The file cannot be opened or has no frames.
    """
    cls = VIDEO_READERS[resolve_backend(backend)]
    return cls(filename, num_threads=num_threads, **kwargs)
