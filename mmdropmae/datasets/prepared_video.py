"""The prepared form of a video data set: each video decoded once into JPEG
frames, so that training reads two JPEG files per pair instead of decoding
a GOP.

The layout is mmaction2's *rawframes* (``tools/data/build_rawframes.py`` and
``mmaction/datasets/rawframe_dataset.py`` of open-mmlab/mmaction2): one
folder per video, ``{frame_dir}/img_{:05d}.jpg`` numbered from 1, and a file
list of ``frame_dir total_frames label`` lines. mmaction2 writes the frames
with ``mmcv.imwrite``, i.e. OpenCV's JPEG encoder at its default quality 95
with 4:2:0 chroma subsampling. We keep quality 95 and OpenCV's encoder but
default to 4:4:4 (no chroma subsampling): re-subsampling the chroma of frames
that H.264 already subsampled and swscale upsampled costs about 9 dB of PSNR
against the exact frames (40 vs 31 dB minimum on our clips) for 1.7x the
disk. The files are ordinary JPEGs either way (mmaction2 reads them). The
measurements that chose this form over all-intra / short-GOP H.264 re-encodes
are in ``docs/video_preparation.md``.

This module holds the three pieces that must agree on the format:

- :func:`prepare_video`: decode one source video sequentially (frame ``i`` =
  the ``i``-th frame of a sequential FFmpeg decode, see
  :func:`iter_exact_frames`) and write its prepared form atomically (a
  temporary folder or file renamed into place), the unit of work of
  ``tools/dataset_converters/prepare_kinetics.py``. It also writes the
  alternative ``h264`` form (re-encode at the original resolution with a
  fixed keyframe interval), which the existing video path reads.
- :class:`FrameFolderReader`: random access to a frame folder with the
  interface of the video readers (:class:`BaseVideoReader`).
- :class:`RawframePairDataset` and :class:`LoadFramePairFromFrames`: the data
  set and loading step that replace :class:`VideoPairDataset` and
  :class:`LoadFramePairFromVideo` in a pre-training config; the pair is drawn
  by the same :func:`sample_frame_pair` on the same frame count, so the
  sampled indices (and crops and flips after them) are the same as on the
  source videos for the same random state.
"""
import json
import os
import os.path as osp
import re
import shutil
import string
import time
import uuid
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import MMLogger

from mmdropmae.registry import DATASETS, TRANSFORMS
from mmdropmae.utils.fileio import atomic_write_text
from .transforms.loading import LoadFramePairFromVideo
from .video_pair_dataset import VideoPairDataset
from .video_reader import BaseVideoReader, VideoReadError, build_video_reader, iter_exact_frames

__all__ = [
    'DEFAULT_FILENAME_TMPL', 'DEFAULT_JPEG_QUALITY', 'DEFAULT_JPEG_SUBSAMPLING',
    'PREPARED_FORMATS', 'iter_exact_frames', 'psnr', 'prepare_video', 'run_prepare_job',
    'FrameFolderReader', 'RawframePairDataset', 'LoadFramePairFromFrames'
]

#: mmaction2's rawframes file name template (numbered from 1).
DEFAULT_FILENAME_TMPL = 'img_{:05d}.jpg'
#: OpenCV's (and so mmcv.imwrite's) default JPEG quality.
DEFAULT_JPEG_QUALITY = 95
#: Default JPEG chroma subsampling: none (4:4:4), see docs/video_preparation.md.
DEFAULT_JPEG_SUBSAMPLING = '444'
_SAMPLING_FACTORS = {
    '444': 'IMWRITE_JPEG_SAMPLING_FACTOR_444',
    '420': 'IMWRITE_JPEG_SAMPLING_FACTOR_420'
}
#: Output forms of :func:`prepare_video`.
PREPARED_FORMATS = ('jpg', 'h264')
#: Prefix of the temporary outputs; a resumed run removes leftovers.
TMP_PREFIX = '.tmp_prepare_'


def _split_template(tmpl: str) -> Tuple[str, str]:
    """``'img_{:05d}.jpg'`` -> ``('img_', '.jpg')``; exactly one field."""
    parts = list(string.Formatter().parse(tmpl))
    fields = [p for p in parts if p[1] is not None]
    if len(fields) != 1:
        raise ValueError(f'filename_tmpl must have exactly one replacement field, got {tmpl!r}')
    prefix = ''.join(p[0] for p in parts[:parts.index(fields[0]) + 1])
    suffix = ''.join(p[0] for p in parts[parts.index(fields[0]) + 1:])
    return prefix, suffix


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two ``uint8`` images (MSE over all pixels and channels;
    ``inf`` when they are identical)."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return float('inf') if mse == 0 else float(10 * np.log10(255.0**2 / mse))


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------
def _video_rate(filename: str) -> float:
    """Average frame rate of the first video stream (``nan`` if unknown)."""
    import av
    try:
        with av.open(filename, metadata_errors='ignore') as c:
            s = c.streams.video[0]
            rate = s.average_rate or s.guessed_rate
            return float(rate) if rate else float('nan')
    except Exception:  # noqa: BLE001 - only informative
        return float('nan')


def _folder_bytes(path: str) -> int:
    if osp.isfile(path):
        return osp.getsize(path)
    return sum(e.stat().st_size for e in os.scandir(path) if e.is_file())


def _remove(path: str) -> None:
    if osp.isdir(path) and not osp.islink(path):
        shutil.rmtree(path)
    elif osp.lexists(path):
        os.remove(path)


def prepare_video(src: str,
                  out_path: str,
                  fmt: str = 'jpg',
                  quality: int = DEFAULT_JPEG_QUALITY,
                  subsampling: str = DEFAULT_JPEG_SUBSAMPLING,
                  filename_tmpl: str = DEFAULT_FILENAME_TMPL,
                  gop: int = 1,
                  crf: int = 18,
                  preset: str = 'medium',
                  measure_psnr: bool = False,
                  num_threads: int = 1) -> Dict:
    """Write the prepared form of one video, atomically.

    ``fmt='jpg'``: the frames go to a temporary folder next to ``out_path``
    (``{TMP_PREFIX}...``) that is renamed to ``out_path`` when complete, so
    ``out_path`` either does not exist or holds every frame. Frame ``i`` (0
    based) is ``filename_tmpl.format(i + 1)``, OpenCV JPEG at ``quality``
    with ``subsampling`` chroma.
    ``fmt='h264'``: the frames are re-encoded (libx264, yuv420p, keyframe
    every ``gop`` frames, no B-frames, ``crf``/``preset``) to a temporary
    ``.mp4`` renamed to ``out_path``; ``gop=1`` is all-intra.

    The frames are those of :func:`iter_exact_frames`. The exact reader's
    frame count (``build_video_reader(src, 'pyav').num_frames``, what the
    video path samples from) is recorded next to the decoded count, so the
    caller can report a source where they differ.

    Args:
        src (str): Source video.
        out_path (str): Frame folder (``jpg``) or ``.mp4`` file (``h264``).
        fmt (str): ``'jpg'`` or ``'h264'``.
        quality (int): JPEG quality (``jpg``).
        subsampling (str): JPEG chroma subsampling, ``'444'`` (none) or
            ``'420'`` (OpenCV's default, so mmaction2's) (``jpg``).
        filename_tmpl (str): Frame file name template (``jpg``).
        gop (int): Keyframe interval (``h264``).
        crf (int): x264 constant rate factor (``h264``).
        preset (str): x264 preset (``h264``).
        measure_psnr (bool): Also decode what was written and record the
            PSNR against the exact frames (min and mean over frames).
        num_threads (int): Decoder/encoder threads.

    Returns:
        dict: ``num_frames``, ``reader_num_frames`` and
        ``reader_frame_shape`` (``None`` if the exact reader cannot open the
        file, then ``reader_error``), ``height``,
        ``width``, ``fps``, ``duration_s``, ``bytes`` (output size),
        ``seconds`` (CPU time of this call), the format settings and, with
        ``measure_psnr``, ``psnr_min`` / ``psnr_mean`` (dB; identical frames
        count as 99 dB in the mean).

    Raises:
        VideoReadError: The source cannot be decoded (nothing is left at
            ``out_path``).
    """
    if fmt not in PREPARED_FORMATS:
        raise ValueError(f'unknown prepared format {fmt!r}; choose from {PREPARED_FORMATS}')
    if subsampling not in _SAMPLING_FACTORS:
        raise ValueError(f'unknown JPEG subsampling {subsampling!r}; choose from '
                         f'{tuple(_SAMPLING_FACTORS)}')
    import cv2
    t0 = time.process_time()
    info: Dict = dict(format=fmt)
    try:
        with build_video_reader(src, 'pyav') as reader:
            info['reader_num_frames'] = reader.num_frames
            info['reader_frame_shape'] = list(reader.frame_shape)
    except VideoReadError as e:
        info.update(reader_num_frames=None, reader_frame_shape=None, reader_error=e.reason)
    folder = osp.dirname(osp.abspath(out_path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'{TMP_PREFIX}{uuid.uuid4().hex[:12]}_{osp.basename(out_path)}')
    psnrs: List[float] = []
    shape = None
    try:
        if fmt == 'jpg':
            os.makedirs(tmp)
            params = [cv2.IMWRITE_JPEG_QUALITY, int(quality), cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                      getattr(cv2, _SAMPLING_FACTORS[subsampling])]
            n = 0
            for frame in iter_exact_frames(src, num_threads):
                ok, buf = cv2.imencode('.jpg', cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), params)
                if not ok:
                    raise VideoReadError(src, 'JPEG encoding failed', n)
                with open(osp.join(tmp, filename_tmpl.format(n + 1)), 'wb') as f:
                    f.write(buf.tobytes())
                if measure_psnr:
                    back = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
                    psnrs.append(psnr(back, frame))
                shape = frame.shape
                n += 1
            info.update(quality=int(quality), subsampling=subsampling,
                        filename_tmpl=filename_tmpl)
        else:
            from .synthetic.writer import write_video
            frames = iter_exact_frames(src, num_threads)
            first = next(frames)
            shape = first.shape
            if shape[0] % 2 or shape[1] % 2:
                frames.close()
                raise VideoReadError(src, f'the h264 form needs an even frame size, got '
                                     f'{shape[1]}x{shape[0]}; use the jpg form')
            rate = _video_rate(src)
            tmp += '.mp4'

            def chain():
                yield first
                yield from frames

            n = write_video(tmp, chain(), fps=rate if np.isfinite(rate) else 30, gop=gop,
                            crf=crf, preset=preset, bframes=0, threads=num_threads)
            if measure_psnr:
                for a, b in zip(iter_exact_frames(tmp, num_threads),
                                iter_exact_frames(src, num_threads)):
                    psnrs.append(psnr(a, b))
            info.update(gop=int(gop), crf=int(crf), preset=preset)
        if osp.lexists(out_path):  # left by a run killed before its record
            _remove(out_path)
        os.replace(tmp, out_path)
    except BaseException:
        _remove(tmp)
        raise
    fps = _video_rate(src)
    info.update(num_frames=n, height=int(shape[0]), width=int(shape[1]), fps=fps,
                duration_s=n / fps if np.isfinite(fps) and fps > 0 else float('nan'),
                bytes=_folder_bytes(out_path), seconds=time.process_time() - t0)
    if measure_psnr:
        finite = [min(p, 99.0) for p in psnrs]
        info.update(psnr_min=float(min(finite)), psnr_mean=float(np.mean(finite)))
    return info


def run_prepare_job(job: Dict) -> Dict:
    """One job of the converter's worker pool: :func:`prepare_video` on
    ``job['src']`` -> ``job['out']`` with ``job['kwargs']``, then the record
    written atomically to ``job['record']`` (JSON; its existence marks the
    video as done for a resumed run). Never raises for a bad source.

    Returns:
        dict: ``dict(rel=..., ok=True, info=...)`` or ``dict(rel=...,
        ok=False, reason=...)``.
    """
    try:
        import cv2
        cv2.setNumThreads(1)
        info = prepare_video(job['src'], job['out'], **job.get('kwargs', {}))
        st = os.stat(job['src'])
        info.update(source=job['rel'], source_bytes=st.st_size, source_mtime_ns=st.st_mtime_ns)
        atomic_write_text(job['record'], json.dumps(info, indent=1, sort_keys=True))
        return dict(rel=job['rel'], ok=True, info=info)
    except VideoReadError as e:
        return dict(rel=job['rel'], ok=False, reason=e.reason)
    except Exception as e:  # noqa: BLE001 - any other failure of one source
        return dict(rel=job['rel'], ok=False, reason=f'{type(e).__name__}: {e}')


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------
class FrameFolderReader(BaseVideoReader):
    """Random access to a folder of frame images (mmaction2 rawframes).

    Frame ``i`` (0-based, as for the video readers) is the file
    ``filename_tmpl.format(i + start_index)``. Without ``num_frames`` the
    folder is listed once and its frame files must be numbered contiguously
    from ``start_index``; with it (the count of the file list, as mmaction2's
    ``RawFrameDecode`` trusts ``total_frames``) only the last frame's
    existence is checked. Frames are decoded with OpenCV (libjpeg-turbo) to
    RGB ``uint8``.

    Not registered as a video backend: it reads folders, not video files.

    Args:
        filename (str): The frame folder.
        num_threads (int): Unused (JPEG decoding is single-threaded).
        filename_tmpl (str): File name template with one integer field.
        start_index (int): Number of the first frame's file (1 in
            mmaction2's rawframes).
        num_frames (int, optional): Known number of frames.

    Raises:
        VideoReadError: The folder does not exist, holds no frame, is not
            numbered contiguously, or a frame cannot be decoded (naming the
            file).
    """

    backend = 'rawframes'
    module = 'cv2'

    def __init__(self,
                 filename: str,
                 num_threads: int = 1,
                 filename_tmpl: str = DEFAULT_FILENAME_TMPL,
                 start_index: int = 1,
                 num_frames: Optional[int] = None) -> None:
        super().__init__(filename, num_threads)
        self.filename_tmpl = filename_tmpl
        self.start_index = int(start_index)
        if not osp.isdir(self.filename):
            raise VideoReadError(self.filename, 'frame folder does not exist')
        if num_frames is None:
            self._num_frames = self._count()
        else:
            self._num_frames = int(num_frames)
            if self._num_frames < 1:
                raise VideoReadError(self.filename, f'num_frames must be >= 1, got {num_frames}')
            last = self._path(self._num_frames - 1)
            if not osp.isfile(last):
                raise VideoReadError(self.filename, f'{self._num_frames} frames expected but '
                                     f'"{osp.basename(last)}" does not exist')
        self._shape: Optional[Tuple[int, int]] = None

    def _path(self, index: int) -> str:
        return osp.join(self.filename, self.filename_tmpl.format(index + self.start_index))

    def _count(self) -> int:
        prefix, suffix = _split_template(self.filename_tmpl)
        pattern = re.compile(re.escape(prefix) + r'(\d+)' + re.escape(suffix) + '$')
        numbers = []
        with os.scandir(self.filename) as it:
            for e in it:
                m = pattern.match(e.name)
                if m:
                    numbers.append(int(m.group(1)))
        if not numbers:
            raise VideoReadError(self.filename, f'zero frames (no file named like '
                                 f'"{self.filename_tmpl.format(self.start_index)}")')
        n = len(numbers)
        if min(numbers) != self.start_index or max(numbers) != self.start_index + n - 1:
            raise VideoReadError(
                self.filename, f'frames are not numbered contiguously: {n} files numbered '
                f'{min(numbers)}..{max(numbers)}, expected {self.start_index}..'
                f'{self.start_index + n - 1}')
        return n

    @property
    def frame_shape(self) -> Tuple[int, int]:
        """``(height, width)``, from the first frame's header."""
        if self._shape is None:
            from PIL import Image
            try:
                with Image.open(self._path(0)) as im:
                    self._shape = (im.height, im.width)
            except OSError as e:
                raise VideoReadError(self.filename, f'cannot read "{self._path(0)}" ({e})',
                                     0) from e
        return self._shape

    @property
    def fps(self) -> float:
        """Frame rate of the source, from the converter's record next to the
        folder (``{folder}.json``); ``nan`` when there is none."""
        try:
            with open(self.filename.rstrip('/\\') + '.json') as f:
                return float(json.load(f)['fps'])
        except (OSError, ValueError, KeyError, TypeError):
            return float('nan')

    def _read(self, indices: List[int]) -> List[np.ndarray]:
        import cv2
        flag = getattr(cv2, 'IMREAD_COLOR_RGB', None)
        out = []
        for i in indices:
            path = self._path(i)
            img = cv2.imread(path, flag if flag is not None else cv2.IMREAD_COLOR)
            if img is None:
                reason = 'does not exist' if not osp.exists(path) else 'cannot be decoded'
                raise VideoReadError(self.filename, f'"{osp.basename(path)}" {reason}', i)
            if flag is None:
                img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            out.append(img)
        return out


@DATASETS.register_module()
class RawframePairDataset(VideoPairDataset):
    """Frame folders (the prepared form) from which a pipeline samples frame
    pairs for DropMAE; the counterpart of :class:`VideoPairDataset`.

    Two sources, as for videos:

    - **List** (``ann_file`` given): mmaction2's rawframes list, one
      ``frame_dir total_frames label`` per line (``ann_columns``), relative
      to ``data_prefix['video']`` or absolute, columns separated by tabs or,
      on a line without tabs, whitespace (so Kinetics class names with
      spaces work with the tab-separated lists that
      ``tools/dataset_converters/prepare_kinetics.py`` writes).
    - **Folder** (``ann_file=''``): ``{root}/{class_name}/{video}/`` frame
      folders (sorted class folders numbered from 0) and
      ``{root}/{video}/`` frame folders with label -1; a folder is a video
      when it holds its first frame file. Folders named like the converter's
      temporary outputs are ignored.

    Each data sample is ``dict(filename=<frame folder>, label=<int>,
    filename_tmpl=..., start_index=...)`` plus ``total_frames`` when the list
    gives it; :class:`LoadFramePairFromFrames` reads it. The converter writes
    the list in the order of :class:`VideoPairDataset` on the source folder,
    so sample ``i`` of both data sets is the same video.

    Args:
        ann_file (str): File list; empty to scan the folder.
        data_root (str): Root joined to ``ann_file`` and ``data_prefix``.
        data_prefix (dict): ``dict(video=<folder of the frame folders>)``.
        filename_tmpl (str): Frame file template. Defaults to mmaction2's
            ``'img_{:05d}.jpg'``.
        start_index (int): Number of the first frame file. Defaults to 1.
        ann_columns (Sequence[str]): Integer columns after the path.
            Defaults to mmaction2's ``('num_frames', 'label')``.
        **kwargs: Other arguments of :class:`VideoPairDataset` /
            :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self,
                 ann_file: str = '',
                 data_root: str = '',
                 data_prefix: dict = dict(video=''),
                 filename_tmpl: str = DEFAULT_FILENAME_TMPL,
                 start_index: int = 1,
                 ann_columns: Sequence[str] = ('num_frames', 'label'),
                 **kwargs) -> None:
        _split_template(filename_tmpl)
        self.filename_tmpl = filename_tmpl
        self.start_index = int(start_index)
        super().__init__(ann_file=ann_file, data_root=data_root, data_prefix=data_prefix,
                         ann_columns=ann_columns, **kwargs)

    def _is_frame_dir(self, path: str) -> bool:
        return osp.isfile(osp.join(path, self.filename_tmpl.format(self.start_index)))

    def _scan_folder(self) -> Tuple[List[Dict], List[str]]:
        root = self.video_dir
        if not osp.isdir(root):
            raise FileNotFoundError(f'frame folder root "{root}" does not exist')
        logger = MMLogger.get_current_instance()
        class_dirs, loose = [], []
        with os.scandir(root) as it:
            for e in it:
                if e.name.startswith('.') or not e.is_dir():
                    continue
                (loose if self._is_frame_dir(e.path) else class_dirs).append(e.name)
        class_dirs.sort()
        classes = self._metainfo.get('classes')
        classes = list(classes) if classes else class_dirs
        label_of = {c: i for i, c in enumerate(classes)}
        data_list = [dict(filename=osp.abspath(osp.join(root, n)), label=-1)
                     for n in sorted(loose)]
        for name in class_dirs:
            if name not in label_of:
                logger.warning(f'Folder "{osp.join(root, name)}" is not in '
                               'metainfo["classes"]; it is ignored')
                continue
            folder = osp.join(root, name)
            with os.scandir(folder) as it:
                videos = sorted(e.path for e in it if e.is_dir() and not e.name.startswith('.')
                                and self._is_frame_dir(e.path))
            if not videos:
                logger.warning(f'Class folder "{folder}" has no frame folders (no '
                               f'"{self.filename_tmpl.format(self.start_index)}"); skipped')
            data_list.extend(dict(filename=osp.abspath(v), label=label_of[name])
                             for v in videos)
        if not data_list:
            raise FileNotFoundError(f'no frame folders (holding '
                                    f'"{self.filename_tmpl.format(self.start_index)}") found '
                                    f'in "{root}" or its class folders')
        return data_list, classes

    def load_data_list(self) -> List[Dict]:
        """Read the list (in its order) or scan the folder (in the order of
        :class:`VideoPairDataset`'s scan: loose folders, then each class).

        Returns:
            list[dict]: The data samples.
        """
        data_list = super().load_data_list()
        for info in data_list:
            info['filename_tmpl'] = self.filename_tmpl
            info['start_index'] = self.start_index
        return data_list


@TRANSFORMS.register_module()
class LoadFramePairFromFrames(LoadFramePairFromVideo):
    """Sample a frame pair of a frame folder and load it; the prepared-form
    counterpart of :class:`LoadFramePairFromVideo`, with the same keys.

    The pair is drawn by :func:`sample_frame_pair` from the global
    ``np.random`` state on the folder's frame count, exactly as
    :class:`LoadFramePairFromVideo` draws it on the video's frame count, so
    with the same random state and the same count both pick the same
    indices. A folder that cannot be read is logged as a warning naming it and
    the transform returns ``None`` (MMEngine's ``BaseDataset`` then draws
    another sample in training mode).

    Required keys:

    - filename (the frame folder)

    Optional keys: ``total_frames`` (trusted as the frame count, as
    mmaction2 does), ``filename_tmpl``, ``start_index`` (override the
    transform's).

    Added keys: ``imgs`` (``[frame_x, frame_z]`` RGB ``uint8``),
    ``frame_inds`` (``int64 [start, end]``), ``num_frames``, ``ori_shape``,
    ``img_shape``.

    Args:
        frame_gap (int): See :func:`sample_frame_pair`. Defaults to 50.
        filename_tmpl (str): Default frame file template.
        start_index (int): Default number of the first frame file.
        use_total_frames (bool): Trust ``results['total_frames']`` instead
            of listing the folder. Defaults to True.
        skip_broken (bool): Return ``None`` (with a warning) for a broken
            folder instead of raising. Defaults to True.
    """

    def __init__(self,
                 frame_gap: int = 50,
                 filename_tmpl: str = DEFAULT_FILENAME_TMPL,
                 start_index: int = 1,
                 use_total_frames: bool = True,
                 skip_broken: bool = True) -> None:
        if frame_gap < 2:
            raise ValueError(f'frame_gap must be >= 2, got {frame_gap}')
        _split_template(filename_tmpl)
        self.frame_gap = frame_gap
        self.filename_tmpl = filename_tmpl
        self.start_index = start_index
        self.use_total_frames = use_total_frames
        self.skip_broken = skip_broken

    source = 'frame folder'

    def open_reader(self, results: Dict) -> 'FrameFolderReader':
        return FrameFolderReader(
            results['filename'],
            filename_tmpl=results.get('filename_tmpl', self.filename_tmpl),
            start_index=results.get('start_index', self.start_index),
            num_frames=results.get('total_frames') if self.use_total_frames else None)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(frame_gap={self.frame_gap}, '
                f'filename_tmpl={self.filename_tmpl!r}, start_index={self.start_index}, '
                f'use_total_frames={self.use_total_frames}, skip_broken={self.skip_broken})')
