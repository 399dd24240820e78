# Copyright (c) mmdropmae contributors. All rights reserved.
"""Track one object through a video with a DropTrack checkpoint.

Examples::

    python demo/track.py video.mp4 \
        --config configs/droptrack/droptrack_vit-b16_128-256_got10k.py \
        --checkpoint droptrack_got10k.pth --init-bbox 120,80,60,40 \
        --out tracked.mp4 --out-txt boxes.txt
    # a folder of frames (sorted in natural order) works as well
    python demo/track.py frames/ --config C --checkpoint K --init-bbox 10,20,30,40

The input is an mp4 (any container/codec PyAV reads) or a folder of images.
``--init-bbox`` is the target box in the first frame as ``x,y,w,h`` (pixels,
top-left corner); write ``--init-bbox=-5,10,40,30`` when it starts with a
minus sign. Outputs: an annotated H.264 mp4 (``--out``: the box, its score
and the frame index, drawn by :class:`mmdropmae.visualization.TrackingVisualizer`)
and a text file with one ``x,y,w,h`` line per frame (``--out-txt``; the first
line is the initial box). The tracking speed (frames per second of the tracker alone and
of the whole loop with decoding and writing) is printed at the end.

``--checkpoint`` takes our checkpoints and the released OSTrack / DropTrack
files (``*.pth.tar``, converted on load; see docs/model_zoo.md).
``--backend onnxruntime`` runs the network in onnxruntime (``--onnx FILE``
from ``tools/deployment/pytorch2onnx.py``, or exported on the fly);
``--compare`` tracks with PyTorch as well and prints both speeds and the
largest box difference::

    python demo/track.py video.mp4 --config C --checkpoint OSTrack_ep0100.pth.tar \
        --init-bbox 120,80,60,40 --backend onnxruntime --compare
"""
import argparse
import itertools
import os
import os.path as osp
import re
import sys
import time
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmdropmae.utils.constants import IMG_EXTENSIONS
from mmdropmae.utils.fileio import list_image_files
from mmdropmae.utils.image import load_rgb_image


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Track an object in a video with DropTrack')
    parser.add_argument('video', help='mp4 file or folder of frames')
    parser.add_argument('--config', required=True, help='tracker config')
    parser.add_argument('--checkpoint', required=True,
                        help='tracker checkpoint (.pth)')
    parser.add_argument('--init-bbox', required=True,
                        help='first-frame box "x,y,w,h" in pixels (use '
                        '--init-bbox=-5,... for a negative x)')
    parser.add_argument('--out', help='annotated output video (.mp4)')
    parser.add_argument('--out-txt', help='per-frame boxes "x,y,w,h"')
    parser.add_argument('--device', default='cpu',
                        help='torch device, e.g. cpu or cuda:0')
    parser.add_argument('--fps', type=float, default=None,
                        help='frame rate of --out (default: the input\'s, '
                        'or 30 for a frame folder)')
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bar')
    parser.add_argument('--backend', choices=['pytorch', 'onnxruntime'], default='pytorch',
                        help='run the network in PyTorch or onnxruntime (crop, window '
                        'and box read-out stay the same)')
    parser.add_argument('--onnx', help='the network exported by tools/deployment/'
                        'pytorch2onnx.py (default with --backend onnxruntime: exported '
                        'now into a temporary file)')
    parser.add_argument('--compare', action='store_true',
                        help='with --backend onnxruntime: track with PyTorch too and print '
                        'both speeds and the largest box difference')
    return parser.parse_args(argv)


def parse_bbox(text: str) -> List[float]:
    """``"x,y,w,h"`` -> four floats; raises ``ValueError`` naming the
    problem."""
    parts = [p for p in re.split(r'[,\s]+', text.strip()) if p]
    if len(parts) != 4:
        raise ValueError(f'--init-bbox needs 4 numbers "x,y,w,h", got '
                         f'{len(parts)}: {text!r}')
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise ValueError(f'--init-bbox has a non-numeric value: {text!r}') \
            from None


class FrameSource:
    """RGB frames of an mp4 (PyAV, streamed) or an image folder."""

    def __init__(self, path: str):
        self.path = path
        self.fps = 30.
        self.num_frames: Optional[int] = None
        if osp.isdir(path):
            names = list_image_files(path)
            if not names:
                raise ValueError(f'no image files ({", ".join(IMG_EXTENSIONS)})'
                                 f' in the folder {path}')
            self.files = [osp.join(path, n) for n in names]
            self.num_frames = len(self.files)
        elif osp.isfile(path):
            self.files = None
            import av
            try:
                with av.open(path) as container:
                    if not container.streams.video:
                        raise ValueError(f'{path} has no video stream')
                    stream = container.streams.video[0]
                    if stream.average_rate:
                        self.fps = float(stream.average_rate)
                    self.num_frames = int(stream.frames) or None
            except av.error.FFmpegError as e:
                raise ValueError(f'cannot open the video {path}: {e}') \
                    from None
        else:
            raise FileNotFoundError(f'no such video file or folder: {path}')

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.files is not None:
            for f in self.files:
                yield load_rgb_image(f)
            return
        import av
        with av.open(self.path) as container:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format='rgb24')


def load_tracker_weights(model, checkpoint: str) -> None:
    """Load a tracker checkpoint into ``model`` (strict).

    Either layout: an mmdropmae / MMEngine checkpoint (``state_dict``) or a
    bare state dict, or a released OSTrack / DropTrack file
    (``OSTrack_*.pth.tar``: ``net`` in the reference layout), which is
    converted on load (:func:`mmdropmae.models.utils.load_tracker_state`).
    Pickled objects other than tensors and plain containers are stubbed,
    not built; still, only load checkpoints you trust.
    """
    from mmdropmae.models.utils import CheckpointError, load_tracker_state
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    try:
        state, _ = load_tracker_state(checkpoint)
    except CheckpointError as e:
        raise ValueError(str(e)) from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ValueError(f'the checkpoint {checkpoint} does not match the '
                         f'config\'s model: {e}') from None


def build_tracker(config: str, checkpoint: str, device: str = 'cpu'):
    """Build a tracker from its config and load a checkpoint (the encoder's
    pre-training ``init_cfg`` is not loaded: the checkpoint has it all)."""
    import torch
    from mmengine.config import Config

    from mmdropmae.registry import MODELS
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    load_tracker_weights(model, checkpoint)
    model.to(torch.device(device)).eval()
    return model


def attach_onnxruntime(model, onnx_file: Optional[str], tmp_dir: str):
    """Route ``model``'s network through onnxruntime (exporting it into
    ``tmp_dir`` first when no file is given); returns the ONNX path."""
    sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'tools',
                                'deployment'))
    from ort_backend import ORTNetwork, require_onnxruntime
    require_onnxruntime()
    if onnx_file is None:
        from pytorch2onnx import export_onnx
        onnx_file = osp.join(tmp_dir, 'droptrack.onnx')
        export_onnx(model, onnx_file)
    model.set_network_backend(ORTNetwork(onnx_file))
    return onnx_file


def draw_box(visualizer, frame: np.ndarray, box: Sequence[float], score: float,
             index: int) -> np.ndarray:
    """The frame with the tracked box ``x,y,w,h``, its score and the frame
    index, drawn by ``visualizer`` (a :class:`TrackingVisualizer`)."""
    visualizer.set_image(frame)
    visualizer.draw_track_boxes(pred_boxes=box, scores=score, box_format='xywh')
    visualizer.draw_texts(
        f'#{index}',
        np.array([3., 3.]),
        colors=visualizer.text_color,
        vertical_alignments='top',
        bboxes=dict(facecolor='black', alpha=0.6, pad=0.7, edgecolor='none'))
    return visualizer.get_image()


def _even(frame: np.ndarray) -> np.ndarray:
    """H.264 yuv420p needs even sides: pad one black row/column if odd."""
    h, w = frame.shape[:2]
    if h % 2 or w % 2:
        frame = cv2.copyMakeBorder(frame, 0, h % 2, 0, w % 2,
                                   cv2.BORDER_CONSTANT, value=0)
    return frame


def compare_backends(model, source: 'FrameSource', init_box: List[float]) -> dict:
    """Track the whole video with the attached backend and with PyTorch:
    FPS of each and the largest box difference (pixels)."""
    backend = model.__dict__.get('_network_backend')
    out = {}
    for name, fn in (('onnxruntime', backend), ('pytorch', None)):
        model.set_network_backend(fn)
        frames = iter(source)
        state = model.init_track(next(frames), init_box)
        boxes, t = [], 0.
        for frame in frames:
            t0 = time.perf_counter()
            model.track(frame, state)
            t += time.perf_counter() - t0
            boxes.append(list(state.bbox))
        out[name] = dict(fps=len(boxes) / t if t > 0 else 0., boxes=np.asarray(boxes))
    model.set_network_backend(backend)
    diff = np.abs(out['pytorch']['boxes'] - out['onnxruntime']['boxes'])
    out['max_px'] = float(diff.max()) if diff.size else 0.
    return out


def run(args) -> Tuple[List[List[float]], dict]:
    """Track; returns the per-frame boxes and timing statistics."""
    init_box = parse_bbox(args.init_bbox)
    source = FrameSource(args.video)
    model = build_tracker(args.config, args.checkpoint, args.device)
    from mmengine.utils import ProgressBar

    boxes: List[List[float]] = []
    stats = dict(track_time=0., frames=0)
    progress = None
    if not args.no_progress:
        progress = ProgressBar(source.num_frames or 0, file=sys.stderr)

    frames = iter(source)
    try:
        first = next(frames)
    except StopIteration:
        raise ValueError(f'{args.video} has no frames') from None
    if args.backend == 'onnxruntime':
        import tempfile
        tmp = tempfile.mkdtemp(prefix='demo_track_onnx_')
        stats['onnx'] = attach_onnxruntime(model, args.onnx, tmp)
        if args.compare:
            stats['compare'] = compare_backends(model, source, init_box)
    # validate the init box against the first frame before writing anything
    t0 = time.perf_counter()
    state = model.init_track(first, init_box)
    stats['track_time'] += time.perf_counter() - t0

    visualizer = None
    if args.out:
        from mmdropmae.visualization import TrackingVisualizer
        visualizer = TrackingVisualizer(name='demo_track')

    def annotated() -> Iterator[np.ndarray]:
        for i, frame in enumerate(itertools.chain([first], frames)):
            if i == 0:
                box, score = np.asarray(state.bbox), 1.
            else:
                t0 = time.perf_counter()
                box, score = model.track(frame, state)
                stats['track_time'] += time.perf_counter() - t0
            stats['frames'] += 1
            boxes.append([float(v) for v in box])
            if progress is not None:
                progress.update()
            if args.out:
                yield _even(draw_box(visualizer, frame, box, score, i))

    t_start = time.perf_counter()
    if args.out:
        from mmdropmae.datasets.synthetic.writer import write_video
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        write_video(args.out, annotated(), fps=args.fps or source.fps)
    else:
        for _ in annotated():
            pass
    stats['total_time'] = time.perf_counter() - t_start
    if progress is not None:
        sys.stderr.write('\n')
    if args.out_txt:
        os.makedirs(osp.dirname(osp.abspath(args.out_txt)), exist_ok=True)
        with open(args.out_txt, 'w') as f:
            f.writelines(','.join(f'{v:.2f}' for v in b) + '\n'
                         for b in boxes)
    return boxes, stats


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        boxes, stats = run(args)
    except (ValueError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    n = stats['frames']
    tracker_fps = n / stats['track_time'] if stats['track_time'] > 0 else 0.
    total_fps = n / stats['total_time'] if stats['total_time'] > 0 else 0.
    print(f'tracked {n} frames ({args.backend}): {tracker_fps:.1f} FPS (tracker), '
          f'{total_fps:.1f} FPS (with decoding and writing)')
    if 'compare' in stats:
        c = stats['compare']
        ratio = c['onnxruntime']['fps'] / c['pytorch']['fps'] if c['pytorch']['fps'] else 0.
        print(f'onnxruntime {c["onnxruntime"]["fps"]:.1f} FPS vs PyTorch '
              f'{c["pytorch"]["fps"]:.1f} FPS (onnxruntime / PyTorch = {ratio:.2f}x); '
              f'boxes differ by at most {c["max_px"]:.4f} px')
    if args.out:
        print(f'annotated video: {args.out}')
    if args.out_txt:
        print(f'boxes: {args.out_txt}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
