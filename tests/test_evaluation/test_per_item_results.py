"""Metrics of whole-video data items keep every frame through MMEngine's
``BaseMetric.evaluate``, which keeps only the first ``len(dataset)`` result
entries (the old PCK, mIoU and ``--out`` dump kept the first frames)."""
import pickle

import numpy as np
import pytest

from mmdropmae.evaluation.metrics import DumpResults, PCKMetric, mIoUMetric
from mmdropmae.evaluation.metrics.sample_utils import extend_per_item, flatten_items

NUM_VIDEOS, NUM_FRAMES = 2, 4


def _keypoint_videos():
    """Two videos of 4 frames, 2 joints 10 px apart on a 100 px box; the
    prediction is exact on frames 1 and 3 and 50 px off on frame 2 (frame
    0 is excluded from PCK)."""
    videos = []
    for v in range(NUM_VIDEOS):
        gt = np.array([[0., 0.], [60., 80.]])  # box diagonal 100 -> ref 60
        samples = []
        for t in range(NUM_FRAMES):
            pred = gt + (50. if t == 2 else 0.)
            samples.append(dict(video_name=f'v{v}', frame_id=t, gt_keypoints=gt,
                                pred_keypoints=pred))
        videos.append(samples)
    return videos


def _value(results, key):
    (value, ) = [v for k, v in results.items() if k.split('/')[-1] == key]
    return value


def test_pck_of_whole_videos_counts_every_frame():
    metric = PCKMetric(alphas=(0.5, ))
    for samples in _keypoint_videos():  # one data item (a video) per batch
        metric.process(dict(data_samples=[dict(video_name=samples[0]['video_name'])]), samples)
    res = _value(metric.evaluate(NUM_VIDEOS), 'PCK@0.5')
    # reference 0.6 x the box diagonal (100 px) = 60 px; per joint 2 of the 3
    # scored frames (1-3) within 0.5 x 60 = 30 px (frame 2 is 70.7 px off),
    # in both videos -> 2/3. Keeping the first 2 entries (frames 1 and 2 of
    # video 0) gave 1/2.
    assert res == pytest.approx(2 / 3)


def test_miou_of_whole_videos_counts_every_frame():
    metric = mIoUMetric(num_classes=2, exclude_first=False)
    gt = np.zeros((4, 4), np.int64)
    gt[:2] = 1
    for v in range(NUM_VIDEOS):
        samples = [dict(frame_id=t, gt_mask=gt, pred_mask=gt if t < 3 else 1 - gt)
                   for t in range(NUM_FRAMES)]
        metric.process(dict(data_samples=[{}]), samples)
    res = _value(metric.evaluate(NUM_VIDEOS), 'mIoU')
    # per video and class: 8 true pixels on each of the 3 exact frames, 8
    # false positives and 8 misses on the inverted one -> IoU 24 / 40 = 0.6
    # for both classes. Keeping the first 2 entries (two exact frames) gave 1.
    assert res == pytest.approx(0.6)


def test_dump_keeps_every_prediction(tmp_path):
    out = tmp_path / 'preds.pkl'
    metric = DumpResults(out_file_path=str(out))
    for samples in _keypoint_videos():
        metric.process(dict(data_samples=[{}]), samples)
    metric.evaluate(NUM_VIDEOS)
    dumped = pickle.loads(out.read_bytes())
    assert [(d['video_name'], d['frame_id']) for d in dumped] == [
        (f'v{v}', t) for v in range(NUM_VIDEOS) for t in range(NUM_FRAMES)]


def test_extend_per_item_one_entry_per_item():
    results = []
    extend_per_item(results, ['a', 'b'], dict(data_samples=[0, 1]))  # per-frame items
    extend_per_item(results, ['c', 'd', 'e'], dict(data_samples=[0, 1]))  # two videos
    extend_per_item(results, [], dict(data_samples=[0]))  # an item without entries
    extend_per_item(results, ['f'], None)  # no batch: one entry per item
    assert results == [['a'], ['b'], ['c', 'd', 'e'], [], [], ['f']]
    assert flatten_items(results) == list('abcdef')
