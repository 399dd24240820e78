"""Random-access video readers over several decoding backends.

Every reader opens one file, knows its number of frames and returns RGB
``uint8`` frames of shape ``(H, W, 3)`` for a list of frame indices (frame
``i`` is the ``i``-th frame in display order; for :class:`PyAVReader`, the
``i``-th frame of a sequential decode, see ``docs/video_decoding.md``). Failures are raised as
:class:`VideoReadError`, whose message names the file and the problem.

Backends (see ``docs/video_decoding.md`` for the measurements behind the
default):

- ``'pyav'`` (:class:`PyAVReader`, the default): indexes the packets once,
  then decodes each requested frame from the keyframe before it, skipping the
  frames no other frame references (``skip_frame='NONREF'``) and decoding all
  requested frames of a GOP in one forward pass; counts frames from the IDR
  picture when the timestamps do not give the display order. Frame-exact,
  damaged and truncated files raise.
- ``'decord'`` (:class:`DecordReader`): ``decord.VideoReader`` (decord or
  decord2, whichever provides the ``decord`` module).
- ``'torchcodec'`` (:class:`TorchCodecReader`): ``torchcodec.decoders.VideoDecoder``
  in exact seek mode.
- ``'opencv'`` (:class:`OpenCVReader`): ``cv2.VideoCapture``; its frame count
  comes from the container header and its seeking is the least reliable, so
  it is the last resort.
"""
import importlib.util
import itertools
import logging
import os.path as osp
from abc import ABCMeta, abstractmethod
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Type

import numpy as np
from mmengine.logging import print_log


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


#: H.264 / HEVC NAL unit types of the pictures that start a closed GOP
#: (IDR: every later frame in decode order is shown after every earlier one).
_IDR_NAL_TYPES = {'h264': (5, ), 'hevc': (19, 20)}


def _nal_length_size(codec: str, extradata: Optional[bytes]) -> Optional[int]:
    """Bytes of the NAL length prefix of ``avcC``/``hvcC`` packets (MP4,
    Matroska), or ``None`` for Annex B start codes (MPEG-TS, raw streams)."""
    if not extradata or extradata[0] != 1:
        return None
    if codec == 'h264' and len(extradata) > 4:
        return (extradata[4] & 3) + 1
    if codec == 'hevc' and len(extradata) > 21:
        return (extradata[21] & 3) + 1
    return None


def _nal_types(data: bytes, codec: str, length_size: Optional[int]) -> List[int]:
    """NAL unit types of one H.264 / HEVC packet."""
    headers = []
    if length_size:  # length-prefixed NAL units
        pos = 0
        while pos + length_size < len(data):
            size = int.from_bytes(data[pos:pos + length_size], 'big')
            headers.append(data[pos + length_size])
            pos += length_size + max(size, 1)
    else:  # Annex B: 00 00 01 start codes
        pos = data.find(b'\x00\x00\x01')
        while 0 <= pos < len(data) - 3:
            headers.append(data[pos + 3])
            pos = data.find(b'\x00\x00\x01', pos + 3)
    if codec == 'h264':
        return [h & 0x1F for h in headers]
    return [(h >> 1) & 0x3F for h in headers]


@register_video_reader
class PyAVReader(BaseVideoReader):
    """Frame-exact random access with PyAV (FFmpeg).

    Frame ``i`` is the ``i``-th frame that a sequential decode of the file
    with FFmpeg's libraries returns (PyAV's ``container.decode(video=0)``):
    frames in the decoder's output order, without the ones an edit list
    discards, as stored (a display rotation in the metadata is not applied,
    as decord and PyAV do not apply it; the ``ffmpeg`` command line does).
    Files on which random access cannot
    reproduce that raise :class:`VideoReadError` instead of returning other
    frames.

    On opening, all packets of the first video stream are demuxed once (a few
    milliseconds for a 10 s clip; no decoding) and kept in memory. Two ways to
    find frame ``i``:

    - **by timestamp** (the fast path, for files whose presentation
      timestamps give the display order): frame ``i`` is the packet with the
      ``i``-th smallest pts. Each requested frame is decoded from the last
      keyframe at or before it; frames of one GOP are decoded in one forward
      pass and a later GOP starts a new pass at its own keyframe. Within a
      pass, packets that are not targets are decoded with
      ``skip_frame='NONREF'``: frames that no other frame references
      (``nal_ref_idc == 0`` in H.264) are not decoded at all, which cannot
      change any other frame, so the output is bit-identical to a full
      sequential decode. Every pass checks that the decoder returns its frames
      in increasing pts; if not, the reader switches to counting.
    - **by counting** (when the timestamps cannot give the display order:
      missing or repeated pts, or pts in decode order in a stream with
      B-frame reordering, e.g. phone recordings muxed with pts = dts): a pass
      starts at the last closed-GOP start (an H.264/HEVC IDR picture, found
      in the bitstream; any keyframe of a codec without reordering) whose
      first frame is not after the target, decodes every frame and counts
      them. After an IDR picture the decoder shows no earlier frame, so the
      ``j``-th output of that pass is frame ``(shown packets before the IDR)
      + j``. Slower (nothing is skipped; without IDR pictures the pass starts
      at the first packet) but exact.

    Damaged files: a truncated file (fewer packets than its index lists, or
    an incomplete last packet) is refused when opened; a frame that the
    decoder flags as corrupt (error concealment, e.g. a broken slice) in a
    pass raises for the frames of that pass, because concealment depends on
    the decoding history and a random access cannot reproduce it. Only the
    target frames are converted to RGB.

    Args:
        filename (str): The video file.
        num_threads (int): Decoder threads (also used for the RGB
            conversion). Defaults to 1.
        skip_nonref (bool): Skip decoding the non-reference frames that are
            not requested (timestamp path). Exact. Defaults to True.
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

    @property
    def by_timestamp(self) -> bool:
        """Whether frames are found by timestamp (else by counting)."""
        return self._by_pts

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
        listed = stream.frames  # the container's sample count (0: unknown)
        if (listed and len(packets) < listed) or any(p.is_corrupt for p in packets[-1:]):
            raise VideoReadError(
                self.filename, f'truncated: {len(packets)} of the {listed or "?"} packets the '
                'container lists are present' + (', the last one incomplete'
                                                 if packets and packets[-1].is_corrupt else ''))
        # Packets flagged "discard" (before an edit list's start) are decoded
        # as references but are not frames of the video.
        shown = np.array([not p.is_discard for p in packets], bool)
        if not shown.any():
            raise VideoReadError(self.filename, 'zero frames')
        self._packets = packets
        self._is_key = np.array([p.is_keyframe for p in packets], bool)
        self._is_key[0] = True  # decoding can only start at the first packet
        self._key_pos = np.nonzero(self._is_key)[0]
        self._shown_before = np.concatenate([[0], np.cumsum(shown)[:-1]]).astype(np.int64)
        self._num_frames = int(shown.sum())
        self._height, self._width = ctx.height, ctx.width
        rate = stream.average_rate or stream.guessed_rate
        self._fps = float(rate) if rate else float('nan')
        self._closed = None  # closed-GOP starts, found when counting first needs them

        pts = [p.pts for p in packets]
        shown_pts = [pts[k] for k in np.nonzero(shown)[0]]
        self._by_pts = None not in shown_pts and len(set(shown_pts)) == len(shown_pts)
        if self._by_pts and np.all(np.diff(np.asarray(shown_pts, np.int64)) > 0):
            # pts in decode order: a stream without reordering, or one whose
            # decode timestamps were written as presentation timestamps (pts
            # = dts). The decoder learns the reorder depth from the sequence
            # header when it decodes the first packet.
            if not ctx.has_b_frames:
                try:  # draining makes frame threads report back
                    ctx.decode(packets[0])
                    ctx.decode(None)
                except self._av_error:
                    pass
                ctx.flush_buffers()
            self._by_pts = not ctx.has_b_frames
        if self._by_pts:
            pts_arr = np.asarray(shown_pts, np.int64)
            order = np.argsort(pts_arr, kind='stable')
            self._frame_packet = np.nonzero(shown)[0][order]
            self._frame_pts = pts_arr[order]
            self._packet_pts = np.array(
                [p if p is not None else np.iinfo(np.int64).min for p in pts], np.int64)

    def _closed_starts(self) -> np.ndarray:
        """Packets (decode order) at which a pass may start when counting."""
        if self._closed is None:
            codec = self._ctx.name
            closed = np.zeros(len(self._packets), bool)
            closed[0] = True
            if codec in _IDR_NAL_TYPES:
                length_size = _nal_length_size(codec, self._ctx.extradata)
                idr = _IDR_NAL_TYPES[codec]
                for k in self._key_pos[1:]:
                    types = _nal_types(bytes(self._packets[k]), codec, length_size)
                    closed[k] = any(t in idr for t in types)
            elif not self._ctx.has_b_frames:  # no reordering: every keyframe
                closed[self._key_pos] = True
            self._closed = np.nonzero(closed)[0]
        return self._closed

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

    def _check_frame(self, frame, index: Optional[int]) -> None:
        if frame.is_corrupt:
            raise VideoReadError(
                self.filename, 'damaged bitstream: the decoder concealed errors in a frame this '
                'read depends on, which random access cannot reproduce', index)

    def _decode_pass(self, first: int, last: int, wanted: Dict[int, int],
                     found: Dict[int, object]) -> bool:
        """Decode packets ``first..last`` (timestamp path); False when the
        decoder's output is not in pts order."""
        ctx, packets = self._ctx, self._packets
        ctx.flush_buffers()
        skip = self.skip_nonref
        mode = None
        prev_pts = None
        first_target = min(wanted.values())

        def take(frame) -> bool:
            nonlocal prev_pts
            if prev_pts is not None and frame.pts is not None and frame.pts < prev_pts:
                return False
            prev_pts = frame.pts
            self._check_frame(frame, wanted.get(frame.pts, first_target))
            i = wanted.get(frame.pts)
            if i is not None:
                found[i] = frame
            return True

        try:
            for k in range(first, last + 1):
                packet = packets[k]
                if skip:  # set the skip mode only when it changes
                    new_mode = 'DEFAULT' if packet.pts in wanted else 'NONREF'
                    if new_mode != mode:
                        ctx.skip_frame = mode = new_mode
                for frame in ctx.decode(packet):
                    if not take(frame):
                        return False
            if skip and mode != 'DEFAULT':
                ctx.skip_frame = 'DEFAULT'
            for frame in ctx.decode(None):
                if not take(frame):
                    return False
        except self._av_error as e:
            missing = sorted(set(wanted.values()) - set(found))
            raise VideoReadError(self.filename, f'decoding failed ({e})',
                                 missing[0] if missing else None) from e
        return True

    def _to_rgb(self, frame) -> np.ndarray:
        # One conversion context per reader, at the reader's thread count
        # (to_ndarray() sets up a new one per frame, with automatic threads).
        return self._reformatter.reformat(frame, format='rgb24',
                                          threads=self.num_threads).to_ndarray()

    def _read_by_pts(self, indices: List[int]) -> Optional[Dict[int, object]]:
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
            if not self._decode_pass(first, last, wanted, found):
                return None
        return found

    def _read_by_count(self, indices: List[int]) -> Dict[int, object]:
        closed = self._closed_starts()
        base = self._shown_before[closed]  # frames shown before each start
        groups: Dict[int, set] = {}
        for i in sorted(set(indices)):
            g = int(np.searchsorted(base, i, side='right')) - 1
            groups.setdefault(int(closed[g]), set()).add(i)
        ctx, found = self._ctx, {}
        for start, wanted in groups.items():
            ctx.flush_buffers()
            ctx.skip_frame = 'DEFAULT'  # frames are counted: decode every one
            n = int(self._shown_before[start])
            last = max(wanted)
            try:
                for packet in itertools.chain(self._packets[start:], [None]):
                    for frame in ctx.decode(packet):
                        self._check_frame(frame, min(wanted - set(found), default=n))
                        if n in wanted:
                            found[n] = frame
                        n += 1
                    if n > last:
                        break
            except self._av_error as e:
                raise VideoReadError(self.filename, f'decoding failed ({e})', n) from e
        return found

    def _read(self, indices: List[int]) -> List[np.ndarray]:
        if self._container is None:
            raise VideoReadError(self.filename, 'reader is closed')
        found = self._read_by_pts(indices) if self._by_pts else None
        if found is None:
            if self._by_pts:
                print_log(f'"{self.filename}": the decoder does not return frames in pts '
                          'order; finding frames by counting from here on',
                          logger='current', level=logging.WARNING)
                self._by_pts = False
            found = self._read_by_count(indices)
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


def iter_exact_frames(filename: str, num_threads: int = 1) -> Iterator[np.ndarray]:
    """Yield every frame of a video as RGB ``uint8`` ``(H, W, 3)``, in the
    order of a plain sequential FFmpeg decode (PyAV ``container.decode``):
    frame ``i`` is the ``i``-th frame that decoder outputs, which is the
    definition of "frame ``i``" of :class:`PyAVReader` (and what the prepared
    frame folders hold). The RGB conversion is FFmpeg's
    swscale ``rgb24``, as in that reader.

    Args:
        filename (str): The video file.
        num_threads (int): Decoder threads.

    Raises:
        VideoReadError: The file cannot be opened, has no video stream or
            no frame, or decoding fails (the error gives the frame count so
            far).
    """
    import av
    errors = (av.FFmpegError, OSError, ValueError, EOFError)
    try:
        container = av.open(filename, metadata_errors='ignore')
    except errors as e:
        raise VideoReadError(filename, f'cannot open ({e})') from e
    n = 0
    try:
        if not container.streams.video:
            raise VideoReadError(filename, 'no video stream')
        stream = container.streams.video[0]
        stream.codec_context.thread_count = num_threads
        try:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format='rgb24')
                n += 1
        except errors as e:
            raise VideoReadError(filename, f'decoding failed after {n} frames ({e})', n) from e
        if n == 0:
            raise VideoReadError(filename, 'zero frames')
    finally:
        container.close()


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
