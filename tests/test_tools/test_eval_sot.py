"""tools/analysis_tools/eval_sot.py on synthetic GOT-10k / LaSOT folders:
perfect and shifted result folders with known scores, plots, clear errors."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from mmdropmae.datasets.sot import GOT10kDataset, LaSOTDataset
from mmdropmae.evaluation.functional.sot_results import write_sot_result
from tests.utils import load_script

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'eval_sot.py')


eval_sot = load_script('tools/analysis_tools/eval_sot.py')


def _fill_absent(boxes, visible):
    """Absent frames get the previous visible box (a tracker's typical output)."""
    out = boxes.astype(np.float64).copy()
    for t in range(1, len(out)):
        if not visible[t]:
            out[t] = out[t - 1]
    return out


def _shift(boxes, width):
    """Shift every box by half its width (right, or left near the right border):
    IoU with the original is exactly 1/3, centre error w/2, and the box stays
    inside the image (no GOT-10k clipping)."""
    out = boxes.astype(np.float64).copy()
    right = out[:, 0] + 1.5 * out[:, 2] <= width
    out[:, 0] += np.where(right, 0.5, -0.5) * out[:, 2]
    return out


def _write_folder(ds, folder, layout, transform=None):
    seqs = []
    for i in range(ds.num_videos):
        s = ds.get_sequence(i)
        boxes = _fill_absent(s['gt_bboxes'], s['visible'])
        if transform is not None:
            boxes = transform(boxes)
        write_sot_result(str(folder), s['video_name'], boxes, layout)
        seqs.append(s)
    return seqs


def test_got10k_perfect_and_shifted(synthetic_got10k_root, tmp_path):
    ds = GOT10kDataset(data_root=str(synthetic_got10k_root), split='val')
    seqs = _write_folder(ds, tmp_path / 'perfect', 'got10k')
    _write_folder(ds, tmp_path / 'shifted', 'got10k', lambda b: _shift(b, 128))
    out = tmp_path / 'plots'
    res = eval_sot.main([str(synthetic_got10k_root), '--dataset', 'got10k', '--results',
                         str(tmp_path / 'perfect'), str(tmp_path / 'shifted'),
                         '--labels', 'perfect', 'shifted', '--out-dir', str(out)])
    p, s = res['perfect'], res['shifted']
    assert p['ao'] == pytest.approx(1.0) and p['sr50'] == 1.0 and p['sr75'] == 1.0
    assert p['auc'] == pytest.approx(20 / 21)  # IoU 1 is not > 1.0 (toolkit convention)
    assert p['precision'] == 1.0 and p['norm_precision'] == 1.0
    # shifted: every scored frame has IoU exactly 1/3
    assert s['ao'] == pytest.approx(1 / 3) and s['sr50'] == 0.0 and s['sr75'] == 0.0
    # OPE (absent frames excluded): frame 0 = gt (IoU 1), V - 1 frames at 1/3
    auc, prec = [], []
    for q in seqs:
        v = q['visible'].sum()
        auc.append((7 + 13 / v) / 21)
        half_w = q['gt_bboxes'][1:, 2][q['visible'][1:]] / 2
        prec.append((1 + (half_w <= 20).sum()) / v)
    assert s['auc'] == pytest.approx(np.mean(auc))
    assert s['precision'] == pytest.approx(np.mean(prec))
    assert s['norm_precision'] == pytest.approx(np.mean([1 / q['visible'].sum() for q in seqs]))
    # plots decode, metrics.json holds both folders
    for name in ('success_plot.png', 'precision_plot.png'):
        img = cv2.imread(str(out / name))
        assert img is not None and img.shape[0] > 100 and img.shape[1] > 100
    summary = json.load(open(out / 'metrics.json'))
    assert set(summary['results']) == {'perfect', 'shifted'}
    assert len(summary['results']['perfect']['curves']['success']) == 101
    # the split folder itself is accepted as GT_ROOT
    res2 = eval_sot.main([str(synthetic_got10k_root / 'val'), '--dataset', 'got10k',
                          '--results', str(tmp_path / 'perfect'), '--out-dir', str(out)])
    assert res2['perfect']['ao'] == pytest.approx(1.0)


def test_lasot_perfect_and_shifted_cli(synthetic_lasot_root, tmp_path):
    ds = LaSOTDataset(data_root=str(synthetic_lasot_root))
    seqs = _write_folder(ds, tmp_path / 'perfect', 'lasot')
    _write_folder(ds, tmp_path / 'shifted', 'lasot', lambda b: _shift(b, 128))
    res = eval_sot.main([str(synthetic_lasot_root), '--dataset', 'lasot', '--results',
                         str(tmp_path / 'perfect'), str(tmp_path / 'shifted'),
                         '--out-dir', str(tmp_path / 'plots')])
    frac = np.array([q['visible'].mean() for q in seqs])  # absent frames fail (LaSOT)
    assert res['perfect']['auc'] == pytest.approx(np.mean(20 / 21 * frac))
    assert res['perfect']['precision'] == pytest.approx(frac.mean())
    assert frac.min() < 1  # airplane-1 leaves the frame
    n = np.array([q['num_frames'] for q in seqs])
    v = np.array([q['visible'].sum() for q in seqs])
    assert res['shifted']['auc'] == pytest.approx(np.mean((7 * v + 13) / (21 * n)))
    assert res['shifted']['norm_precision'] == pytest.approx(np.mean(1 / n))
    # the real command line, on the test split file
    proc = subprocess.run([sys.executable, TOOL, str(synthetic_lasot_root), '--dataset', 'lasot',
                           '--ann-file', 'testing_set.txt', '--results',
                           str(tmp_path / 'perfect'), '--out-dir', str(tmp_path / 'cli')],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'LaSOT: 2 sequences' in proc.stdout and 'NP@0.2' in proc.stdout
    assert osp.isfile(tmp_path / 'cli' / 'success_plot.png')


def test_missing_and_short_result_files(synthetic_lasot_root, tmp_path):
    ds = LaSOTDataset(data_root=str(synthetic_lasot_root))
    _write_folder(ds, tmp_path / 'res', 'lasot')
    (tmp_path / 'res' / 'bird-1.txt').unlink()
    args = [str(synthetic_lasot_root), '--dataset', 'lasot', '--results', str(tmp_path / 'res'),
            '--out-dir', str(tmp_path / 'o')]
    with pytest.raises(SystemExit, match=r"result file not found for sequence 'bird-1'.*"
                       r'bird-1\.txt'):
        eval_sot.main(args)
    with open(tmp_path / 'res' / 'bird-1.txt', 'w') as f:
        f.write('1,2,3,4\n' * 5)
    with pytest.raises(SystemExit, match=r'bird-1\.txt: 5 boxes for 20 frames \(result file too '
                       r'short\)'):
        eval_sot.main(args)
    with pytest.raises(SystemExit, match='result folder not found'):
        eval_sot.main(args[:4] + [str(tmp_path / 'nope')] + args[5:])
    with pytest.raises(SystemExit, match='1 --labels for 2'):
        eval_sot.main(args[:5] + [str(tmp_path / 'res'), '--labels', 'a'])


def test_test_split_is_refused(synthetic_got10k_root, tmp_path):
    (tmp_path / 'r').mkdir()
    with pytest.raises(SystemExit, match='withheld'):
        eval_sot.main([str(synthetic_got10k_root), '--dataset', 'got10k', '--split', 'test',
                       '--results', str(tmp_path / 'r'), '--out-dir', str(tmp_path / 'o')])
