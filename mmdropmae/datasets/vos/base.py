"""Common part of the VOS data sets: per-sequence entries and the per-frame
test view.

Every VOS data set builds a list of **sequence entries** (dicts with the keys
of :data:`SEQUENCE_KEYS`) and serves either them (``mode='sequence'``: one
data item per video, for training-clip sampling or sequence-level inference)
or one item per frame (``mode='frame'``: MMEngine's test loop walks the
frames of each video in order).

Sequence entry (``mode='sequence'``, also ``dataset.sequences[i]``)::

    video_name        str   sequence folder name
    frame_names       list[str]  frame file stems in temporal order ('00000', ...)
    frame_paths       list[str]  JPEG files
    mask_paths        list[str | None]  annotation PNG per frame, None where
                            the frame is not annotated (YouTube-VOS valid:
                            only the frames where an object first appears)
    num_frames        int
    height, width     int   frame size (of the first frame; all annotations
                            checked against their own frame)
    object_ids        list[int]  sorted object ids of the video
    first_frames      dict[int, int]  object id -> index (into frame_paths)
                            of its first appearance = the frame whose
                            annotation gives its reference mask
    frame_object_ids  list[list[int] | None]  ids present in each frame's
                            annotation (None where unknown)
    object_categories dict[int, str | None]  category per object (YouTube-VOS
                            meta.json; None when unknown, e.g. DAVIS)
    single_object     bool  masks are binarised on loading (DAVIS 2016);
                            read them with ``load_vos_mask(path, single_object)``

Frame item (``mode='frame'``), in temporal order, video after video::

    video_name, num_frames, height, width, object_ids, first_frames,
    object_categories, single_object   (as above)
    frame_id          int   index of the frame in its video (0-based)
    frame_name        str   its file stem; results are written as
                            {frame_name}.png
    img_path          str   the JPEG
    gt_mask_path      str | None  annotation of this frame (None if absent)
    init_object_ids   list[int]  objects whose reference mask is given at this
                            frame (first_frames[id] == frame_id): a
                            semi-supervised model takes *only these ids* from
                            gt_mask_path, everything else it must predict
    is_first_frame, is_last_frame  bool
"""
import copy
from typing import Dict, List, Optional, Sequence

from mmengine.dataset import BaseDataset

from mmdropmae.utils.fileio import load_vos_mask
from mmdropmae.utils.image import image_size

#: Keys of a sequence entry.
SEQUENCE_KEYS = ('video_name', 'frame_names', 'frame_paths', 'mask_paths', 'num_frames',
                 'height', 'width', 'object_ids', 'first_frames', 'frame_object_ids',
                 'object_categories', 'single_object')

#: Keys of a frame item (``mode='frame'``).
FRAME_KEYS = ('video_name', 'frame_id', 'frame_name', 'img_path', 'gt_mask_path',
              'init_object_ids', 'num_frames', 'height', 'width', 'object_ids', 'first_frames',
              'object_categories', 'single_object', 'is_first_frame', 'is_last_frame')


def read_checked_mask(mask_path: str, frame_path: str, frame_size: Optional[tuple] = None,
                      single_object: bool = False):
    """Read an annotation, checking that it is a palette PNG of the frame's size.

    Args:
        mask_path (str): Annotation PNG.
        frame_path (str): Its frame (only the header is read).
        frame_size (tuple, optional): ``(width, height)`` of the frame if
            already known.
        single_object (bool): Binarise (DAVIS 2016).

    Returns:
        np.ndarray: ``(H, W)`` uint8 ids (void 255 -> 0).
    """
    ids = load_vos_mask(mask_path, single_object=single_object)
    w, h = frame_size if frame_size is not None else image_size(frame_path)
    if ids.shape != (h, w):
        raise ValueError(f'annotation {mask_path} is {ids.shape[1]}x{ids.shape[0]} but its '
                         f'frame {frame_path} is {w}x{h}')
    return ids


def sequence_entry(video_name: str, frame_names: List[str], frame_paths: List[str],
                   mask_paths: List[Optional[str]], size: tuple, first_frames: Dict[int, int],
                   frame_object_ids: List[Optional[List[int]]],
                   categories: Optional[Dict[int, Optional[str]]] = None,
                   single_object: bool = False) -> Dict:
    """A sequence entry (the keys of :data:`SEQUENCE_KEYS`) from what a
    loader read. ``size`` is the first frame's ``(width, height)``;
    ``num_frames``, ``object_ids`` (the sorted keys of ``first_frames``) and
    the per-object dicts, in that order, are derived; objects without a
    category get None."""
    width, height = size
    object_ids = sorted(first_frames)
    categories = categories or {}
    return dict(
        video_name=video_name,
        frame_names=frame_names,
        frame_paths=frame_paths,
        mask_paths=mask_paths,
        num_frames=len(frame_names),
        height=height,
        width=width,
        object_ids=object_ids,
        first_frames={i: first_frames[i] for i in object_ids},
        frame_object_ids=frame_object_ids,
        object_categories={i: categories.get(i) for i in object_ids},
        single_object=single_object)


def frame_items(seq: Dict) -> List[Dict]:
    """The per-frame items (see the module docstring) of a sequence entry."""
    items = []
    n = seq['num_frames']
    shared = {k: seq[k] for k in ('video_name', 'num_frames', 'height', 'width', 'object_ids',
                                  'first_frames', 'object_categories', 'single_object')}
    starts: Dict[int, List[int]] = {}
    for obj, t in seq['first_frames'].items():
        starts.setdefault(t, []).append(obj)
    for t in range(n):
        item = copy.deepcopy(shared)
        item.update(
            frame_id=t,
            frame_name=seq['frame_names'][t],
            img_path=seq['frame_paths'][t],
            gt_mask_path=seq['mask_paths'][t],
            init_object_ids=sorted(starts.get(t, [])),
            is_first_frame=t == 0,
            is_last_frame=t == n - 1)
        items.append(item)
    return items


class BaseVOSDataset(BaseDataset):
    """Base class of the VOS data sets (see the module docstring for keys).

    Subclasses implement :meth:`load_sequences` returning sequence entries.

    Args:
        mode (str, optional): ``'sequence'`` (one item per video) or
            ``'frame'`` (one item per frame, videos in order). Defaults to
            ``'frame'`` when ``test_mode`` else ``'sequence'``.
        sequences (Sequence[str], optional): Load only these videos, in this
            order.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments.
    """

    def __init__(self, mode: Optional[str] = None, sequences: Optional[Sequence[str]] = None,
                 **kwargs) -> None:
        test_mode = kwargs.get('test_mode', False)
        if mode is None:
            mode = 'frame' if test_mode else 'sequence'
        if mode not in ('sequence', 'frame'):
            raise ValueError(f"mode must be 'sequence' or 'frame', got {mode!r}")
        self.mode = mode
        if isinstance(sequences, str):
            sequences = [sequences]
        self.sequence_filter = None if sequences is None else list(sequences)
        self.sequences: List[Dict] = []
        super().__init__(**kwargs)

    def load_sequences(self) -> List[Dict]:
        """Sequence entries; subclasses load only ``self.sequence_filter``
        when it is set."""
        raise NotImplementedError

    def load_data_list(self) -> List[Dict]:
        seqs = self.load_sequences()
        if self.sequence_filter is not None:
            names = {s['video_name'] for s in seqs}
            missing = [n for n in self.sequence_filter if n not in names]
            if missing:
                raise KeyError(f'{self.__class__.__name__}: unknown sequences {missing}')
            keep = set(self.sequence_filter)
            seqs = [s for s in seqs if s['video_name'] in keep]
        self.sequences = seqs
        if self.mode == 'sequence':
            return [copy.deepcopy(s) for s in seqs]
        items = []
        for s in seqs:
            items.extend(frame_items(s))
        return items

    def get_sequence(self, name: str) -> Dict:
        """The sequence entry of video ``name``."""
        for s in self.sequences:
            if s['video_name'] == name:
                return s
        raise KeyError(f'no sequence {name!r} in {self.__class__.__name__}')

    def load_mask(self, path: str) -> 'np.ndarray':  # noqa: F821
        """Read an annotation with this data set's conventions (DAVIS 2016
        binarisation, void 255 -> 0)."""
        return load_vos_mask(path, single_object=self.single_object)

    @property
    def single_object(self) -> bool:
        return False
