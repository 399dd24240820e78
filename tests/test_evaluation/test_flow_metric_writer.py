"""FlowMetric: the RAFT numbers from data samples, and the written
submission layouts (Sintel ``.flo``, KITTI ``flow/*.png``)."""
import numpy as np
import pytest
import torch

from mmdropmae.evaluation.functional.flow_io import read_flo, read_kitti_flow
from mmdropmae.evaluation.metrics.flow_metric import FlowMetric
from mmdropmae.structures import DataSample


def _sample(pred, gt=None, valid=None, name=None):
    s = DataSample(metainfo=dict(out_name=name) if name else {})
    s.pred_flow = pred
    if gt is not None:
        s.gt_flow = gt
    if valid is not None:
        s.flow_valid = valid
    return s.to_dict()


def test_kitti_metric_and_submission(tmp_path):
    gt = np.array([[[10, 0], [100, 0]], [[0, 0], [0, 0]]], np.float32)
    pred = np.array([[[14, 0], [104, 0]], [[50, 50], [0, 0]]], np.float32)
    valid = np.array([[1, 1], [0, 1]], np.float32)
    metric = FlowMetric(protocol='kitti', outfile_prefix=str(tmp_path / 'sub'),
                        submission_layout='kitti')
    metric.process({}, [_sample(torch.from_numpy(pred), gt, valid,
                                '000000_10')])
    res = metric.compute_metrics(metric.results)
    assert res['epe'] == pytest.approx(8 / 3)
    assert res['fl_all'] == pytest.approx(1 / 3)
    flow, v = read_kitti_flow(str(tmp_path / 'sub' / 'flow' / '000000_10.png'))
    assert np.abs(flow - pred).max() < 1 / 64 and v.min() == 1


def test_sintel_layout_and_format_only(tmp_path):
    pred = np.random.default_rng(0).normal(size=(4, 6, 2)).astype(np.float32)
    metric = FlowMetric(protocol='sintel', outfile_prefix=str(tmp_path), format_only=True,
                        submission_layout='sintel')
    metric.process({}, [_sample(pred, name='clean/alley_1/frame0001')])
    assert metric.compute_metrics(metric.results) == {}
    np.testing.assert_array_equal(read_flo(str(tmp_path / 'clean/alley_1/frame0001.flo')),
                                  pred)
    with pytest.raises(ValueError, match='outfile_prefix'):
        FlowMetric(format_only=True)
    with pytest.raises(ValueError, match='protocol'):
        FlowMetric(protocol='middlebury')
    m = FlowMetric()
    with pytest.raises(ValueError, match='differ in size'):
        m.process({}, [_sample(pred, pred[:2], name='x')])
