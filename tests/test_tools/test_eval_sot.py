"""tools/analysis_tools/eval_sot.py on synthetic GOT-10k / LaSOT folders and
hand-written TNL2K / LaSOT annotations: perfect and shifted result folders with
known scores, the OPE rules of OSTrack / pytracking ``extract_results.py``
(the same as ``OPEMetric``), plots, clear errors."""
import json
import os
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
    # OPE, GOT-10k preset (pytracking / OSTrack rules): every frame in the
    # denominator; absence / cover labels ignored, only the box counts: the
    # out-of-view frames (NaN box -> 0) are invalid (IoU -1, error inf,
    # normalised error -1), the fully occluded ones (cover 0, last box kept)
    # are scored. B = frames with a valid box, N = all frames.
    n = np.array([q['num_frames'] for q in seqs])
    valid = [(q['gt_bboxes'][:, 2] > 0) & (q['gt_bboxes'][:, 3] > 0) for q in seqs]
    b = np.array([v.sum() for v in valid])
    assert (b < n).any()  # val 5 leaves the frame
    assert any((~q['visible'] & v).any() for q, v in zip(seqs, valid))  # val 2: occluded
    # perfect: IoU 1 (not > 1.0) on B frames, error 0
    assert p['auc'] == pytest.approx(np.mean(20 / 21 * b / n))
    assert p['precision'] == pytest.approx(np.mean(b / n)) and p['norm_precision'] == 1.0
    # shifted: every scored frame has IoU exactly 1/3
    assert s['ao'] == pytest.approx(1 / 3) and s['sr50'] == 0.0 and s['sr75'] == 0.0
    # OPE: frame 0 = gt (IoU 1: 20 thresholds), B - 1 frames at 1/3 (7 thresholds)
    prec = [(1 + (q['gt_bboxes'][1:, 2][v[1:]] / 2 <= 20).sum()) / len(v)
            for q, v in zip(seqs, valid)]
    assert s['auc'] == pytest.approx(np.mean((7 * b + 13) / (21 * n)))
    assert s['precision'] == pytest.approx(np.mean(prec))
    # normalised error: frame 0 (0) and the invalid frames (-1) pass, 0.5 fails
    assert s['norm_precision'] == pytest.approx(np.mean((1 + n - b) / n))
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


@pytest.mark.slow
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


G = [0, 0, 10, 10]
# per frame vs G: IoU / centre error / normalised error (see test_sot_metrics.py)
# (0,0,10,5): 0.5 / 2.5 / 0.25; (5,0,10,10): 1/3 / 5 / 0.5; (20,0,10,10): 0 / 20 / 2
HAND_GT = [G, G, G, [0, 0, 0, 0], G]
HAND_PRED = [[50, 50, 10, 10], [0, 0, 10, 5], [5, 0, 10, 10], [5, 0, 10, 10], [20, 0, 10, 10]]


def _write_rows(path, rows):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.writelines(','.join(str(v) for v in r) + '\n' for r in rows)


def _ope_metric(dataset, seq, **kwargs):
    """OPEMetric on the dataset's own test-mode frames and the predictions."""
    from mmdropmae.evaluation.metrics import OPEMetric
    m = OPEMetric(dataset=dataset, **kwargs)
    for f in range(seq['num_frames']):
        box = np.asarray(HAND_PRED[f], float)
        m.process({}, [dict(video_id=0, video_name=seq['video_name'], frame_id=f,
                            video_length=seq['num_frames'],
                            pred_bbox=np.r_[box[:2], box[:2] + box[2:]],
                            gt_bbox=np.r_[seq['gt_bboxes'][f, :2],
                                          seq['gt_bboxes'][f, :2] + seq['gt_bboxes'][f, 2:]],
                            visible=bool(seq['visible'][f]))])
    return m.evaluate(seq['num_frames'])


def test_tnl2k_zero_size_boxes_by_hand(tmp_path):
    """TNL2K layout (annotations only): frame 3 is an absent target written as
    0,0,0,0. Every frame counts: frame 3 has IoU -1, error inf, normalised -1."""
    from mmdropmae.datasets.sot import TNL2KDataset
    root = tmp_path / 'tnl2k'
    _write_rows(str(root / 'seq_a' / 'groundtruth.txt'), HAND_GT)
    _write_rows(str(tmp_path / 'res' / 'seq_a.txt'), HAND_PRED)
    args = [str(root), '--dataset', 'tnl2k', '--results', str(tmp_path / 'res'),
            '--out-dir', str(tmp_path / 'o')]
    r = eval_sot.main(args)['res']
    # IoUs 1, 0.5, 1/3, -1, 0 -> success passes 20 + 10 + 7 = 37 of 21 * 5
    # P@20: errors 0, 2.5, 5, 20 pass, inf fails -> 4/5; NP@0.2: 0 and -1 -> 2/5
    assert (r['auc'], r['precision'], r['norm_precision']) == pytest.approx(
        (37 / 105, 4 / 5, 2 / 5))  # old: 37/84, 1, 1/4 (frame 3 dropped)
    # the cleaner variant: frame 3 out of numerators and denominator
    x = eval_sot.main(args + ['--absent', 'exclude'])['res']
    assert (x['auc'], x['precision'], x['norm_precision']) == pytest.approx(
        (37 / 84, 1.0, 1 / 4))
    # OPEMetric on the dataset's frames: the same rules
    seq = TNL2KDataset(data_root=str(root), check_frames=False).get_sequence(0)
    m = _ope_metric('tnl2k', seq)
    assert (m['auc'], m['precision'], m['norm_precision']) == pytest.approx(
        (r['auc'], r['precision'], r['norm_precision']))
    summary = json.load(open(tmp_path / 'o' / 'metrics.json'))
    assert summary['results']['res']['rules']['absent'] == 'exclude'


def test_lasot_labels_vs_zero_size_box_by_hand(tmp_path):
    """LaSOT layout: frame 2 fully occluded (positive box), frame 3 a 0-size
    box that the labels call visible. pytracking's LaSOT rule makes the
    normalised error inf only where the labels say invisible (frame 2); frame
    3 keeps -1 (a pass). eval_sot reads the labels themselves."""
    from mmdropmae.datasets.sot import LaSOTDataset
    seq_dir = tmp_path / 'lasot' / 'cat' / 'cat-1'
    _write_rows(str(seq_dir / 'groundtruth.txt'), HAND_GT)
    _write_rows(str(seq_dir / 'full_occlusion.txt'), [[0, 0, 1, 0, 0]])
    _write_rows(str(seq_dir / 'out_of_view.txt'), [[0, 0, 0, 0, 0]])
    _write_rows(str(tmp_path / 'res' / 'cat-1.txt'), HAND_PRED)
    args = [str(tmp_path / 'lasot'), '--results', str(tmp_path / 'res'), '--out-dir',
            str(tmp_path / 'o'), '--dataset']
    r = eval_sot.main(args + ['lasot'])['res']
    # frames 0, 1 pass 20 + 10 thresholds of 21 * 5; P@20 frames 0, 1, 4;
    # NP@0.2: frame 0 (0) and frame 3 (-1) -> 2/5
    assert (r['auc'], r['precision'], r['norm_precision']) == pytest.approx(
        (30 / 105, 3 / 5, 2 / 5))  # old: NP 1/5
    # LaSOT_ext (tag 'lasot_extension_subset'): no LaSOT rule, frame 2 passes too
    e = eval_sot.main(args + ['lasot_ext'])['res']
    assert e['norm_precision'] == pytest.approx(3 / 5)  # old: 1/5
    # OPEMetric gets the dataset's `visible` (labels and box): without a
    # `target_visible` field frame 3 counts as label-invisible on LaSOT
    seq = LaSOTDataset(data_root=str(tmp_path / 'lasot'), check_frames=False).get_sequence(0)
    m = _ope_metric('lasot', seq)
    assert (m['auc'], m['precision'], m['norm_precision']) == pytest.approx(
        (30 / 105, 3 / 5, 1 / 5))
    assert _ope_metric('lasot_ext', seq)['norm_precision'] == pytest.approx(3 / 5)


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
