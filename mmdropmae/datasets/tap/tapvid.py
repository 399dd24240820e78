"""TAP-Vid pickles: DAVIS, RGB-Stacking, Kinetics (and our synthetic clips).

The layouts of the released files, as google-deepmind/tapnet reads them in
``tapnet/tapvid/evaluation_datasets.py`` (``create_davis_dataset``,
``create_rgb_stacking_dataset``, ``create_kinetics_dataset``):

- **DAVIS** (``tapvid_davis.pkl``): a dict ``video name -> entry``.
- **RGB-Stacking** (``tapvid_rgb_stacking.pkl``): a list of entries.
- **Kinetics**: a folder of shards ``*_of_0010.pkl``, each a list of
  entries (a dict is read as its values), whose ``'video'`` is a list of
  JPEG-encoded frames (bytes) instead of an array.

An entry is ``{'video': uint8 (T, H, W, 3), 'points': float (N, T, 2) (x, y)
in [0, 1], 'occluded': bool (N, T)}``. Files are unpickled with a restricted
unpickler that builds numpy arrays and plain containers only (a pickle may
otherwise run code), and every entry is checked; errors name the file and
the entry.

:class:`TAPVidDataset` yields one item per video (the whole-video test
protocol of the other whole-video tasks); the frames are read by the
``LoadTAPVidVideo`` transform from a one-file cache, so a shard is unpickled
once while its videos are iterated.
"""
import glob
import io
import os
import os.path as osp
import pickle
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dataset import BaseDataset

from mmdropmae.registry import DATASETS

__all__ = ['TAPVidFormatError', 'load_tapvid_pickle', 'read_tapvid_entries',
           'decode_tapvid_frames', 'get_tapvid_entry', 'TAPVidDataset', 'TAPVID_SUBSETS']

TAPVID_SUBSETS = ('davis', 'rgb_stacking', 'kinetics')


class TAPVidFormatError(ValueError):
    """A TAP-Vid pickle that does not have the expected layout."""


_ALLOWED = {
    ('numpy', 'ndarray'), ('numpy', 'dtype'), ('numpy', 'bool_'),
    ('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'),
    ('numpy.core.numeric', '_frombuffer'), ('numpy._core.numeric', '_frombuffer'),
    ('_codecs', 'encode'), ('builtins', 'bytearray'),
}


class _ArrayUnpickler(pickle.Unpickler):
    """Builds numpy arrays, scalars and plain containers only."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'refusing to load {module}.{name}: a TAP-Vid pickle '
                                     'holds only numpy arrays, bytes and containers')


def load_tapvid_pickle(path: str) -> Any:
    """Unpickle a TAP-Vid file with the restricted unpickler."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'TAP-Vid pickle not found: {path}')
    try:
        with open(path, 'rb') as f:
            return _ArrayUnpickler(f).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError) as e:
        raise TAPVidFormatError(f'{path}: cannot read the pickle ({e})') from e


def decode_tapvid_frames(video: Any, where: str = '') -> np.ndarray:
    """(T, H, W, 3) uint8 frames of an entry's ``'video'`` (an array, or a
    list of JPEG bytes as in the Kinetics shards)."""
    if isinstance(video, np.ndarray) and video.dtype != object:
        frames = video
    else:
        from PIL import Image
        if len(video) == 0:
            raise TAPVidFormatError(f'{where}: the video has no frames')
        out = []
        for i, frame in enumerate(video):
            if isinstance(frame, (bytes, bytearray)):
                try:
                    with Image.open(io.BytesIO(frame)) as img:
                        out.append(np.array(img.convert('RGB')))
                except OSError as e:
                    raise TAPVidFormatError(f'{where}: frame {i} is not a readable image '
                                            f'({e})') from e
            else:
                out.append(np.asarray(frame))
        frames = np.stack(out)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise TAPVidFormatError(f"{where}: 'video' must be (T, H, W, 3), got {frames.shape}")
    return frames.astype(np.uint8, copy=False)


def _check_entry(entry: Any, where: str) -> Tuple[int, int, int]:
    """Validate one entry; returns (num_points, num_frames, num_video_frames)."""
    if not isinstance(entry, dict):
        raise TAPVidFormatError(f'{where}: an entry must be a dict, got {type(entry).__name__}')
    missing = {'video', 'points', 'occluded'} - set(entry)
    if missing:
        raise TAPVidFormatError(f'{where}: missing keys {sorted(missing)}')
    pts, occ = np.asarray(entry['points']), np.asarray(entry['occluded'])
    if pts.ndim != 3 or pts.shape[-1] != 2:
        raise TAPVidFormatError(f"{where}: 'points' must be (N, T, 2), got {pts.shape}")
    if occ.shape != pts.shape[:2]:
        raise TAPVidFormatError(f"{where}: 'occluded' must be {pts.shape[:2]}, got "
                                f'{occ.shape}')
    n_video = len(entry['video'])
    if n_video != pts.shape[1]:
        raise TAPVidFormatError(f'{where}: the video has {n_video} frames but the tracks '
                                f'{pts.shape[1]}')
    return pts.shape[0], pts.shape[1], n_video


def read_tapvid_entries(path: str, subset: str = 'auto',
                        shard_pattern: str = '*_of_0010.pkl') -> List[Tuple[str, str, Any]]:
    """List the videos of a TAP-Vid file or Kinetics folder.

    Args:
        path (str): A pickle (DAVIS / RGB-Stacking / one shard) or, for
            Kinetics, the folder of shards.
        subset (str): 'davis', 'rgb_stacking', 'kinetics' or 'auto' (a
            folder is Kinetics, a dict DAVIS, a list RGB-Stacking).
        shard_pattern (str): Shard file names of a Kinetics folder.

    Returns:
        list[tuple]: ``(video_name, pickle_path, key)`` where ``key`` is the
        dict key or the list index of the entry.
    """
    if subset not in TAPVID_SUBSETS + ('auto', ):
        raise ValueError(f'subset must be one of {TAPVID_SUBSETS} or auto, got {subset!r}')
    if osp.isdir(path):
        files = sorted(glob.glob(osp.join(path, shard_pattern)))
        if not files:
            raise FileNotFoundError(f'no TAP-Vid shards {shard_pattern} in {path}')
    else:
        files = [path]
    out = []
    for f in files:
        data = _cached_pickle(f)
        stem = osp.splitext(osp.basename(f))[0]
        if isinstance(data, dict):
            if subset == 'rgb_stacking':
                raise TAPVidFormatError(f'{f}: RGB-Stacking is a list of entries, got a dict')
            keys = list(data.keys())
            names = [str(k) for k in keys] if subset != 'kinetics' else \
                [f'{stem}_{i:04d}' for i in range(len(keys))]
        elif isinstance(data, (list, tuple)):
            if subset == 'davis':
                raise TAPVidFormatError(f'{f}: DAVIS is a dict name -> entry, got a list')
            keys = list(range(len(data)))
            names = [f'{stem}_{i:04d}' for i in keys]
        else:
            raise TAPVidFormatError(f'{f}: expected a dict or list of entries, got '
                                    f'{type(data).__name__}')
        for name, key in zip(names, keys):
            _check_entry(data[key], f'{f} [{key!r}]')
            out.append((name, f, key))
    return out


_CACHE: Dict[str, Any] = {}


def _cached_pickle(path: str) -> Any:
    """The unpickled file, keeping only the last one read (a Kinetics shard
    is read once while its videos are iterated in order)."""
    stamp = (osp.abspath(path), os.stat(path).st_mtime_ns)
    if _CACHE.get('stamp') != stamp:
        _CACHE.clear()
        _CACHE['data'] = load_tapvid_pickle(path)
        _CACHE['stamp'] = stamp
    return _CACHE['data']


def get_tapvid_entry(path: str, key: Any) -> dict:
    """Entry ``key`` (dict key or list index) of a TAP-Vid pickle."""
    data = _cached_pickle(path)
    if isinstance(data, dict):
        data = data if key in data else list(data.values())
    try:
        return data[key]
    except (KeyError, IndexError, TypeError) as e:
        raise TAPVidFormatError(f'{path}: no entry {key!r}') from e


@DATASETS.register_module()
class TAPVidDataset(BaseDataset):
    """TAP-Vid DAVIS / RGB-Stacking / Kinetics, one item per video.

    Data list entries: ``video_name``, ``pickle_path``, ``key``,
    ``num_frames``, ``height``/``width`` (of the stored frames), ``points``
    ((N, T, 2) float32 (x, y) in [0, 1]), ``occluded`` ((N, T) bool),
    ``query_mode``, ``query_stride``. The pipeline reads the frames
    (``LoadTAPVidVideo``, resized to 256x256 for the benchmark), samples the
    queries (``TAPVidSampleQueries``, tapnet's two modes) and packs them.

    Args:
        ann_file (str): The pickle, or the Kinetics folder of shards
            (relative to ``data_root``).
        subset (str): 'davis', 'rgb_stacking', 'kinetics' or 'auto'.
        query_mode (str): 'first' or 'strided' (TAP-Vid's two protocols).
        query_stride (int): Stride of the strided mode. TAP-Vid: 5.
        shard_pattern (str): Kinetics shard names. tapnet: '*_of_0010.pkl'.
        max_videos (int, optional): Keep the first n videos.
    """

    def __init__(self, ann_file: str = '', subset: str = 'auto', query_mode: str = 'strided',
                 query_stride: int = 5, shard_pattern: str = '*_of_0010.pkl',
                 max_videos: Optional[int] = None, **kwargs):
        if query_mode not in ('first', 'strided'):
            raise ValueError(f"query_mode must be 'first' or 'strided', got {query_mode!r}")
        self.subset = subset
        self.query_mode = query_mode
        self.query_stride = int(query_stride)
        self.shard_pattern = shard_pattern
        self.max_videos = max_videos
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        entries = read_tapvid_entries(self.ann_file, self.subset, self.shard_pattern)
        if self.max_videos is not None:
            entries = entries[:self.max_videos]
        out = []
        for name, path, key in entries:
            e = get_tapvid_entry(path, key)
            pts = np.asarray(e['points'], np.float32)
            video = e['video']
            if isinstance(video, np.ndarray) and video.dtype != object:
                h, w = video.shape[1:3]
            else:  # JPEG bytes: the size is read with the frames
                h = w = None
            out.append(dict(video_name=name, pickle_path=path, key=key,
                            num_frames=int(pts.shape[1]), height=h, width=w, points=pts,
                            occluded=np.asarray(e['occluded'], bool),
                            query_mode=self.query_mode, query_stride=self.query_stride))
        return out

    @property
    def video_names(self) -> Sequence[str]:
        return [self.get_data_info(i)['video_name'] for i in range(len(self))]
