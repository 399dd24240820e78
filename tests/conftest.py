"""Shared pytest fixtures."""
import itertools
import logging

import pytest

_logger_ids = itertools.count()


class _ListHandler(logging.Handler):
    """Keeps the messages of WARNING and above."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def warnings_log():
    """Make a fresh MMLogger current and collect its warnings (a list of
    message strings)."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance(f'test_warnings_{next(_logger_ids)}',
                                   log_level='WARNING')
    handler = _ListHandler()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


@pytest.fixture(scope='session')
def synthetic_video_root(tmp_path_factory):
    """A tiny synthetic Kinetics-layout folder shared by the whole session.

    ``root/{class_name}/{video_id}.mp4``: 3 classes x 2 H.264 videos, 128x96,
    24 frames at 30 fps, keyframe every 8 frames (with B-frames). Treat it as
    read-only; copy it to add files.

    Returns:
        pathlib.Path: The root folder.
    """
    from mmdropmae.datasets.synthetic import make_synthetic_kinetics
    root = tmp_path_factory.mktemp('synthetic_kinetics')
    make_synthetic_kinetics(str(root), num_classes=3, videos_per_class=2, num_frames=24,
                            size=(128, 96), fps=30, gop=8, seed=0)
    return root


@pytest.fixture(scope='session')
def synthetic_got10k_root(tmp_path_factory):
    """A tiny synthetic GOT-10k folder shared by the whole session.

    ``root/{train,val,test}/GOT-10k_{Split}_00000k/`` + ``list.txt``: 128x96
    JPEG frames. ``train``: 4 sequences of 24 frames; ``val``: 5 sequences of
    20 frames cycling through the scenarios plain, occlusion, fast_motion,
    scale_change, leave_frame (so val 2 has fully occluded frames and val 5
    out-of-view frames with NaN boxes); ``test``: 2 sequences of 20 frames with
    the first box only. Treat it as read-only.

    Returns:
        pathlib.Path: The root folder.
    """
    from mmdropmae.datasets.synthetic.sot import SCENARIOS, make_synthetic_got10k
    root = tmp_path_factory.mktemp('synthetic_got10k')
    make_synthetic_got10k(str(root), 'train', num_sequences=4, num_frames=24, seed=0,
                          scenarios=list(SCENARIOS))
    make_synthetic_got10k(str(root), 'val', num_sequences=5, num_frames=20, seed=1,
                          scenarios=list(SCENARIOS))
    make_synthetic_got10k(str(root), 'test', num_sequences=2, num_frames=20, seed=2)
    return root


@pytest.fixture(scope='session')
def synthetic_lasot_root(tmp_path_factory):
    """A tiny synthetic LaSOT folder (read-only): classes ``airplane`` and
    ``bird`` x 2 sequences of 20 frames (128x96) with the scenarios
    leave_frame (``airplane-1``: out-of-view frames, ``0,0,0,0`` boxes),
    occlusion, plain, fast_motion; ``testing_set.txt`` holds ``airplane-2``
    and ``bird-2``, ``training_set.txt`` the others."""
    from mmdropmae.datasets.synthetic.sot import make_synthetic_lasot
    root = tmp_path_factory.mktemp('synthetic_lasot')
    make_synthetic_lasot(str(root), classes=('airplane', 'bird'), seqs_per_class=2,
                         num_frames=20, seed=3,
                         scenarios=['leave_frame', 'occlusion', 'plain', 'fast_motion'])
    return root


@pytest.fixture(scope='session')
def synthetic_davis_root(tmp_path_factory):
    """A tiny synthetic DAVIS folder (read-only): splits ``train`` and ``val``
    x 2 sequences of 8 frames (64x48), palette PNGs for every frame,
    ``ImageSets/2017`` and ``ImageSets/2016``. ``{split}-000`` has 3 objects
    with one entering mid-video and one vanishing; ``{split}-001`` has
    none of those events. Objects 1 and 2 cross (occlusion).

    Returns:
        tuple: ``(root pathlib.Path, info)`` where ``info`` is
        :func:`make_synthetic_davis`'s return value.
    """
    from mmdropmae.datasets.synthetic.vos import make_synthetic_davis
    root = tmp_path_factory.mktemp('synthetic_davis')
    info = make_synthetic_davis(str(root), num_sequences=dict(train=2, val=2), num_frames=8,
                                size=(64, 48), num_objects=(2, 3), seed=0)
    return root, info


@pytest.fixture(scope='session')
def synthetic_ytvos_root(tmp_path_factory):
    """A tiny synthetic YouTube-VOS folder (read-only): ``train`` (3 videos,
    dense annotations, categories) and ``valid`` (2 videos, annotations only
    where objects first appear, dense ground truth in
    ``valid/Annotations_dense``); 8 frames named 00000, 00005, ...; 64x48;
    ``valid0000`` has an object entering mid-video and one vanishing; the
    category ``star`` appears only in ``valid``.

    Returns:
        tuple: ``(root pathlib.Path, info)``.
    """
    from mmdropmae.datasets.synthetic.vos import make_synthetic_youtube_vos
    root = tmp_path_factory.mktemp('synthetic_ytvos')
    info = make_synthetic_youtube_vos(str(root), num_videos=dict(train=3, valid=2),
                                      num_frames=8, size=(64, 48), num_objects=(2, 3), seed=0)
    return root, info
