"""Template/search training pairs: frame sampling (OSTrack's causal
TrackingSampler) and the crop/jitter/flip/pack transforms."""
import math
import random

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate

from mmdropmae.datasets import SOTPairDataset
from mmdropmae.datasets.transforms.sot_transforms import (
    PackSOTPairInputs, SOTPairBrightnessJitter, SOTPairCrop, SOTPairGrayscale,
    SOTPairRandomFlip, sample_target)
from mmdropmae.registry import DATASETS, MODELS


@pytest.fixture(scope='module')
def got10k_root(tmp_path_factory):
    from mmdropmae.datasets.synthetic.sot import make_synthetic_got10k
    root = tmp_path_factory.mktemp('synthetic_got10k')
    make_synthetic_got10k(
        str(root), 'train', num_sequences=4, num_frames=30, size=(128, 96),
        seed=0, scenarios=['plain', 'occlusion', 'leave_frame',
                           'scale_change'])
    return str(root)


def _got10k(root):
    return dict(type='GOT10kDataset', data_root=root, split='train')


def tiny_pipeline(search_jitter=(0.25, 3.)):
    return [
        dict(type='LoadSOTPairImages'),
        dict(type='SOTPairGrayscale', prob=0.05),
        dict(type='SOTPairCrop', template_size=64, search_size=128,
             search_scale_jitter=search_jitter[0],
             search_center_jitter=search_jitter[1]),
        dict(type='SOTPairBrightnessJitter', brightness=0.2),
        dict(type='SOTPairRandomFlip', prob=0.5),
        dict(type='PackSOTPairInputs'),
    ]


def _seed(s=0):
    np.random.seed(s)
    random.seed(s)


def test_pairs_come_from_one_sequence_within_max_gap(got10k_root):
    _seed()
    ds = SOTPairDataset([_got10k(got10k_root)], samples_per_epoch=7,
                        max_gap=5, min_seq_length=10)
    assert len(ds) == 7
    base = ds.datasets[0]
    for _ in range(300):
        pair = ds.sample_pair()
        seq = base.get_sequence(pair['video_id'])
        t, s = pair['template_frame_id'], pair['search_frame_id']
        # causal: search after template, within OSTrack's [t+1, t+max_gap);
        # the gap grows by 5 per retry when a drawn template frame has no
        # visible frame in range (only in sequences with absent frames)
        assert t < s
        if seq['visible'].all():
            assert s - t < 5
        assert seq['visible'][t] and seq['visible'][s]  # visible frames only
        assert pair['template_img_path'] == seq['frame_paths'][t]
        assert pair['search_img_path'] == seq['frame_paths'][s]
        np.testing.assert_array_equal(pair['search_bbox'],
                                      seq['gt_bboxes'][s])


def test_dataset_weights(got10k_root, tmp_path):
    from mmdropmae.datasets.synthetic.sot import make_synthetic_got10k
    other = tmp_path / 'other'
    make_synthetic_got10k(str(other), 'train', num_sequences=2,
                          num_frames=20, size=(96, 64), seed=5)
    _seed()
    ds = SOTPairDataset([_got10k(got10k_root), _got10k(str(other))],
                        dataset_weights=[3, 1], min_seq_length=10)
    names = [ds.sample_pair()['template_img_path'] for _ in range(800)]
    share = np.mean([n.startswith(str(other)) for n in names])
    assert 0.18 < share < 0.32  # expected 0.25
    ds = SOTPairDataset([_got10k(got10k_root), _got10k(str(other))],
                        dataset_weights=[0, 1], min_seq_length=10)
    assert all(ds.sample_pair()['template_img_path'].startswith(str(other))
               for _ in range(50))
    with pytest.raises(ValueError, match='weights'):
        SOTPairDataset([_got10k(got10k_root)], dataset_weights=[1, 1])


class _OneFrameDataset:
    """COCO-like: one-frame 'sequences'."""
    num_videos = 3

    def get_sequence(self, i):
        return dict(num_frames=1, frame_paths=[f'img{i}.jpg'],
                    gt_bboxes=np.array([[10., 10., 20., 20.]], np.float32),
                    visible=np.array([True]), video_name=f'obj{i}',
                    dataset='coco')


def test_static_images_give_same_frame_pairs():
    _seed()
    ds = SOTPairDataset([_OneFrameDataset()])
    pair = ds.sample_pair()
    assert pair['template_img_path'] == pair['search_img_path']
    assert pair['template_frame_id'] == pair['search_frame_id'] == 0


def test_pipeline_output_and_box_geometry(got10k_root):
    _seed(1)
    ds = DATASETS.build(
        dict(type='SOTPairDataset', datasets=[_got10k(got10k_root)],
             samples_per_epoch=10, min_seq_length=10,
             pipeline=tiny_pipeline()))
    item = ds[0]
    assert item['inputs']['template'].shape == (3, 64, 64)
    assert item['inputs']['search'].shape == (3, 128, 128)
    assert item['inputs']['template'].dtype == torch.uint8
    sample = item['data_samples']
    assert sample.gt_bbox.shape == (4, )
    # the template is never jittered: centred, sqrt(w h) = 1 / factor
    tb = sample.template_bbox.numpy()
    np.testing.assert_allclose(tb[:2] + tb[2:] / 2, [0.5, 0.5], atol=1e-5)
    assert math.sqrt(tb[2] * tb[3]) == pytest.approx(0.5, rel=0.02)
    # batching + normalisation
    batch = pseudo_collate([ds[i] for i in range(3)])
    pre = MODELS.build(dict(type='TrackingDataPreprocessor'))
    out = pre(batch, True)
    assert out['inputs']['template'].shape == (3, 3, 64, 64)
    assert out['inputs']['search'].shape == (3, 3, 128, 128)
    assert out['inputs']['search'].dtype == torch.float32


def test_crop_box_matches_pixels():
    _seed(2)
    img = np.zeros((96, 128, 3), np.uint8)
    img[30:50, 40:70] = 255  # x=40, y=30, w=30, h=20
    crop = SOTPairCrop(template_size=64, search_size=128,
                       search_scale_jitter=0.25, search_center_jitter=3.)
    for _ in range(20):
        res = crop(dict(template_img=img, search_img=img,
                        template_bbox=np.array([40., 30., 30., 20.]),
                        search_bbox=np.array([40., 30., 30., 20.])))
        if res is None:
            continue
        for s, size in (('template', 64), ('search', 128)):
            box = res[f'{s}_bbox_crop'] * size
            x1, y1 = np.clip(box[:2], 0, size)  # the crop may cut the box
            x2, y2 = np.clip(box[:2] + box[2:], 0, size)
            mask = res[f'{s}_img'][..., 0] > 127
            ys, xs = np.nonzero(mask)
            assert abs(xs.min() - x1) <= 1.5 and abs(xs.max() + 1 - x2) <= 1.5
            assert abs(ys.min() - y1) <= 1.5 and abs(ys.max() + 1 - y2) <= 1.5


def test_crop_rejects_crops_without_image():
    img = np.zeros((50, 50, 3), np.uint8)
    crop = SOTPairCrop(template_size=64, search_size=128,
                       search_scale_jitter=0., search_center_jitter=0.)
    res = crop(dict(template_img=img, search_img=img,
                    template_bbox=np.array([500., 500., 5., 5.]),
                    search_bbox=np.array([500., 500., 5., 5.])))
    assert res is None
    res = crop(dict(template_img=img, search_img=img,
                    template_bbox=np.array([10., 10., 0., 5.]),
                    search_bbox=np.array([10., 10., 5., 5.])))
    assert res is None  # degenerate box -> crop side < 1


def _results():
    rng = np.random.RandomState(0)
    return dict(
        template_img=rng.randint(0, 255, (64, 64, 3)).astype(np.uint8),
        search_img=rng.randint(0, 255, (128, 128, 3)).astype(np.uint8),
        template_bbox_crop=np.array([.25, .25, .5, .5], np.float32),
        search_bbox_crop=np.array([.1, .3, .2, .4], np.float32))


def test_flip_gray_brightness_pack():
    res = _results()
    flipped = SOTPairRandomFlip(prob=1.)(dict(res))
    np.testing.assert_array_equal(flipped['search_img'],
                                  res['search_img'][:, ::-1])
    np.testing.assert_array_equal(flipped['template_img'],
                                  res['template_img'][:, ::-1])
    np.testing.assert_allclose(flipped['search_bbox_crop'],
                               [0.7, 0.3, 0.2, 0.4], atol=1e-6)
    np.testing.assert_allclose(flipped['template_bbox_crop'],
                               [.25, .25, .5, .5], atol=1e-6)
    assert flipped['flip']
    same = SOTPairRandomFlip(prob=0.)(dict(res))
    np.testing.assert_array_equal(same['search_img'], res['search_img'])

    gray = SOTPairGrayscale(prob=1.)(dict(res))
    for s in ('template', 'search'):
        g = gray[f'{s}_img']
        assert (g[..., 0] == g[..., 1]).all() and (g[..., 1] == g[..., 2]).all()

    _seed(3)
    for _ in range(10):
        out = SOTPairBrightnessJitter(0.2)(dict(res))
        ratio = out['search_img'].astype(float).sum() / \
            res['search_img'].astype(float).sum()
        assert 0.79 < ratio < 1.21

    packed = PackSOTPairInputs()(dict(res))
    assert packed['inputs']['search'].shape == (3, 128, 128)
    torch.testing.assert_close(packed['data_samples'].gt_bbox,
                               torch.tensor([.1, .3, .2, .4]))


def test_sample_target_padding_and_scale():
    img = np.full((40, 60, 3), 200, np.uint8)
    crop, r = sample_target(img, [0., 0., 10., 10.], 2., 32)
    assert r == pytest.approx(32 / 20)
    assert crop[:7, :7].max() == 0  # outside the image: zero padding
    assert crop[20:, 20:].min() == 200
    with pytest.raises(ValueError, match='too small'):
        sample_target(img, [0., 0., 0., 10.], 2., 32)
