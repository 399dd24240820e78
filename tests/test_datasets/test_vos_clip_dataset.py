"""VOS training clips and the sequence-level test pipeline."""
import numpy as np
import torch

from mmdropmae.datasets import VOSClipDataset
from mmdropmae.datasets.transforms.vos_transforms import (LoadVOSSequence, PackVOSSequence,
                                                          VOSClipRandomFlip)


def _dataset(root, **kw):
    pipeline = [
        dict(type='LoadVOSClip'),
        dict(type='VOSClipRandomResizedCrop', size=(32, 48), scale=(0.5, 1.0)),
        dict(type='VOSClipRandomFlip', prob=0.5),
        dict(type='VOSClipColorJitter'),
        dict(type='PackVOSClip'),
    ]
    cfg = dict(datasets=[dict(type='DAVISDataset', data_root=str(root), split='train',
                              serialize_data=False)],
               samples_per_epoch=6, num_frames=3, max_skip=2, max_objects=2,
               pipeline=pipeline)
    cfg.update(kw)
    return VOSClipDataset(**cfg)


def test_clip_sampling_and_packing(synthetic_davis_root):
    root, _ = synthetic_davis_root
    np.random.seed(0)
    ds = _dataset(root)
    assert len(ds) == 6
    for i in range(6):
        info = ds.get_data_info(i)
        f = sorted(info['frame_ids'])
        assert len(set(f)) == 3 and f[1] - f[0] <= 2 and f[2] - f[1] <= 2
        assert 1 <= len(info['object_ids']) <= 2
        item = ds[i]
        imgs, masks = item['inputs']['imgs'], item['inputs']['masks']
        assert imgs.shape == (3, 3, 32, 48) and imgs.dtype == torch.uint8
        assert masks.shape == (3, 32, 48)
        k = item['data_samples'].num_objects
        assert int(masks.max()) <= k  # chosen objects remapped to 1..K


def test_flip_is_consistent_per_clip():
    imgs = [np.random.randint(0, 255, (4, 6, 3), np.uint8) for _ in range(3)]
    masks = [np.tile(np.arange(6, dtype=np.uint8), (4, 1)) for _ in range(3)]
    out = VOSClipRandomFlip(prob=1.0).transform(dict(imgs=list(imgs), gt_masks=list(masks)))
    for a, b, m in zip(out['imgs'], imgs, out['gt_masks']):
        assert (a == b[:, ::-1]).all() and (m[0] == np.arange(6)[::-1]).all()


def test_sequence_pipeline_init_masks(synthetic_davis_root):
    from mmdropmae.datasets.vos import DAVISDataset
    root, _ = synthetic_davis_root
    ds = DAVISDataset(data_root=str(root), split='val', mode='sequence', serialize_data=False)
    seq = ds.get_sequence('val-000')
    res = PackVOSSequence().transform(LoadVOSSequence().transform(dict(seq)))
    meta = res['data_samples'].metainfo
    assert res['inputs']['frames'].shape == (seq['num_frames'], 3, seq['height'], seq['width'])
    assert set(meta['init_masks']) == set(seq['first_frames'].values())
    for t, m in meta['init_masks'].items():
        ids = set(np.unique(m)) - {0}
        assert ids == {o for o, f in seq['first_frames'].items() if f == t}
