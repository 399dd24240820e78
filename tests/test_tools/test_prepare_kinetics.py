"""tools/dataset_converters/prepare_kinetics.py: outputs, corrupt sources,
resume after an interrupted run, parallel == serial, the h264 form, and an
end-to-end pre-training run on the prepared form through tools/train.py."""
import hashlib
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmdropmae.datasets import (FrameFolderReader, VideoPairDataset, build_video_reader)
from mmdropmae.datasets.prepared_video import TMP_PREFIX, iter_exact_frames, psnr
from mmdropmae.datasets.synthetic import write_corrupt_video
from mmdropmae.utils import register_all_modules

register_all_modules()

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'dataset_converters' / 'prepare_kinetics.py'
sys.path.insert(0, str(TOOL.parent))
import prepare_kinetics as pk  # noqa: E402

#: JPEG quality 95, 4:4:4 on the synthetic clips (docs/video_preparation.md)
PSNR_MIN_DB = 39.0


def _quiet(line):
    pass


@pytest.fixture
def src(synthetic_video_root, tmp_path):
    """The synthetic videos plus a truncated and a garbage mp4."""
    root = tmp_path / 'src'
    shutil.copytree(synthetic_video_root, root)
    cls = sorted(p for p in root.iterdir() if p.is_dir())[1]
    write_corrupt_video(str(cls / 'broken_truncated.mp4'), 'truncated', seed=1)
    write_corrupt_video(str(cls / 'broken_garbage.mp4'), 'garbage', seed=2)
    return root


def _good_sources(root):
    ds = VideoPairDataset(data_root=str(root))
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    return [i for i in infos if 'broken' not in i['filename']]


def _snapshot(folder):
    """{relative path: (inode, mtime_ns, sha1)} of every file under folder."""
    out = {}
    for p in sorted(Path(folder).rglob('*')):
        if p.is_file():
            st = p.stat()
            out[str(p.relative_to(folder))] = (st.st_ino, st.st_mtime_ns,
                                               hashlib.sha1(p.read_bytes()).hexdigest())
    return out


def test_outputs_list_records_and_corrupt_sources(src, tmp_path):
    dst = tmp_path / 'dst'
    lines = []
    summary = pk.prepare_kinetics(str(src), str(dst), workers=1, measure_psnr=True,
                                  progress=False, log=lines.append)
    good = _good_sources(src)
    assert summary['num_sources'] == 8 and summary['num_prepared'] == 6
    assert summary['num_failed'] == 2 and not summary['frame_count_mismatch']
    # the file list: mmaction2's columns, the video data set's order and labels
    rows = [r.split('\t') for r in (dst / 'rawframes_list.txt').read_text().splitlines()]
    assert [r[0] for r in rows] == [osp.splitext(osp.relpath(g['filename'], src))[0]
                                    for g in good]
    assert [int(r[2]) for r in rows] == [g['label'] for g in good]
    hours = 0.0
    total = 0
    for (rel, n, _), g in zip(rows, good):
        with build_video_reader(g['filename'], 'pyav') as reader:
            assert int(n) == reader.num_frames == 24
        names = sorted(os.listdir(dst / rel))
        assert names == [f'img_{k:05d}.jpg' for k in range(1, 25)]
        record = json.loads((dst / (rel + '.json')).read_text())
        assert record['num_frames'] == record['reader_num_frames'] == 24
        assert record['quality'] == 95 and record['fps'] == pytest.approx(30.0)
        assert record['psnr_min'] >= PSNR_MIN_DB
        size = sum(osp.getsize(dst / rel / f) for f in names)
        assert record['bytes'] == size
        total += size
        hours += 24 / 30 / 3600
    # summary figures, computed independently
    assert summary['hours_of_video'] == pytest.approx(hours)
    assert summary['output_bytes_per_hour'] == pytest.approx(total / hours)
    assert summary['psnr_min_db'] >= PSNR_MIN_DB
    assert summary['cpu_s_per_hour'] > 0 and summary['wall_s_per_hour'] > 0
    # corrupt sources: logged with the reason and skipped
    failed = (dst / 'failed_sources.txt').read_text().splitlines()
    assert sorted(f.split('\t')[0].split(os.sep)[-1] for f in failed) == [
        'broken_garbage.mp4', 'broken_truncated.mp4']
    assert all('cannot open' in f.split('\t')[3] for f in failed)
    log = (dst / 'prepare_kinetics.log').read_text()
    assert log.count('skipped corrupt source') == 2 and 'broken_truncated.mp4' in log
    assert not list(dst.rglob('*broken*'))
    assert any('per hour of video' in line for line in lines)
    assert any(re.search(r'disk: .* per hour', line) for line in lines)
    assert json.loads((dst / 'prepare_summary.json').read_text())['num_prepared'] == 6
    assert not [p for p in dst.rglob('.tmp*')]


def test_resume_after_an_interrupted_run(src, tmp_path, monkeypatch):
    dst = tmp_path / 'dst'
    calls = {'n': 0}
    real = cv2.imencode

    def interrupted(*a, **k):  # Ctrl-C in the middle of the second video
        calls['n'] += 1
        if calls['n'] == 24 + 10:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(cv2, 'imencode', interrupted)
    with pytest.raises(KeyboardInterrupt):
        pk.prepare_kinetics(str(src), str(dst), workers=1, progress=False, log=_quiet)
    monkeypatch.setattr(cv2, 'imencode', real)
    good = _good_sources(src)
    rels = [osp.splitext(osp.relpath(g['filename'], src))[0] for g in good]
    assert (dst / (rels[0] + '.json')).is_file()
    assert not (dst / rels[1]).exists() and not (dst / (rels[1] + '.json')).exists()
    assert (dst / 'rawframes_list.txt').read_text().count('\n') == 1  # what is done
    assert 'INTERRUPTED' in (dst / 'prepare_kinetics.log').read_text()
    # what a killed run leaves: a temporary folder and a complete folder
    # renamed into place but without its record
    cls_dir = (dst / rels[0]).parent
    (cls_dir / f'{TMP_PREFIX}dead_{osp.basename(rels[1])}').mkdir()
    (cls_dir / f'{TMP_PREFIX}dead_{osp.basename(rels[1])}' / 'img_00001.jpg').write_bytes(b'x')
    (dst / rels[2]).mkdir(parents=True)
    (dst / rels[2] / 'img_00001.jpg').write_bytes(b'half')
    before = _snapshot(dst / rels[0])
    before_record = os.stat(dst / (rels[0] + '.json')).st_mtime_ns
    summary = pk.prepare_kinetics(str(src), str(dst), workers=1, progress=False, log=_quiet)
    assert summary['prepared_this_run'] == 5 and summary['num_prepared'] == 6
    assert summary['failed_this_run'] == 2  # the corrupt ones, tried once
    assert _snapshot(dst / rels[0]) == before  # finished video untouched
    assert os.stat(dst / (rels[0] + '.json')).st_mtime_ns == before_record
    assert not list(dst.rglob(f'{TMP_PREFIX}*'))
    for rel, g in zip(rels, good):
        frames = FrameFolderReader(str(dst / rel)).get_frames(list(range(24)))
        exact = list(iter_exact_frames(g['filename']))
        assert min(psnr(a, b) for a, b in zip(frames, exact)) >= PSNR_MIN_DB
    # a third run has nothing to do; unchanged failed sources are not retried
    third = pk.prepare_kinetics(str(src), str(dst), workers=1, progress=False, log=_quiet)
    assert third['prepared_this_run'] == 0 and third['failed_this_run'] == 0
    assert third['num_failed'] == 2
    retried = pk.prepare_kinetics(str(src), str(dst), workers=1, progress=False, log=_quiet,
                                  retry_failed=True)
    assert retried['failed_this_run'] == 2
    # a changed source (new mtime) is prepared again
    os.utime(good[3]['filename'], ns=(1, 1))
    again = pk.prepare_kinetics(str(src), str(dst), workers=1, progress=False, log=_quiet)
    assert again['prepared_this_run'] == 1


def test_one_run_at_a_time(src, tmp_path):
    fcntl = pytest.importorskip('fcntl')
    dst = tmp_path / 'dst'
    dst.mkdir()
    fd = os.open(dst / pk.LOCK_NAME, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(RuntimeError, match='another prepare_kinetics run'):
            pk.prepare_kinetics(str(src), str(dst), workers=1, progress=False, log=_quiet)
    finally:
        os.close(fd)


def test_cli_parallel_equals_serial(src, tmp_path):
    serial = tmp_path / 'serial'
    pk.prepare_kinetics(str(src), str(serial), workers=1, progress=False, log=_quiet)
    par = tmp_path / 'parallel'
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    res = subprocess.run([sys.executable, str(TOOL), str(src), str(par), '--workers', '2'],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert '8/8' in res.stdout  # mmengine's progress bar (6 videos + 2 corrupt)
    assert 'per hour of video' in res.stdout and 'skipped corrupt source' in res.stdout

    def content(root):
        return {k: v[2] for k, v in _snapshot(root).items()
                if k.endswith('.jpg') or k.endswith('_list.txt')}

    assert content(par) == content(serial) and len(content(par)) == 6 * 24 + 1
    res = subprocess.run([sys.executable, str(TOOL), str(tmp_path / 'nope'), str(par)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 2 and 'nope' in res.stderr


def test_h264_all_intra_form(synthetic_video_root, tmp_path):
    import av
    dst = tmp_path / 'intra'
    summary = pk.prepare_kinetics(str(synthetic_video_root), str(dst), fmt='h264', gop=1,
                                  workers=1, measure_psnr=True, progress=False, log=_quiet)
    # crf 18 on these tiny, heavily textured clips: ~33 dB (docs/video_preparation.md)
    assert summary['num_prepared'] == 6 and summary['psnr_min_db'] >= 30
    rec = summary['records'][0]  # the recorded PSNR, recomputed independently
    with build_video_reader(rec['out'], 'pyav') as r, build_video_reader(rec['src'],
                                                                         'pyav') as s:
        p = [psnr(a, b) for a, b in zip(r.get_frames(list(range(24))),
                                        s.get_frames(list(range(24))))]
    assert min(p) == pytest.approx(rec['psnr_min']) and np.mean(p) == pytest.approx(
        rec['psnr_mean'])
    ds = VideoPairDataset(ann_file=str(dst / 'videos_list.txt'),
                          data_prefix=dict(video=str(dst)))
    ds_src = VideoPairDataset(data_root=str(synthetic_video_root))
    assert len(ds) == 6
    for i in range(6):
        out, ref = ds.get_data_info(i), ds_src.get_data_info(i)
        assert out['label'] == ref['label'] and out['total_frames'] == 24
        with av.open(out['filename']) as c:
            keys = [p.is_keyframe for p in c.demux(video=0) if p.size]
        assert len(keys) == 24 and all(keys)  # all-intra
        with build_video_reader(out['filename'], 'pyav') as r:
            assert r.num_frames == 24 and r.frame_shape == (96, 128)


def _tiny_prepared_config(tmp_path, root):
    cfg = tmp_path / 'tiny_prepared.py'
    tiny = REPO / 'configs' / 'dropmae' / 'pretrain_tiny_synthetic.py'
    cfg.write_text(
        f"_base_ = [{str(tiny)!r}]\n"
        "train_pipeline = [\n"
        "    dict(type='LoadFramePairFromFrames', frame_gap=step['frame_gap'])\n"
        "    if step['type'] == 'LoadFramePairFromVideo' else step\n"
        "    for step in _base_.train_dataloader.dataset.pipeline]\n"
        "train_dataloader = dict(dataset=dict(type='RawframePairDataset', "
        f"data_root={str(root)!r}, ann_file='rawframes_list.txt', pipeline=train_pipeline))\n")
    return cfg


def _losses(work_dir):
    logs = sorted(Path(work_dir).glob('*/vis_data/scalars.json'))
    rows = [json.loads(line) for f in logs for line in f.read_text().splitlines() if line]
    return [r['loss'] for r in rows if 'loss' in r]


@pytest.mark.slow
def test_pretraining_on_the_prepared_form_end_to_end(synthetic_video_root, tmp_path):
    """Convert with the CLI, then pre-train the tiny DropMAE on the prepared
    form and, as the control, on the source videos, with the same seed:
    same sampled pairs, so the losses agree up to the JPEG loss, and the loss
    goes down."""
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    dst = tmp_path / 'prepared'
    res = subprocess.run([sys.executable, str(TOOL), str(synthetic_video_root), str(dst),
                          '--workers', '2'], capture_output=True, text=True, env=env,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    opts = ['--cfg-options', 'randomness.seed=0', 'train_dataloader.batch_size=3',
            'train_dataloader.num_workers=1', 'train_cfg.max_epochs=12',
            'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=12',
            'custom_hooks.0.interval=1000']
    runs = {}
    for name, config, extra in [
            ('prepared', _tiny_prepared_config(tmp_path, dst), []),
            ('video', REPO / 'configs' / 'dropmae' / 'pretrain_tiny_synthetic.py',
             [f'train_dataloader.dataset.data_root={synthetic_video_root}'])]:
        work = tmp_path / f'work_{name}'
        res = subprocess.run([sys.executable, str(REPO / 'tools' / 'train.py'), str(config),
                              '--work-dir', str(work)] + opts + extra, capture_output=True,
                             text=True, env=env, timeout=400, cwd=tmp_path)
        assert res.returncode == 0, res.stderr[-4000:]
        runs[name] = _losses(work)
        assert (work / 'epoch_12.pth').is_file()
    p, v = np.array(runs['prepared']), np.array(runs['video'])
    assert len(p) == len(v) == 24 and np.isfinite(p).all()
    rel = np.abs(p - v) / v  # the same pairs, crops, masks: only the JPEG loss differs
    assert rel.max() < 0.005, f'losses prepared {p} vs video {v}'
    first, last = p[:4].mean(), p[-4:].mean()
    assert last < 0.93 * first, f'loss on the prepared form {first:.4f} -> {last:.4f}'


def test_benchmark_shows_every_loader_on_a_video_dir(synthetic_video_root):
    """``video_loading.py --video-dir``: decord, exact PyAV, fast decode and
    the prepared forms side by side, with the same samples."""
    bench = REPO / 'tools' / 'benchmarks' / 'video_loading.py'
    res = subprocess.run(
        [sys.executable, str(bench), '--video-dir', str(synthetic_video_root), '--pairs', '12',
         '--rounds', '1', '--crop-size', '32', '--prepared', 'jpg,h264:gop1', '--check',
         '--prepared-target', '0.01'],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert res.returncode == 0, res.stdout + res.stderr[-3000:]
    rows = {line.split('  ')[0]: line for line in res.stdout.splitlines()
            if re.match(r'(reference|ours|prepared) \(', line)}
    ref = [r for r in rows if r.startswith('reference (decord')]
    assert len(ref) == 1 and set(rows) - set(ref) == {
        'ours (pyav)', 'ours (pyav:skip_loop_filter)', 'prepared (jpg)',
        'prepared (h264:gop1)'}, rows
    assert rows['ours (pyav)'].rstrip().endswith('yes / yes')
    assert all(' yes / ' in r for r in rows.values())  # the same sampled pairs everywhere
    assert re.search(r'\n  jpg +\d+ +[\d.]+ +[\d.]+ +[\d.]+ / [\d.]+', res.stdout)
    assert 'check: prepared (jpg)' in res.stdout and ': ok' in res.stdout
