"""Synthetic flow pairs (exact flow and occlusion) and the flow data set
readers in their real layouts (FlyingChairs, FlyingThings3D, Sintel,
KITTI-2015, HD1K), with the errors on broken folders."""
import os

import cv2
import numpy as np
import pytest

from mmdropmae.datasets.flow import (FlowDatasetError, FlyingChairsDataset,
                                     FlyingThings3DDataset, HD1KDataset, KITTI2015Dataset,
                                     SintelDataset, read_chairs_split, read_pfm, write_pfm)
from mmdropmae.datasets.synthetic.flow import (SyntheticFlowPair, make_synthetic_chairs,
                                               make_synthetic_kitti, write_flo_atomic,
                                               write_image_atomic, write_kitti_flow_png)
from mmdropmae.datasets.transforms.flow_transforms import LoadFlowPair
from mmdropmae.evaluation.functional.flow_io import read_kitti_flow


def warp_error(img1, img2, flow, mask, min_share=0.2):
    """Mean |img1(x) - img2(x + flow(x))| over ``mask`` and in-frame targets
    (at least ``min_share`` of the pixels)."""
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    mx, my = xs + flow[..., 0], ys + flow[..., 1]
    warped = cv2.remap(img2.astype(np.float32), mx, my, cv2.INTER_LINEAR)
    inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1) & mask
    assert inside.sum() > max(min_share * h * w, 10)
    return float(np.abs(warped - img1.astype(np.float32)).mean(-1)[inside].mean())


def test_synthetic_flow_is_exact_and_occlusion_is_consistent():
    pair = SyntheticFlowPair(96, 64, seed=3, num_shapes=3, max_translation=6).render()
    img1, img2, flow, occ = pair['img1'], pair['img2'], pair['flow'], pair['occlusion']
    assert img1.shape == (64, 96, 3) and flow.shape == (64, 96, 2) and flow.dtype == np.float32
    visible = ~occ
    exact = warp_error(img1, img2, flow, visible)
    zero = warp_error(img1, img2, np.zeros_like(flow), visible)
    # the texture point is the same up to bilinear sampling of the texture
    assert exact < 4.0 and exact < 0.25 * zero, (exact, zero)
    # occluded pixels do not match (they show another layer in frame 2)
    if occ.sum() > 20:
        assert warp_error(img1, img2, flow, occ, min_share=0) > 2 * exact
    # determinism
    again = SyntheticFlowPair(96, 64, seed=3, num_shapes=3, max_translation=6).render()
    np.testing.assert_array_equal(again['img2'], img2)
    # background only: occlusion only where the point leaves the frame
    bg = SyntheticFlowPair(64, 48, seed=1, num_shapes=0).render()
    ys, xs = np.mgrid[0:48, 0:64]
    tx, ty = xs + bg['flow'][..., 0], ys + bg['flow'][..., 1]
    outside = (tx < 0) | (tx > 63) | (ty < 0) | (ty > 47)
    np.testing.assert_array_equal(bg['occlusion'], outside)


def test_texture_detail_keeps_the_flow_exact():
    kw = dict(num_shapes=3, max_translation=6)
    plain = SyntheticFlowPair(96, 64, seed=3, **kw).render()
    fine = SyntheticFlowPair(96, 64, seed=3, texture_detail=30, **kw).render()
    # the same scene and motion: only the textures gain a grain
    np.testing.assert_array_equal(fine['flow'], plain['flow'])
    np.testing.assert_array_equal(fine['occlusion'], plain['occlusion'])
    grad = lambda im: float(np.abs(np.diff(im.astype(np.float32), axis=1)).mean())  # noqa
    assert grad(fine['img1']) > 2 * grad(plain['img1'])
    visible = ~fine['occlusion']
    exact = warp_error(fine['img1'], fine['img2'], fine['flow'], visible)
    zero = warp_error(fine['img1'], fine['img2'], np.zeros_like(fine['flow']), visible)
    # the grain moves with its layer: the true flow still aligns the frames
    assert exact < 0.35 * zero, (exact, zero)


def test_bundled_chairs_split_is_rafts():
    from mmdropmae.datasets.flow.chairs import BUNDLED_CHAIRS_SPLIT
    ids = read_chairs_split(BUNDLED_CHAIRS_SPLIT, 22872)
    # FlyingChairs_release: 22,872 pairs, 640 of them validation (FlowNet, RAFT)
    assert (ids == 1).sum() == 22232 and (ids == 2).sum() == 640


def test_chairs_layout_reads_back_exactly(tmp_path):
    root = tmp_path / 'chairs'
    make_synthetic_chairs(str(root), num_train=3, num_val=2, size=(48, 32), seed=0)
    assert (root / 'FlyingChairs_train_val.txt').read_text().split() == ['1'] * 3 + ['2'] * 2
    train = FlyingChairsDataset(data_root=str(root), split='train')
    val = FlyingChairsDataset(data_root=str(root), split='val')
    assert len(train) == 3 and len(val) == 2
    item = val[0]
    assert item['out_name'] == '00004' and item['img1_path'].endswith('00004_img1.ppm')
    res = LoadFlowPair()(dict(item))
    pair = SyntheticFlowPair(48, 32, seed=[0, 3]).render()
    np.testing.assert_array_equal(res['gt_flow'], pair['flow'])  # .flo: exact
    np.testing.assert_array_equal(res['img1'], pair['img1'])  # .ppm: lossless
    assert res['gt_valid'].min() == 1
    # errors name the file and the problem
    (root / 'FlyingChairs_train_val.txt').write_text('1\n2\n')
    with pytest.raises(FlowDatasetError, match='2 split ids for 5 image pairs'):
        FlyingChairsDataset(data_root=str(root))
    (root / 'FlyingChairs_train_val.txt').write_text('1\n1\n3\n1\n1\n')
    with pytest.raises(FlowDatasetError, match='line 3: split id must be 1'):
        FlyingChairsDataset(data_root=str(root))
    # without a split file in the folder the bundled one (the full release's
    # 22,872 pairs) is used, and refused for another number of pairs
    os.remove(root / 'FlyingChairs_train_val.txt')
    with pytest.raises(FlowDatasetError, match='chairs_split.txt has 22872 split ids for 5'):
        FlyingChairsDataset(data_root=str(root))
    os.remove(root / 'data' / '00002_img2.ppm')
    with pytest.raises(FlowDatasetError, match='images for'):
        FlyingChairsDataset(data_root=str(root))
    with pytest.raises(FlowDatasetError, match='FlyingChairs data folder not found'):
        FlyingChairsDataset(data_root=str(tmp_path / 'none'))


def test_kitti_layout_valid_masks_and_testing(tmp_path):
    root = tmp_path / 'kitti'
    make_synthetic_kitti(str(root), num_train=2, num_test=1, size=(64, 40), seed=0,
                         kitti_density=0.6)
    ds = KITTI2015Dataset(data_root=str(root), split='training')
    assert [d['out_name'] for d in (ds[0], ds[1])] == ['000000_10', '000001_10']
    res = LoadFlowPair()(dict(ds[0]))
    pair = SyntheticFlowPair(64, 40, seed=[0, 1000]).render()
    valid = res['gt_valid'] > 0
    assert 0.45 < valid.mean() < 0.75  # sparse, as KITTI
    assert np.abs(res['gt_flow'] - pair['flow'])[valid].max() < 1 / 64
    # our evaluation reader decodes the same file identically
    flow2, valid2 = read_kitti_flow(ds[0]['flow_path'])
    np.testing.assert_allclose(flow2, res['gt_flow'])
    # flow_noc: the valid pixels that are not occluded
    noc = LoadFlowPair()(dict(KITTI2015Dataset(data_root=str(root), flow_type='flow_noc')[0]))
    np.testing.assert_array_equal(noc['gt_valid'] > 0, valid & ~pair['occlusion'])
    test = KITTI2015Dataset(data_root=str(root), split='testing')
    assert len(test) == 1 and test[0]['flow_path'] is None
    assert 'gt_flow' not in LoadFlowPair()(dict(test[0]))
    os.remove(root / 'training' / 'flow_occ' / '000001_10.png')
    with pytest.raises(FlowDatasetError, match='KITTI ground truth missing: .*000001_10.png'):
        KITTI2015Dataset(data_root=str(root))


def test_sintel_things_hd1k_layouts(tmp_path):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (8, 12, 3), dtype=np.uint8)
    flow = rng.normal(size=(8, 12, 2)).astype(np.float32)
    # Sintel: training/{clean,final}/{scene}/frame_%04d.png, training/flow/{scene}/*.flo
    s = tmp_path / 'sintel'
    for scene, n in (('alley_1', 3), ('bamboo_2', 2)):
        for k in range(1, n + 1):
            write_image_atomic(str(s / 'training' / 'clean' / scene / f'frame_{k:04d}.png'), img)
        for k in range(1, n):
            write_flo_atomic(str(s / 'training' / 'flow' / scene / f'frame_{k:04d}.flo'), flow)
    ds = SintelDataset(data_root=str(s), split='training', pass_name='clean')
    assert [d['out_name'] for d in ds] == ['clean/alley_1/frame0001', 'clean/alley_1/frame0002',
                                           'clean/bamboo_2/frame0001']
    assert ds[1]['img2_path'].endswith('alley_1/frame_0003.png')
    os.remove(s / 'training' / 'flow' / 'bamboo_2' / 'frame_0001.flo')
    with pytest.raises(FlowDatasetError, match='bamboo_2: 0 .flo files for 2 frames'):
        SintelDataset(data_root=str(s))
    # FlyingThings3D with PFM flow (third channel dropped), into_future / into_past
    t = tmp_path / 'things'
    for k in range(6, 9):
        write_image_atomic(str(t / 'frames_cleanpass/TRAIN/A/0000/left' / f'{k:04d}.png'), img)
        for d in ('into_future', 'into_past'):
            folder = t / 'optical_flow/TRAIN/A/0000' / d / 'left'
            folder.mkdir(parents=True, exist_ok=True)
            write_pfm(str(folder / f'OpticalFlow_{k:04d}_L.pfm'),
                      np.concatenate([flow + k, np.zeros((8, 12, 1), np.float32)], -1))
    things = FlyingThings3DDataset(data_root=str(t), pass_name='clean')
    assert len(things) == 4  # 2 per direction (RAFT: range(len(flows) - 1))
    fut, past = things[0], things[2]
    assert fut['img1_path'].endswith('0006.png') and fut['flow_path'].endswith('0006_L.pfm')
    assert past['img1_path'].endswith('0007.png') and past['img2_path'].endswith('0006.png')
    assert past['flow_path'].endswith('0007_L.pfm')
    np.testing.assert_allclose(LoadFlowPair()(dict(fut))['gt_flow'], flow + 6, atol=1e-6)
    # HD1K: hd1k_input/image_2/{seq:06d}_{k:04d}.png, hd1k_flow_gt/flow_occ/ KITTI PNGs
    h = tmp_path / 'hd1k'
    for k in range(3):
        write_image_atomic(str(h / 'hd1k_input/image_2' / f'000000_{k:04d}.png'), img)
        write_kitti_flow_png(str(h / 'hd1k_flow_gt/flow_occ' / f'000000_{k:04d}.png'), flow,
                             np.ones((8, 12)))
    hd = HD1KDataset(data_root=str(h))
    assert len(hd) == 2 and hd[0]['sparse'] and hd[1]['img2_path'].endswith('000000_0002.png')


def test_pfm_round_trip_and_errors(tmp_path):
    data = np.random.default_rng(1).normal(size=(5, 7, 3)).astype(np.float32)
    write_pfm(str(tmp_path / 'a.pfm'), data)
    np.testing.assert_array_equal(read_pfm(str(tmp_path / 'a.pfm')), data)
    # big-endian files (positive scale) read too; rows stored bottom-up
    with open(tmp_path / 'b.pfm', 'wb') as f:
        f.write(b'Pf\n2 2\n1.0\n' + np.array([[1, 2], [3, 4]], '>f4').tobytes())
    np.testing.assert_array_equal(read_pfm(str(tmp_path / 'b.pfm')), [[3, 4], [1, 2]])
    (tmp_path / 'c.pfm').write_bytes(b'P6\n1 1\n')
    with pytest.raises(FlowDatasetError, match='c.pfm: not a PFM file'):
        read_pfm(str(tmp_path / 'c.pfm'))
