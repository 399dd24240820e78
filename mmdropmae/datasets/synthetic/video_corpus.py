"""A corpus of awkward video files, made with the ``ffmpeg`` command line, on
which random-access readers must return the frames of a sequential decode.

Each entry is a real-world class of file that trips frame indexing:

============================  ==============================================
``bframes_pts_eq_dts.mp4``    H.264 with B-frames whose presentation
                              timestamps were overwritten with the decode
                              timestamps (``setts=pts=DTS``), as some phone
                              muxers write them; the edit list of the source
                              then discards the first two packets
``open_gop.mp4``              x264 ``open-gop``: leading B-frames of a GOP
                              reference the previous one
``vfr.mp4``                   variable frame rate (irregular pts steps)
``edit_list.mp4``             a stream-copy cut (``-ss`` before ``-c copy``):
                              an edit list discards the packets before the cut
``rotated.mp4``               display-matrix rotation of 90 degrees
``odd_size_444.mp4``          853x480, 4:4:4 chroma
``10bit.mp4``                 ``yuv420p10le`` (High 10)
``hevc.mp4``                  x265 with 4 B-frames (HEVC, CRA/IDR pictures)
``hevc_pts_eq_dts.mp4``       the same with pts = dts
``no_bframes.mp4``            x264 without B-frames (pts = dts legitimately)
``annexb.ts``                 MPEG-TS (Annex B start codes) with B-frames
``vp9.webm``                  VP9 in WebM (no pts reordering, hidden frames)
``corrupt_nal.mp4``           bytes inside one P-frame's slice data flipped
                              (the decoder conceals errors in that GOP)
``truncated.mp4``             cut to 60% of its size with the index in front
                              (``+faststart``): the last samples are missing
``truncated_noindex.mp4``     cut to 60% with the index at the end: no index
============================  ==============================================
"""
import os
import os.path as osp
import shutil
import subprocess
from typing import Dict, List

#: 4 s of FFmpeg's moving test pattern at 25 fps
_SOURCE = ['-f', 'lavfi', '-i', 'testsrc2=size={size}:rate=25:duration={duration}']
_X264 = ['-c:v', 'libx264', '-preset', 'fast', '-bf', '3', '-g', '24']


def _ffmpeg(args: List[str]) -> None:
    cmd = ['ffmpeg', '-y', '-nostdin', '-v', 'error'] + args
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} failed: {proc.stderr.strip()}')


def _source(size: str = '320x240', duration: float = 4) -> List[str]:
    return [a.format(size=size, duration=duration) for a in _SOURCE]


def _flip_slice_bytes(src: str, dst: str, packet_index: int) -> None:
    """Copy ``src`` to ``dst`` with bytes in the middle of one packet's slice
    data inverted (the container and the NAL headers stay intact)."""
    import av
    with av.open(src) as container:
        packets = [p for p in container.demux(video=0) if p.size]
        packet = packets[packet_index]
        pos, size = packet.pos, packet.size
    data = bytearray(open(src, 'rb').read())
    start = pos + size // 2
    for k in range(start, min(start + 16, pos + size)):
        data[k] ^= 0xFF
    with open(dst, 'wb') as f:
        f.write(data)


def _truncate(src: str, dst: str, fraction: float) -> None:
    data = open(src, 'rb').read()
    with open(dst, 'wb') as f:
        f.write(data[:int(len(data) * fraction)])


def make_awkward_video_corpus(out_dir: str) -> Dict[str, str]:
    """Write the corpus of this module's table into ``out_dir``.

    Needs the ``ffmpeg`` program (Debian package ``ffmpeg``, installed by
    ``tools/install.sh``) with libx264, libx265 and libvpx. Deterministic.

    Args:
        out_dir (str): The output folder (created).

    Returns:
        dict[str, str]: File name -> path, in the table's order.
    """
    if shutil.which('ffmpeg') is None:
        raise RuntimeError('make_awkward_video_corpus needs the ffmpeg program on PATH')
    os.makedirs(out_dir, exist_ok=True)
    paths = {}

    def out(name: str) -> str:
        paths[name] = osp.join(out_dir, name)
        return paths[name]

    base = osp.join(out_dir, '_base.mp4')
    _ffmpeg(_source() + _X264 + ['-pix_fmt', 'yuv420p', base])
    _ffmpeg(['-i', base, '-c', 'copy', '-bsf:v', 'setts=pts=DTS', out('bframes_pts_eq_dts.mp4')])
    _ffmpeg(_source() + _X264[:4] + ['-x264-params', 'keyint=24:open-gop=1:bframes=3',
                                     '-pix_fmt', 'yuv420p', out('open_gop.mp4')])
    vfr = ['-vf', "setpts='(N+if(gt(N,40),N-40,0)*0.5)/25/TB'", '-fps_mode', 'passthrough']
    _ffmpeg(_source() + vfr + _X264 + ['-pix_fmt', 'yuv420p', out('vfr.mp4')])
    _ffmpeg(['-ss', '1.3', '-i', base, '-c', 'copy', out('edit_list.mp4')])
    _ffmpeg(['-i', base, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', out('rotated.mp4')])
    _ffmpeg(_source('853x480', 2) + _X264 + ['-pix_fmt', 'yuv444p', out('odd_size_444.mp4')])
    _ffmpeg(_source() + _X264 + ['-pix_fmt', 'yuv420p10le', out('10bit.mp4')])
    _ffmpeg(_source() + ['-c:v', 'libx265', '-preset', 'fast', '-x265-params',
                         'bframes=4:keyint=24:log-level=error', '-pix_fmt', 'yuv420p',
                         out('hevc.mp4')])
    _ffmpeg(['-i', paths['hevc.mp4'], '-c', 'copy', '-bsf:v', 'setts=pts=DTS',
             out('hevc_pts_eq_dts.mp4')])
    _ffmpeg(_source() + ['-c:v', 'libx264', '-preset', 'fast', '-bf', '0', '-g', '24',
                         '-pix_fmt', 'yuv420p', out('no_bframes.mp4')])
    _ffmpeg(['-i', base, '-c', 'copy', '-f', 'mpegts', out('annexb.ts')])
    _ffmpeg(_source() + ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8',
                         '-g', '24', out('vp9.webm')])
    # packet 29 in decode order: the P-frame shown as frame 31, in the
    # second GOP (frames 24-47), referenced by the frames around it
    _flip_slice_bytes(base, out('corrupt_nal.mp4'), 29)
    faststart = osp.join(out_dir, '_faststart.mp4')
    _ffmpeg(['-i', base, '-c', 'copy', '-movflags', '+faststart', faststart])
    _truncate(faststart, out('truncated.mp4'), 0.6)
    _truncate(base, out('truncated_noindex.mp4'), 0.6)
    os.remove(faststart)
    os.remove(base)
    return paths
