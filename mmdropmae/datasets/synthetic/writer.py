"""Write synthetic videos as real H.264 mp4 files in the Kinetics layout."""
import os
import os.path as osp
import sys
import warnings
from fractions import Fraction
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .renderer import SyntheticVideoRenderer

#: Default class folder names of :func:`make_synthetic_kinetics` (Kinetics
#: style, including a name with a space like the real ones).
DEFAULT_CLASS_NAMES = ('juggling balls', 'riding_bike', 'surfing_water', 'walking_dog',
                       'playing_drums', 'skateboarding', 'dribbling_basketball',
                       'flying_kite')

_ID_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'


def _x264_params(gop: Optional[int], bframes: Optional[int]) -> str:
    params = []
    if gop is not None:
        # A fixed keyframe interval: every ``gop`` frames an IDR frame and no
        # extra keyframes on scene cuts.
        params += [f'keyint={gop}', f'min-keyint={gop}', 'scenecut=0']
    if bframes is not None:
        params.append(f'bframes={bframes}')
    return ':'.join(params)


def write_video(path: str,
                frames: Iterable[np.ndarray],
                fps: Union[int, float, Fraction] = 30,
                gop: Optional[int] = None,
                crf: int = 23,
                preset: str = 'medium',
                bframes: Optional[int] = None,
                threads: int = 1,
                backend: str = 'auto') -> int:
    """Encode RGB frames to an H.264 (libx264, yuv420p) video file.

    Args:
        path (str): Output file (``.mp4``, ``.mkv``, ...; the container is
            chosen from the extension).
        frames (Iterable[np.ndarray]): RGB ``uint8`` frames of one size (even
            width and height).
        fps (int | float | Fraction): Frame rate.
        gop (int, optional): Fixed keyframe interval in frames (IDR every
            ``gop`` frames, no scene-cut keyframes). ``None`` keeps x264's
            default (keyint 250 plus scene-cut detection), which is what
            ffmpeg re-encodes of Kinetics clips have.
        crf (int): x264 constant rate factor.
        preset (str): x264 preset.
        bframes (int, optional): Number of B-frames; ``None`` keeps x264's
            default (3, with B-pyramid).
        threads (int): Encoder threads, 0 = automatic. Defaults to 1 (like
            the Kinetics download scripts). Note: the rendered frames are
            reproducible bit for bit, the encoded stream almost always is, but
            libx264 occasionally makes different decisions from run to run
            (seen on tiny videos: a few frames differing at >= 42 dB PSNR).
        backend (str): ``'pyav'``, ``'opencv'`` or ``'auto'`` (PyAV, falling
            back to OpenCV's ``VideoWriter`` when PyAV is not installed; the
            OpenCV wheels have no H.264 encoder, so that writes MPEG-4 part 2
            and ignores ``gop``/``crf``/``bframes``).

    Returns:
        int: Number of frames written.
    """
    if backend not in ('auto', 'pyav', 'opencv'):
        raise ValueError(f'unknown backend {backend!r}')
    if backend in ('auto', 'pyav'):
        try:
            import av  # noqa: F401
        except ImportError:
            if backend == 'pyav':
                raise
            warnings.warn('PyAV is not installed: writing MPEG-4 part 2 with OpenCV '
                          'instead of H.264')
            backend = 'opencv'
        else:
            backend = 'pyav'
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    if backend == 'pyav':
        return _write_pyav(path, frames, fps, gop, crf, preset, bframes, threads)
    return _write_opencv(path, frames, fps)


def _write_pyav(path, frames, fps, gop, crf, preset, bframes, threads) -> int:
    import av
    rate = Fraction(fps).limit_denominator(1001 * 1000)
    count = 0
    with av.open(path, mode='w') as container:
        stream = None
        for frame in frames:
            frame = np.ascontiguousarray(frame)
            if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
                raise ValueError('frames must be uint8 arrays of shape (H, W, 3), got '
                                 f'{frame.dtype} {frame.shape}')
            if stream is None:
                h, w = frame.shape[:2]
                if h % 2 or w % 2:
                    raise ValueError(f'yuv420p needs an even frame size, got {w}x{h}')
                stream = container.add_stream('libx264', rate=rate)
                stream.width, stream.height = w, h
                stream.pix_fmt = 'yuv420p'
                opts = {'crf': str(crf), 'preset': preset}
                params = _x264_params(gop, bframes)
                if params:
                    opts['x264-params'] = params
                stream.options = opts
                stream.codec_context.thread_count = threads
                size = (h, w)
            elif frame.shape[:2] != size:
                raise ValueError(f'frame {count} has size {frame.shape[:2]}, expected {size}')
            vframe = av.VideoFrame.from_ndarray(frame, format='rgb24')
            vframe.pts = count
            vframe.time_base = 1 / rate
            for packet in stream.encode(vframe):
                container.mux(packet)
            count += 1
        if stream is None:
            raise ValueError('no frames to write')
        for packet in stream.encode(None):
            container.mux(packet)
    return count


def _write_opencv(path, frames, fps) -> int:
    import cv2
    writer, count = None, 0
    try:
        for frame in frames:
            if writer is None:
                h, w = frame.shape[:2]
                writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), float(fps),
                                         (w, h))
                if not writer.isOpened():
                    raise RuntimeError(f'OpenCV cannot open a video writer for {path}')
            writer.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
            count += 1
    finally:
        if writer is not None:
            writer.release()
    if count == 0:
        raise ValueError('no frames to write')
    return count


def write_synthetic_video(path: str,
                          num_frames: int = 300,
                          size: Tuple[int, int] = (640, 480),
                          fps: Union[int, float] = 30,
                          gop: Optional[int] = None,
                          seed: Union[int, Sequence[int]] = 0,
                          **writer_kwargs) -> int:
    """Render one synthetic video (see :class:`SyntheticVideoRenderer`) and
    encode it to ``path``.

    Args:
        path (str): Output file.
        num_frames (int): Number of frames.
        size (tuple[int, int]): ``(width, height)``.
        fps (int | float): Frame rate.
        gop (int, optional): Keyframe interval, see :func:`write_video`.
        seed (int | Sequence[int]): Seed of the content.
        **writer_kwargs: Passed to :func:`write_video`.

    Returns:
        int: Number of frames written.
    """
    width, height = size
    renderer = SyntheticVideoRenderer(width, height, num_frames, seed=seed)
    return write_video(path, renderer, fps=fps, gop=gop, **writer_kwargs)


def _video_id(rng: np.random.Generator, duration_s: int) -> str:
    chars = ''.join(_ID_CHARS[i] for i in rng.integers(0, len(_ID_CHARS), 11))
    start = int(rng.integers(0, 300))
    return f'{chars}_{start:06d}_{start + duration_s:06d}'


def make_synthetic_kinetics(root: str,
                            num_classes: int = 3,
                            videos_per_class: int = 2,
                            num_frames: Union[int, Tuple[int, int]] = 24,
                            size: Tuple[int, int] = (128, 96),
                            fps: Union[int, float] = 30,
                            gop: Optional[int] = None,
                            seed: int = 0,
                            class_names: Optional[Sequence[str]] = None,
                            ext: str = '.mp4',
                            ann_file: Optional[str] = None,
                            verbose: bool = False,
                            workers: int = 1,
                            **writer_kwargs) -> List[Dict]:
    """Write a synthetic data set in the Kinetics folder layout.

    The layout is ``root/{class_name}/{video_id}{ext}``. Video ``j`` of class
    ``i`` is drawn from the seed ``(seed, i, j)``, so the output does not
    depend on the other arguments' order of generation.

    Args:
        root (str): Output folder (created).
        num_classes (int): Number of class folders.
        videos_per_class (int): Videos per class.
        num_frames (int | tuple[int, int]): Frames per video, or an inclusive
            range drawn per video.
        size (tuple[int, int]): ``(width, height)`` of the videos.
        fps (int | float): Frame rate.
        gop (int, optional): Keyframe interval, see :func:`write_video`.
        seed (int): Base seed.
        class_names (Sequence[str], optional): Folder names; defaults to
            :data:`DEFAULT_CLASS_NAMES` (then ``class_{i:03d}``).
        ext (str): File extension (decides the container).
        ann_file (str, optional): Also write an annotation list there (see
            :func:`write_ann_file`).
        verbose (bool): Print progress (to stderr).
        workers (int): Processes that render and encode in parallel.
        **writer_kwargs: Passed to :func:`write_video`.

    Returns:
        list[dict]: One dict per video with ``filename`` (path relative to
        ``root``), ``label`` and ``num_frames``.
    """
    if class_names is None:
        class_names = [
            DEFAULT_CLASS_NAMES[i] if i < len(DEFAULT_CLASS_NAMES) else f'class_{i:03d}'
            for i in range(num_classes)
        ]
    if len(class_names) < num_classes:
        raise ValueError(f'{len(class_names)} class names for {num_classes} classes')
    class_names = sorted(class_names[:num_classes])
    jobs = []
    for label, name in enumerate(class_names):
        for j in range(videos_per_class):
            rng = np.random.default_rng([seed, label, j])
            if isinstance(num_frames, int):
                n = num_frames
            else:
                n = int(rng.integers(num_frames[0], num_frames[1] + 1))
            rel = osp.join(name, _video_id(rng, max(1, round(n / fps))) + ext)
            jobs.append((osp.join(root, rel), n, tuple(size), fps, gop, [seed, label, j, 1],
                         writer_kwargs))
    if workers > 1 and len(jobs) > 1:
        import multiprocessing as mp
        with mp.get_context('spawn').Pool(min(workers, len(jobs))) as pool:
            counts = []
            for count in pool.imap(_write_job, jobs):
                counts.append(count)
                if verbose:
                    k = len(counts)
                    print(f'[{k}/{len(jobs)}] {jobs[k - 1][0]} ({count} frames)',
                          file=sys.stderr, flush=True)
    else:
        counts = []
        for job in jobs:
            counts.append(_write_job(job))
            if verbose:
                print(f'[{len(counts)}/{len(jobs)}] {job[0]} ({counts[-1]} frames)',
                      file=sys.stderr, flush=True)
    infos = []
    for job, count in zip(jobs, counts):
        rel = osp.relpath(job[0], root)
        infos.append(dict(filename=rel, label=class_names.index(rel.split(os.sep)[0]),
                          num_frames=count))
    if ann_file is not None:
        write_ann_file(ann_file, infos)
    return infos


def _write_job(job) -> int:
    path, n, size, fps, gop, seed, writer_kwargs = job
    return write_synthetic_video(path, n, size, fps, gop, seed=seed, **writer_kwargs)


def write_ann_file(ann_file: str, infos: Sequence[Dict], with_label: bool = True,
                   with_num_frames: bool = False) -> None:
    """Write an annotation list: one ``path [label [num_frames]]`` per line,
    the columns separated by a tab (paths may contain spaces).

    Args:
        ann_file (str): Output file.
        infos (Sequence[dict]): Dicts with ``filename`` and optionally
            ``label`` and ``num_frames``.
        with_label (bool): Write the label column.
        with_num_frames (bool): Write the frame-count column (needs the label
            column).
    """
    os.makedirs(osp.dirname(osp.abspath(ann_file)), exist_ok=True)
    with open(ann_file, 'w') as f:
        for info in infos:
            cols = [info['filename']]
            if with_label or with_num_frames:
                cols.append(str(info.get('label', -1)))
            if with_num_frames:
                cols.append(str(info['num_frames']))
            f.write('\t'.join(cols) + '\n')


def write_corrupt_video(path: str, mode: str = 'truncated', seed: int = 0,
                        source: Optional[str] = None) -> str:
    """Write a broken video file for tests.

    Args:
        path (str): Output file.
        mode (str): ``'truncated'`` (the first third of a valid mp4, so the
            ``moov`` index at its end is missing), ``'garbage'`` (random
            bytes), ``'empty'`` (zero bytes), ``'no_frames'`` (a valid
            container, AVI whatever the extension, whose video stream has no
            frames) or ``'header_only'``
            (an ``ftyp`` box followed by random bytes).
        seed (int): Seed of the random bytes / content.
        source (str, optional): Valid video to truncate; a small synthetic one
            is made when not given.

    Returns:
        str: ``path``.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    rng = np.random.default_rng(seed)
    if mode == 'empty':
        open(path, 'wb').close()
    elif mode == 'garbage':
        with open(path, 'wb') as f:
            f.write(rng.integers(0, 256, 8192, dtype=np.uint8).tobytes())
    elif mode == 'header_only':
        ftyp = b'\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2'
        with open(path, 'wb') as f:
            f.write(ftyp + rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    elif mode == 'truncated':
        if source is None:
            tmp = path + '.tmp.mp4'
            write_synthetic_video(tmp, num_frames=30, size=(64, 48), seed=seed)
            with open(tmp, 'rb') as f:
                data = f.read()
            os.remove(tmp)
        else:
            with open(source, 'rb') as f:
                data = f.read()
        with open(path, 'wb') as f:
            f.write(data[:len(data) // 3])
    elif mode == 'no_frames':
        # mp4 drops a track without samples (the file then has no video
        # stream at all); AVI keeps the stream header with zero frames.
        import av
        with av.open(path, mode='w', format='avi') as container:
            stream = container.add_stream('mpeg4', rate=30)
            stream.width, stream.height, stream.pix_fmt = 64, 48, 'yuv420p'
            container.start_encoding()
    else:
        raise ValueError(f'unknown corruption mode {mode!r}')
    return path
