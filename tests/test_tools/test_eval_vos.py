"""Tests of tools/analysis_tools/eval_vos.py (saved palette-PNG results vs
DAVIS-layout ground truth)."""
import csv
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from PIL import Image

from mmdropmae.datasets.vos import DAVISDataset, load_vos_mask, write_palette_mask
from mmdropmae.evaluation.metrics import VOSMetric
from tests.utils import load_script

eval_vos = load_script('tools/analysis_tools/eval_vos.py')


def _write_results(gt_root, out, year='2017', split='val', how='perfect', layout='davis'):
    """Write results for every frame: the ground truth ('perfect') or the
    first frame's mask everywhere ('copy_first')."""
    ds = DAVISDataset(str(gt_root), year=year, split=split)
    for seq in ds.sequences:
        first = load_vos_mask(seq['mask_paths'][0])
        for t, name in enumerate(seq['frame_names']):
            ids = load_vos_mask(seq['mask_paths'][t]) if how == 'perfect' else first
            folder = (out / seq['video_name'] if layout == 'davis' else
                      out / 'Annotations' / seq['video_name'])
            write_palette_mask(str(folder / f'{name}.png'), ids)
    return ds


def test_perfect_results(synthetic_davis_root, tmp_path, capsys):
    root, _ = synthetic_davis_root
    _write_results(root, tmp_path / 'perfect')
    assert eval_vos.main([str(root), str(tmp_path / 'perfect')]) == 0
    out = capsys.readouterr().out
    assert 'J&F-Mean' in out and 'val-000_3' in out and 'Per sequence' in out
    summary, records = eval_vos.evaluate_results(str(root), str(tmp_path / 'perfect'))
    for k in ('J&F-Mean', 'J-Mean', 'J-Recall', 'F-Mean', 'F-Recall'):
        assert summary[k] == pytest.approx(1.0)
    assert summary['J-Decay'] == pytest.approx(0.0)
    assert summary['num_objects'] == 5 and summary['num_sequences'] == 2


def test_copy_first_mask_baseline_and_csv(synthetic_davis_root, tmp_path, capsys):
    root, _ = synthetic_davis_root
    _write_results(root, tmp_path / 'perfect')
    # the baseline in the YouTube-VOS submission layout (Annotations/{seq})
    _write_results(root, tmp_path / 'copy', how='copy_first', layout='youtube')
    csv_path = tmp_path / 'out.csv'
    rc = eval_vos.main([str(root), str(tmp_path / 'perfect'), str(tmp_path / 'copy'), '--csv',
                        str(csv_path), '--quiet'])
    assert rc == 0
    assert 'Comparison' in capsys.readouterr().out
    summary, records = eval_vos.evaluate_results(str(root), str(tmp_path / 'copy'))
    assert summary['J&F-Mean'] < 0.9
    assert summary['J-Decay'] > 0  # it gets worse with time
    # the object entering mid-video is never predicted: J = 0 after it appears
    late = next(r for r in records if r['name'] == 'val-000_3')
    assert late['J-Mean'] == 0.0 and late['frames'][0] > 1
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    glob = {r['method']: r for r in rows if r['level'] == 'global'}
    assert float(glob[str(tmp_path / 'perfect')]['J&F-Mean']) == pytest.approx(1.0)
    assert float(glob[str(tmp_path / 'copy')]['J&F-Mean']) == pytest.approx(
        summary['J&F-Mean'], abs=1e-6)
    assert {r['level'] for r in rows} == {'global', 'sequence', 'object'}


def test_matches_vos_metric(synthetic_davis_root, tmp_path):
    """eval_vos on written PNGs == VOSMetric on the same predictions."""
    root, _ = synthetic_davis_root
    ds = _write_results(root, tmp_path / 'copy', how='copy_first')
    summary, _ = eval_vos.evaluate_results(str(root), str(tmp_path / 'copy'))
    metric = VOSMetric()
    frame_ds = DAVISDataset(str(root), split='val', test_mode=True)
    for i in range(len(frame_ds)):
        item = dict(frame_ds[i])
        item['pred_mask'] = load_vos_mask(ds.get_sequence(item['video_name'])['mask_paths'][0])
        metric.process({}, [item])
    res = metric.evaluate(len(frame_ds))
    for k in ('J&F-Mean', 'J-Mean', 'J-Recall', 'J-Decay', 'F-Mean', 'F-Recall', 'F-Decay'):
        assert res[f'vos/{k}'] == pytest.approx(summary[k])


def test_davis2016(synthetic_davis_root, tmp_path):
    root, _ = synthetic_davis_root
    _write_results(root, tmp_path / 'r', year='2016')  # multi-object ids: binarised
    summary, records = eval_vos.evaluate_results(str(root), str(tmp_path / 'r'), year='2016')
    assert summary['J&F-Mean'] == pytest.approx(1.0)
    assert [r['name'] for r in records] == ['val-001_1']


def test_errors(synthetic_davis_root, tmp_path, capsys):
    root, _ = synthetic_davis_root
    res = tmp_path / 'r'
    _write_results(root, res)
    # the first and the last frame are not needed
    os.remove(res / 'val-001' / '00000.png')
    os.remove(res / 'val-001' / '00007.png')
    assert eval_vos.main([str(root), str(res)]) == 0
    # a missing evaluated frame is named
    os.remove(res / 'val-001' / '00003.png')
    assert eval_vos.main([str(root), str(res)]) == 1
    err = capsys.readouterr().err
    assert 'missing result' in err and osp.join('val-001', '00003.png') in err
    # an RGB result
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(res / 'val-001' / '00003.png')
    assert eval_vos.main([str(root), str(res)]) == 1
    assert "mode 'RGB'" in capsys.readouterr().err
    # wrong size
    write_palette_mask(str(res / 'val-001' / '00003.png'), np.zeros((40, 64), np.uint8))
    with pytest.raises(ValueError, match=r'00003\.png is 64x40'):
        eval_vos.evaluate_results(str(root), str(res))
    # an object id the ground truth does not have
    write_palette_mask(str(res / 'val-001' / '00003.png'), np.full((48, 64), 9, np.uint8))
    with pytest.raises(ValueError, match=r'object id\(s\) \[9\]'):
        eval_vos.evaluate_results(str(root), str(res))
    # a missing results folder / ImageSet
    assert eval_vos.main([str(root), str(tmp_path / 'nothing')]) == 1
    assert 'nothing' in capsys.readouterr().err
    assert eval_vos.main([str(root), str(res), '--split', 'test-dev']) == 1
    assert 'test-dev.txt' in capsys.readouterr().err
    shutil.rmtree(res)
