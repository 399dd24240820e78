"""Flow augmentations keep the flow consistent with the images (warp check
on exact synthetic pairs), flip signs and scale factors are right, sparse
ground truth is scattered as RAFT's, photometric steps leave the flow
alone, and packing gives the model's inputs."""
import numpy as np
import pytest
import torch

from mmdropmae.datasets.synthetic.flow import SyntheticFlowPair
from mmdropmae.datasets.transforms.flow_transforms import (FlowColorJitter, FlowEraser,
                                                           FlowRandomCrop, FlowRandomFlip,
                                                           FlowRandomResize, PackFlowInputs,
                                                           resize_sparse_flow_map)
from tests.test_datasets.test_flow_datasets import warp_error


def _results(seed=0, shapes=2, size=(96, 72)):
    p = SyntheticFlowPair(size[0], size[1], seed=seed, num_shapes=shapes).render()
    return dict(img1=p['img1'], img2=p['img2'], gt_flow=p['flow'],
                gt_valid=np.ones(p['flow'].shape[:2], np.float32), gt_occlusion=p['occlusion'],
                sparse=False)


def _errors(r):
    vis = ~r['gt_occlusion']
    good = warp_error(r['img1'], r['img2'], r['gt_flow'], vis)
    zero = warp_error(r['img1'], r['img2'], np.zeros_like(r['gt_flow']), vis)
    flip_u = r['gt_flow'] * np.array([-1, 1], np.float32)
    wrong = warp_error(r['img1'], r['img2'], flip_u, vis)
    return good, zero, wrong


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_spatial_augmentations_keep_the_flow_consistent(seed):
    base = _errors(_results(seed))[0]
    np.random.seed(seed)
    r = _results(seed)
    FlowRandomResize.resize(r, 1.4, 1.2)  # stretched
    FlowRandomFlip.flip(r, 1)
    FlowRandomFlip.flip(r, 0)
    r = FlowRandomCrop((64, 96), margin=20)(r)
    assert r['img1'].shape == (64, 96, 3) and r['gt_flow'].shape == (64, 96, 2)
    good, zero, wrong = _errors(r)
    # the augmented flow still maps frame 1 onto frame 2 (bilinear resizing of
    # the images adds a little), far better than no motion or a wrong sign
    assert good < base + 3.0, (good, base)
    assert good < 0.4 * zero and good < 0.4 * wrong, (good, zero, wrong)
    # and through the random transforms with their RAFT defaults
    r = _results(seed)
    for t in (FlowRandomResize((56, 80), -0.2, 0.5, prob=1.0), FlowRandomFlip(0.5, 0.5),
              FlowRandomCrop((56, 80))):
        r = t(r)
    good, zero, _ = _errors(r)
    assert good < 0.4 * zero, (good, zero)


def test_flip_and_scale_values():
    r = _results(0)
    flow = r['gt_flow'].copy()
    FlowRandomFlip.flip(r, 1)
    np.testing.assert_array_equal(r['gt_flow'][:, ::-1, 0], -flow[..., 0])
    np.testing.assert_array_equal(r['gt_flow'][:, ::-1, 1], flow[..., 1])
    r = _results(0)
    FlowRandomResize.resize(r, 2.0, 0.5)
    assert r['img1'].shape[:2] == (36, 192)
    assert abs(r['gt_flow'][..., 0].mean() - 2.0 * flow[..., 0].mean()) < 0.05 * \
        abs(flow[..., 0]).mean() + 0.05


def test_sparse_resize_scatters_valid_points():
    flow = np.zeros((10, 10, 2), np.float32)
    valid = np.zeros((10, 10), np.float32)
    flow[4, 6] = (1.5, -2.0)
    valid[4, 6] = 1
    f2, v2 = resize_sparse_flow_map(flow, valid, 2.0, 1.5)
    assert f2.shape == (15, 20, 2) and v2.sum() == 1
    np.testing.assert_allclose(f2[6, 12], (3.0, -3.0))  # point (6, 4) -> (12, 6)
    assert v2[6, 12] == 1
    r = dict(img1=np.zeros((10, 10, 3), np.uint8), img2=np.zeros((10, 10, 3), np.uint8),
             gt_flow=flow, gt_valid=valid, sparse=True)
    FlowRandomResize.resize(r, 2.0, 1.5)
    assert r['gt_valid'].sum() == 1 and r['img1'].shape[:2] == (15, 20)


def test_photometric_steps_keep_flow_and_frame1():
    r = _results(1)
    flow, img1 = r['gt_flow'].copy(), r['img1'].copy()
    np.random.seed(0)
    FlowEraser(prob=1.0, bounds=(10, 20))(r)
    np.testing.assert_array_equal(r['img1'], img1)
    np.testing.assert_array_equal(r['gt_flow'], flow)
    assert (r['img2'] != _results(1)['img2']).any()
    # symmetric jitter: identical frames stay identical (one set of factors)
    same = dict(img1=img1.copy(), img2=img1.copy())
    np.random.seed(1)
    FlowColorJitter(asymmetric_prob=0.0)(same)
    np.testing.assert_array_equal(same['img1'], same['img2'])
    assert (same['img1'] != img1).any() and same['img1'].dtype == np.uint8
    # zero-strength jitter is the identity
    ident = dict(img1=img1.copy(), img2=img1.copy())
    FlowColorJitter(0, 0, 0, 0)(ident)
    assert np.abs(ident['img1'].astype(int) - img1).max() <= 1


def test_crop_errors_and_pack():
    r = _results(0, size=(40, 30))
    with pytest.raises(ValueError, match='smaller than the crop'):
        FlowRandomCrop((64, 64))(r)
    r = FlowRandomResize((64, 64), prob=0.0)(r)  # forced: smaller than the crop
    r = FlowRandomCrop((64, 64))(r)
    r['out_name'] = '00001'
    packed = PackFlowInputs()(r)
    assert packed['inputs'].shape == (2, 3, 64, 64) and packed['inputs'].dtype == torch.uint8
    ds = packed['data_samples']
    assert ds.gt_flow.shape == (64, 64, 2) and ds.flow_valid.shape == (64, 64)
    assert ds.out_name == '00001'
