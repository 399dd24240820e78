"""Frame-pair data set over raw video files (Kinetics layout or a list)."""
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger

from mmdropmae.registry import DATASETS

#: Extensions recognised as videos (compared case-insensitively).
VIDEO_EXTENSIONS = ('.mp4', '.m4v', '.mov', '.mkv', '.webm', '.avi', '.flv', '.mpg', '.mpeg',
                    '.wmv', '.3gp', '.ogv', '.ts')

_LINE_RE = re.compile(r'^(?P<path>.*?\S)(?P<cols>(?:\s+-?\d+)*)\s*$')


@DATASETS.register_module()
class VideoPairDataset(BaseDataset):
    """Videos from which a pipeline samples frame pairs for DropMAE.

    Two sources:

    - **Folder** (``ann_file=''``): the Kinetics layout,
      ``{data_root}/{data_prefix['video']}/{class_name}/{video}.mp4``. Class
      folders are sorted by name and numbered from 0 (``metainfo['classes']``);
      videos directly in the folder are used too, with label -1. Hidden
      entries are ignored. A class folder without videos is logged as a
      warning; no video at all raises :class:`FileNotFoundError` naming the
      folder.
    - **List** (``ann_file`` given): one video per line, relative to
      ``data_prefix['video']`` (or absolute), optionally followed by integer
      columns named by ``ann_columns`` (by default ``label`` then
      ``num_frames``, as written by
      :func:`mmdropmae.datasets.synthetic.write_ann_file`). Columns are
      separated by tabs, or by whitespace when the line has no tab (then the
      trailing integer tokens are the columns, so paths may contain spaces).
      Empty lines and lines starting with ``#`` are skipped.

    Each data sample is ``dict(filename=<absolute path>, label=<int, -1 when
    unknown>)``, plus ``total_frames`` when the list gives a frame count (the
    loading transform still uses the decoder's count). A folder scan sorts
    the samples by path, an annotation file keeps its own order, so every
    rank and worker sees the same order. With
    ``serialize_data=True`` (default) the list is pickled into one numpy
    buffer, shared copy-on-write by data loader workers; the dataset holds no
    open files, so any number of workers can use it.

    Args:
        ann_file (str): Annotation list; empty to scan the folder.
        data_root (str): Root joined to ``ann_file`` and ``data_prefix``.
        data_prefix (dict): ``dict(video=<folder>)``.
        extensions (Sequence[str]): Video file extensions.
        ann_columns (Sequence[str]): Names of the integer columns after the
            path in the list. ``label`` becomes the sample's label and
            ``num_frames`` its ``total_frames``; other names are stored as is.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`
            (``pipeline``, ``serialize_data``, ``test_mode``, ``indices``,
            ``max_refetch``, ``lazy_init``, ``metainfo``...).
    """

    METAINFO: dict = dict(classes=None)

    def __init__(self,
                 ann_file: str = '',
                 data_root: str = '',
                 data_prefix: dict = dict(video=''),
                 extensions: Sequence[str] = VIDEO_EXTENSIONS,
                 ann_columns: Sequence[str] = ('label', 'num_frames'),
                 **kwargs) -> None:
        self.extensions = tuple(e.lower() if e.startswith('.') else '.' + e.lower()
                                for e in extensions)
        self.ann_columns = tuple(ann_columns)
        if 'video' not in data_prefix:
            raise KeyError(f'data_prefix must have the key "video", got {data_prefix}')
        super().__init__(
            ann_file=ann_file, data_root=data_root, data_prefix=data_prefix, **kwargs)

    @property
    def video_dir(self) -> str:
        """Folder the videos (or the list's relative paths) are in."""
        return self.data_prefix['video'] or '.'

    def _is_video(self, name: str) -> bool:
        return not name.startswith('.') and name.lower().endswith(self.extensions)

    def _scan_folder(self) -> Tuple[List[Dict], List[str]]:
        root = self.video_dir
        if not osp.isdir(root):
            raise FileNotFoundError(f'video folder "{root}" does not exist')
        logger = MMLogger.get_current_instance()
        class_dirs, loose = [], []
        with os.scandir(root) as it:
            for entry in it:
                if entry.name.startswith('.'):
                    continue
                if entry.is_dir():
                    class_dirs.append(entry.name)
                elif entry.is_file() and self._is_video(entry.name):
                    loose.append(entry.path)
        class_dirs.sort()
        classes = self._metainfo.get('classes')
        if classes:
            classes = list(classes)
            unknown = sorted(set(class_dirs) - set(classes))
            if unknown:
                logger.warning(f'{len(unknown)} folders in "{root}" are not in '
                               f'metainfo["classes"] and are ignored: {unknown[:5]}')
            class_dirs = [c for c in classes if c in set(class_dirs)]
            missing = [c for c in classes if c not in set(class_dirs)]
            for c in missing:
                logger.warning(f'Class folder "{osp.join(root, c)}" does not exist')
        else:
            classes = class_dirs
        label_of = {c: i for i, c in enumerate(classes)}
        data_list = [dict(filename=osp.abspath(p), label=-1) for p in sorted(loose)]
        for name in class_dirs:
            folder = osp.join(root, name)
            with os.scandir(folder) as it:
                videos = sorted(e.path for e in it if e.is_file() and self._is_video(e.name))
            if not videos:
                logger.warning(f'Class folder "{folder}" has no video files '
                               f'(extensions {self.extensions}); it is skipped')
            data_list.extend(dict(filename=osp.abspath(v), label=label_of[name]) for v in videos)
        if not data_list:
            raise FileNotFoundError(f'no video files (extensions {self.extensions}) found in '
                                    f'"{root}" or its class folders')
        return data_list, classes

    def _parse_line(self, line: str, lineno: int) -> Optional[Dict]:
        line = line.rstrip('\r\n')
        if not line.strip() or line.lstrip().startswith('#'):
            return None
        if '\t' in line:
            parts = [p.strip() for p in line.split('\t')]
            path, cols = parts[0], [p for p in parts[1:] if p]
        else:
            m = _LINE_RE.match(line.strip())
            path, cols = m.group('path'), m.group('cols').split()
        if len(cols) > len(self.ann_columns):
            raise ValueError(f'{self.ann_file}:{lineno}: {len(cols)} columns after the path, '
                             f'expected at most {len(self.ann_columns)} {self.ann_columns}')
        try:
            values = [int(c) for c in cols]
        except ValueError as e:
            raise ValueError(f'{self.ann_file}:{lineno}: non-integer column in {line!r}') from e
        info = dict(filename=osp.abspath(osp.join(self.video_dir, path)), label=-1)
        for name, value in zip(self.ann_columns, values):
            info['total_frames' if name == 'num_frames' else name] = value
        return info

    def _load_list(self) -> List[Dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'annotation file "{self.ann_file}" does not exist')
        data_list = []
        with open(self.ann_file) as f:
            for lineno, line in enumerate(f, 1):
                info = self._parse_line(line, lineno)
                if info is not None:
                    data_list.append(info)
        if not data_list:
            raise ValueError(f'annotation file "{self.ann_file}" lists no videos')
        return data_list

    def load_data_list(self) -> List[Dict]:
        """Scan the folder or read the annotation list.

        Returns:
            list[dict]: The data samples.
        """
        if self.ann_file:
            return self._load_list()
        data_list, classes = self._scan_folder()
        self._metainfo['classes'] = tuple(classes)
        return data_list

    def __repr__(self) -> str:
        source = f'ann_file={self.ann_file!r}' if self.ann_file else 'folder'
        n = len(self) if self._fully_initialized else 'not fully initialized'
        return (f'{self.__class__.__name__}({source}, video_dir={self.video_dir!r}, '
                f'num_videos={n}, test_mode={self.test_mode}, pipeline={self.pipeline})')
