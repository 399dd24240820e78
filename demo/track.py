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
    """Load an MMEngine (``state_dict``) or bare checkpoint into ``model``.

    MMEngine checkpoints also hold a message hub that ``torch.load``'s
    default ``weights_only=True`` (torch >= 2.6) refuses, so they are read
    with ``weights_only=False``: only load checkpoints you trust.
    """
    import torch
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    ckpt = torch.load(checkpoint, map_location='cpu', weights_only=False)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    state = {k[7:] if k.startswith('module.') else k: v
             for k, v in state.items()}
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
    print(f'tracked {n} frames: {tracker_fps:.1f} FPS (tracker), '
          f'{total_fps:.1f} FPS (with decoding and writing)')
    if args.out:
        print(f'annotated video: {args.out}')
    if args.out_txt:
        print(f'boxes: {args.out_txt}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
