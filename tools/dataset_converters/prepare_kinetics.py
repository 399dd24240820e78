"""Prepare a video data set for fast frame-pair loading: decode every video
once into its prepared form.

``SRC`` is a folder of videos in the Kinetics layout (``SRC/{class}/{video}``,
loose videos allowed, as read by ``VideoPairDataset``). ``DST`` gets:

- ``--format jpg`` (default): mmaction2 rawframes, ``DST/{class}/{video}/
  img_00001.jpg ...`` (OpenCV JPEG at quality 95 like mmaction2's
  ``tools/data/build_rawframes.py``, but 4:4:4 by default, ``--subsampling
  420`` for mmaction2's smaller, lossier default), and the file list
  ``DST/rawframes_list.txt`` (``frame_dir<TAB>total_frames<TAB>label``,
  mmaction2's column order) that ``RawframePairDataset`` reads
  (``configs/dropmae/pretrain_k400_prepared.py``);
- ``--format h264``: re-encodes at the original resolution with a keyframe
  every ``--gop`` frames (1 = all-intra), ``DST/{class}/{video}.mp4`` and
  ``DST/videos_list.txt`` (``path<TAB>label<TAB>num_frames``) for
  ``VideoPairDataset``;
- ``DST/{output}.json`` per video: its record (frame counts, size, fps,
  duration, bytes, CPU seconds, PSNR with ``--psnr``); it is written last, so
  it marks the video as done;
- ``DST/failed_sources.txt`` (``source<TAB>bytes<TAB>mtime_ns<TAB>reason``)
  and ``DST/prepare_kinetics.log`` (every run's failures and summary), and
  ``DST/prepare_summary.json``.

Each video is written to a temporary name in its destination folder and
renamed when complete, so an interrupted run (Ctrl-C, a killed job) leaves
no partial output under a final name; running the same command again skips
finished videos (and sources that failed before, unless they changed or
``--retry-failed``) and removes the leftovers. One run at a time per ``DST``
(a lock file enforces it). Frame ``i`` of the output is the ``i``-th frame of
a sequential FFmpeg decode of the source (see
``mmdropmae.datasets.prepared_video.iter_exact_frames``); the summary reports
preparation time and disk size per hour of video, and with ``--psnr`` the
PSNR of what was written against those exact frames.

Examples::

    python tools/dataset_converters/prepare_kinetics.py \\
        data/kinetics400/train data/kinetics400/train_rawframes --workers 16
    # the same command again resumes; measure the JPEG loss too:
    python tools/dataset_converters/prepare_kinetics.py SRC DST --psnr
    # the all-intra H.264 alternative
    python tools/dataset_converters/prepare_kinetics.py SRC DST_intra --format h264 --gop 1
"""
import argparse
import errno
import json
import multiprocessing as mp
import os
import os.path as osp
import shutil
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmengine.utils import ProgressBar  # noqa: E402

from mmdropmae.datasets import VideoPairDataset  # noqa: E402
from mmdropmae.datasets.prepared_video import (DEFAULT_FILENAME_TMPL,  # noqa: E402
                                               DEFAULT_JPEG_QUALITY,
                                               DEFAULT_JPEG_SUBSAMPLING, PREPARED_FORMATS,
                                               TMP_PREFIX, run_prepare_job)
from mmdropmae.utils.fileio import atomic_open, atomic_write_text  # noqa: E402

LIST_NAMES = dict(jpg='rawframes_list.txt', h264='videos_list.txt')
FAILED_NAME = 'failed_sources.txt'
LOG_NAME = 'prepare_kinetics.log'
SUMMARY_NAME = 'prepare_summary.json'
LOCK_NAME = '.prepare_kinetics.lock'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='folder of source videos (Kinetics layout)')
    parser.add_argument('dst', help='output folder (created)')
    parser.add_argument('--format', choices=PREPARED_FORMATS, default='jpg',
                        help='jpg: rawframes (default, see docs/video_preparation.md); '
                        'h264: re-encoded videos')
    parser.add_argument('--workers', type=int, default=max(1, (os.cpu_count() or 2) // 2),
                        help='parallel processes (one core each)')
    parser.add_argument('--quality', type=int, default=DEFAULT_JPEG_QUALITY,
                        help='JPEG quality (jpg)')
    parser.add_argument('--subsampling', choices=('444', '420'), default=DEFAULT_JPEG_SUBSAMPLING,
                        help='JPEG chroma subsampling (jpg): 444 = none (default), 420 = '
                        'OpenCV\'s and mmaction2\'s default (smaller, lower PSNR)')
    parser.add_argument('--gop', type=int, default=1, help='keyframe interval (h264)')
    parser.add_argument('--crf', type=int, default=18, help='x264 CRF (h264)')
    parser.add_argument('--preset', default='medium', help='x264 preset (h264)')
    parser.add_argument('--psnr', action='store_true',
                        help='also measure the PSNR of the output against the exact frames')
    parser.add_argument('--retry-failed', action='store_true',
                        help='retry sources that failed in an earlier run although unchanged')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def list_sources(src: str) -> List[Tuple[str, str, int]]:
    """``(absolute path, path relative to src, label)`` of every video, in
    ``VideoPairDataset``'s order."""
    ds = VideoPairDataset(data_root=src, serialize_data=False)
    root = osp.abspath(src)
    out = []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        out.append((info['filename'], osp.relpath(info['filename'], root), info['label']))
    return out


def output_of(rel: str, fmt: str) -> str:
    """Output path (relative to DST) of the source ``rel``."""
    stem = osp.splitext(rel)[0]
    return stem if fmt == 'jpg' else stem + '.mp4'


def _settings(fmt: str, quality: int, subsampling: str, gop: int, crf: int,
              preset: str) -> Dict:
    if fmt == 'jpg':
        return dict(format='jpg', quality=quality, subsampling=subsampling,
                    filename_tmpl=DEFAULT_FILENAME_TMPL)
    return dict(format='h264', gop=gop, crf=crf, preset=preset)


def _read_record(path: str) -> Optional[Dict]:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _is_done(record: Optional[Dict], src: str, out: str, settings: Dict) -> bool:
    if record is None or not osp.exists(out):
        return False
    st = os.stat(src)
    return (record.get('source_bytes') == st.st_size
            and record.get('source_mtime_ns') == st.st_mtime_ns
            and all(record.get(k) == v for k, v in settings.items()))


def remove_leftovers(dst: str) -> int:
    """Remove the temporary outputs of interrupted runs: ``{TMP_PREFIX}*``
    folders/files and ``.tmp_*`` files of atomic writes, in ``dst`` and its
    class folders (outputs live at most two levels deep; frame folders are
    not descended into)."""
    n = 0
    folders = [dst]
    with os.scandir(dst) as it:
        folders += [e.path for e in it if e.is_dir() and not e.name.startswith('.')]
    for folder in folders:
        with os.scandir(folder) as it:
            stale = [e for e in it if e.name.startswith(TMP_PREFIX)
                     or (e.name.startswith('.tmp_') and e.is_file())]
        for e in stale:
            if e.is_dir(follow_symlinks=False):
                shutil.rmtree(e.path, ignore_errors=True)
            else:
                os.remove(e.path)
            n += 1
    return n


def _read_failed(dst: str) -> Dict[str, Tuple[int, int, str]]:
    out = {}
    path = osp.join(dst, FAILED_NAME)
    if not osp.isfile(path):
        return out
    with open(path) as f:
        for line in f:
            parts = line.rstrip('\n').split('\t')
            if len(parts) >= 4 and parts[1].isdigit() and parts[2].isdigit():
                out[parts[0]] = (int(parts[1]), int(parts[2]), parts[3])
    return out


class _Lock:
    """Exclusive lock on ``DST/.prepare_kinetics.lock`` (POSIX ``flock``)."""

    def __init__(self, dst: str) -> None:
        self.path = osp.join(dst, LOCK_NAME)
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return self
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(self.fd)
            if e.errno in (errno.EAGAIN, errno.EACCES):
                raise RuntimeError(f'another prepare_kinetics run is using "{self.path}"; '
                                   'wait for it or stop it') from e
            raise
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


def _fmt_bytes(n: float) -> str:
    for unit in ('B', 'KB', 'MB', 'GB', 'TB'):
        if abs(n) < 1000 or unit == 'TB':
            return f'{n:.1f} {unit}' if unit != 'B' else f'{int(n)} B'
        n /= 1000.0
    return f'{n:.1f} TB'


def prepare_kinetics(src: str,
                     dst: str,
                     fmt: str = 'jpg',
                     workers: int = 1,
                     quality: int = DEFAULT_JPEG_QUALITY,
                     subsampling: str = DEFAULT_JPEG_SUBSAMPLING,
                     gop: int = 1,
                     crf: int = 18,
                     preset: str = 'medium',
                     measure_psnr: bool = False,
                     retry_failed: bool = False,
                     progress: bool = True,
                     log: Callable[[str], None] = print) -> Dict:
    """Prepare every video of ``src`` into ``dst`` (see the module docstring).

    Args:
        src (str): Folder of source videos.
        dst (str): Output folder.
        fmt (str): ``'jpg'`` or ``'h264'``.
        workers (int): Parallel processes; 1 runs in this process.
        quality (int): JPEG quality.
        subsampling (str): JPEG chroma subsampling, ``'444'`` or ``'420'``.
        gop (int): Keyframe interval of the ``h264`` form.
        crf (int): x264 CRF of the ``h264`` form.
        preset (str): x264 preset of the ``h264`` form.
        measure_psnr (bool): Record the PSNR against the exact frames.
        retry_failed (bool): Retry unchanged sources that failed before.
        progress (bool): Show a progress bar.
        log (callable): Where the summary lines go.

    Returns:
        dict: The summary (also written to ``DST/prepare_summary.json``),
        with ``records``: one dict per finished video (``src``, ``out``,
        ``label`` and its record).
    """
    if fmt not in PREPARED_FORMATS:
        raise ValueError(f'unknown format {fmt!r}; choose from {PREPARED_FORMATS}')
    t_start = time.perf_counter()
    sources = list_sources(src)
    os.makedirs(dst, exist_ok=True)
    dst = osp.abspath(dst)
    settings = _settings(fmt, quality, subsampling, gop, crf, preset)
    kwargs = dict(fmt=fmt, quality=quality, subsampling=subsampling, gop=gop, crf=crf,
                  preset=preset, measure_psnr=measure_psnr)
    with _Lock(dst):
        leftovers = remove_leftovers(dst)
        old_failed = _read_failed(dst)
        failed: Dict[str, Tuple[int, int, str]] = {}
        jobs, done, owners = [], {}, {}
        skipped_failed = 0
        for path, rel, label in sources:
            out_rel = output_of(rel, fmt)
            if out_rel in owners:
                st = os.stat(path)
                failed[rel] = (st.st_size, st.st_mtime_ns,
                               f'output "{out_rel}" collides with source "{owners[out_rel]}"')
                continue
            owners[out_rel] = rel
            out, record_path = osp.join(dst, out_rel), osp.join(dst, out_rel + '.json')
            record = _read_record(record_path)
            if _is_done(record, path, out, settings):
                done[rel] = (path, out, label, record)
                continue
            st = os.stat(path)
            prev = old_failed.get(rel)
            if prev and not retry_failed and prev[:2] == (st.st_size, st.st_mtime_ns):
                failed[rel] = prev
                skipped_failed += 1
                continue
            jobs.append(dict(src=path, rel=rel, out=out, record=record_path, label=label,
                             kwargs=kwargs))
        log(f'{len(sources)} source videos in "{src}": {len(done)} already prepared, '
            f'{skipped_failed} failed before (unchanged; --retry-failed to retry), '
            f'{len(jobs)} to prepare with {workers} worker(s)'
            + (f'; removed {leftovers} leftovers of an interrupted run' if leftovers else ''))
        by_rel = {j['rel']: j for j in jobs}
        new_records, new_failed = [], []
        bar = ProgressBar(len(jobs)) if progress and jobs else None
        t_work = time.perf_counter()
        interrupted = False

        def collect(result):
            job = by_rel[result['rel']]
            if result['ok']:
                done[job['rel']] = (job['src'], job['out'], job['label'], result['info'])
                new_records.append(result['info'])
            else:
                st = os.stat(job['src'])
                failed[job['rel']] = (st.st_size, st.st_mtime_ns, result['reason'])
                new_failed.append((job['rel'], result['reason']))
            if bar is not None:
                bar.update()

        try:
            if workers <= 1 or len(jobs) <= 1:
                for job in jobs:
                    collect(run_prepare_job(job))
            else:
                with mp.get_context().Pool(min(workers, len(jobs))) as pool:
                    for result in pool.imap_unordered(run_prepare_job, jobs):
                        collect(result)
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            if bar is not None:
                sys.stdout.write('\n')
            wall = time.perf_counter() - t_work
            summary = _finish(dst, fmt, src, sources, done, failed, new_records, new_failed,
                              wall, workers, time.perf_counter() - t_start, interrupted, log)
    return summary


def _finish(dst, fmt, src, sources, done, failed, new_records, new_failed, wall, workers,
            total_wall, interrupted, log) -> Dict:
    """Write the list, the failed sources, the log and the summary."""
    lines = []
    records = []
    for path, rel, label in sources:  # the source order = VideoPairDataset's order
        if rel not in done:
            continue
        _, out, label, record = done[rel]
        out_rel = osp.relpath(out, dst)
        if fmt == 'jpg':
            lines.append(f'{out_rel}\t{record["num_frames"]}\t{label}\n')
        else:
            lines.append(f'{out_rel}\t{label}\t{record["num_frames"]}\n')
        records.append(dict(record, src=path, out=out, label=label))
    with atomic_open(osp.join(dst, LIST_NAMES[fmt])) as f:
        f.writelines(lines)
    atomic_write_text(osp.join(dst, FAILED_NAME),
                      ''.join(f'{rel}\t{s}\t{m}\t{" ".join(reason.split())}\n'
                              for rel, (s, m, reason) in sorted(failed.items())))
    hours = sum(r['duration_s'] for r in records if r['duration_s'] == r['duration_s']) / 3600
    out_bytes = sum(r['bytes'] for r in records)
    src_bytes = sum(r['source_bytes'] for r in records)
    new_hours = sum(r['duration_s'] for r in new_records
                    if r['duration_s'] == r['duration_s']) / 3600
    new_cpu = sum(r['seconds'] for r in new_records)
    psnr_min = [r['psnr_min'] for r in records if 'psnr_min' in r]
    psnr_mean = [r['psnr_mean'] for r in records if 'psnr_mean' in r]
    mismatch = [r['source'] for r in records
                if r.get('reader_num_frames') not in (None, r['num_frames'])
                or r.get('reader_frame_shape') not in (None, [r['height'], r['width']])]
    unreadable = [r['source'] for r in records if r.get('reader_num_frames') is None]
    summary = dict(
        src=osp.abspath(src), dst=dst, format=fmt, interrupted=interrupted,
        num_sources=len(sources), num_prepared=len(records), num_failed=len(failed),
        prepared_this_run=len(new_records), failed_this_run=len(new_failed),
        wall_s=total_wall, work_wall_s=wall, workers=workers,
        hours_of_video=hours, output_bytes=out_bytes, source_bytes=src_bytes,
        output_bytes_per_hour=out_bytes / hours if hours else None,
        source_bytes_per_hour=src_bytes / hours if hours else None,
        wall_s_per_hour=wall / new_hours if new_hours else None,
        cpu_s_per_hour=new_cpu / new_hours if new_hours else None,
        psnr_min_db=min(psnr_min) if psnr_min else None,
        psnr_mean_db=sum(psnr_mean) / len(psnr_mean) if psnr_mean else None,
        frame_count_mismatch=mismatch, exact_reader_cannot_open=unreadable)
    text = [f'prepare_kinetics {time.strftime("%Y-%m-%d %H:%M:%S")}: {src} -> {dst} ({fmt})'
            + (' INTERRUPTED (run the same command to resume)' if interrupted else '')]
    for rel, reason in new_failed:
        text.append(f'  skipped corrupt source "{rel}": {reason}')
    for rel in mismatch:
        text.append(f'  warning: "{rel}": the exact reader gives another frame count or '
                    'size than the sequential decode (the prepared form keeps the latter)')
    for rel in unreadable:
        text.append(f'  warning: "{rel}": the exact video reader cannot open it; prepared '
                    'from the sequential decode')
    text.append(f'  {len(new_records)} videos prepared and {len(new_failed)} failed in '
                f'{wall:.1f} s with {workers} worker(s); total {len(records)}/{len(sources)} '
                f'prepared, {len(failed)} failed (listed in {FAILED_NAME})')
    if new_hours:
        text.append(f'  preparation: {wall / new_hours:.0f} s wall per hour of video at '
                    f'{workers} worker(s), {new_cpu / new_hours:.0f} CPU s per hour of video')
    if hours:
        text.append(f'  disk: {_fmt_bytes(out_bytes)} for {hours:.3f} h of video = '
                    f'{_fmt_bytes(out_bytes / hours)} per hour (sources '
                    f'{_fmt_bytes(src_bytes / hours)} per hour, '
                    f'x{out_bytes / max(src_bytes, 1):.1f})')
    if psnr_min:
        text.append(f'  PSNR against the exact frames: min {min(psnr_min):.2f} dB, mean '
                    f'{summary["psnr_mean_db"]:.2f} dB')
    for line in text:
        log(line)
    with open(osp.join(dst, LOG_NAME), 'a') as f:
        f.write('\n'.join(text) + '\n')
    atomic_write_text(osp.join(dst, SUMMARY_NAME), json.dumps(summary, indent=1))
    summary['records'] = records
    return summary


def main(argv=None) -> int:
    args = parse_args(argv)
    if not osp.isdir(args.src):
        print(f'error: source folder "{args.src}" does not exist', file=sys.stderr)
        return 2
    try:
        summary = prepare_kinetics(args.src, args.dst, fmt=args.format, workers=args.workers,
                                   quality=args.quality, subsampling=args.subsampling,
                                   gop=args.gop, crf=args.crf,
                                   preset=args.preset, measure_psnr=args.psnr,
                                   retry_failed=args.retry_failed,
                                   progress=not args.no_progress)
    except KeyboardInterrupt:
        print('interrupted: run the same command again to resume', file=sys.stderr)
        return 130
    except (FileNotFoundError, RuntimeError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    return 0 if summary['num_prepared'] else 1


if __name__ == '__main__':
    sys.exit(main())
