# Copyright (c) mmdropmae contributors. All rights reserved.
"""Frames per second of the DropTrack tracker, and the share of each frame's
time spent outside the network forward.

Each tracked frame runs the same stages as ``DropTrack.track``, timed
separately:

* ``crop``: the search region around the previous box (``sample_target``:
  one ``cv2.warpAffine`` with zero padding and resize);
* ``preprocess``: crop -> normalised tensor;
* ``forward``: the ViT (with candidate elimination) and the centre head;
* ``postprocess``: Hann window, arg-max, box read-out, mapping back to the
  image and clipping.

Random weights are fine for timing (the default: the ViT-B/16 128/256 config
without its DropMAE checkpoint); the frames are a synthetic 640x360 video
with a moving target. The per-frame total is checked against
``DropTrack.track`` timed as a whole.

Examples::

    python tools/benchmarks/tracker_speed.py
    python tools/benchmarks/tracker_speed.py --config \
        configs/droptrack/droptrack_vit-b16_192-384_full.py --frames 30
    python tools/benchmarks/tracker_speed.py --threads 2 --json out.json
"""
import argparse
import json
import os.path as osp
import sys
import time

import numpy as np
import torch

DEFAULT_CONFIG = 'configs/droptrack/droptrack_vit-b16_128-256_got10k.py'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='DropTrack speed on CPU')
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--checkpoint', default=None,
                        help='optional weights (random weights otherwise)')
    parser.add_argument('--frames', type=int, default=40,
                        help='timed frames')
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--size', default='640x360', help='frame WxH')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads (default: torch\'s choice)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--json', help='write the results to this file')
    return parser.parse_args(argv)


def build_model(config: str, checkpoint=None, device='cpu'):
    from mmengine.config import Config

    from mmdropmae.registry import MODELS
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None  # random weights are fine for timing
    model = MODELS.build(cfg.model)
    if checkpoint:  # trusted MMEngine checkpoint (message hub inside)
        ckpt = torch.load(checkpoint, map_location='cpu', weights_only=False)
        model.load_state_dict(ckpt.get('state_dict', ckpt), strict=True)
    return model.to(device).eval()


def make_frames(n: int, width: int, height: int, seed: int = 0):
    """A textured background with a target box moving on a circle."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(0, 255, (height // 8, width // 8, 3), dtype=np.uint8)
    import cv2
    bg = cv2.resize(bg, (width, height), interpolation=cv2.INTER_CUBIC)
    tex = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    frames, boxes = [], []
    for i in range(n):
        f = bg.copy()
        cx = width / 2 + width / 4 * np.cos(i / 10)
        cy = height / 2 + height / 4 * np.sin(i / 10)
        x, y = int(cx - 32), int(cy - 24)
        f[y:y + 48, x:x + 64] = tex
        frames.append(f)
        boxes.append([x, y, 64, 48])
    return frames, boxes


def _sync(device):
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


@torch.no_grad()
def benchmark(model, frames, boxes, warmup: int, device='cpu') -> dict:
    from mmdropmae.models.trackers.droptrack import clip_box
    state = model.init_track(frames[0], boxes[0])
    h, w = frames[0].shape[:2]
    stages = dict(crop=[], preprocess=[], forward=[], postprocess=[])
    totals = []
    for i, frame in enumerate(frames[1:]):
        t0 = time.perf_counter()
        crop, r = model.search_crop(frame, state)
        t1 = time.perf_counter()
        x = model.preprocess(crop)
        _sync(device)
        t2 = time.perf_counter()
        out = model.forward_pair(state.template, x)
        _sync(device)
        t3 = time.perf_counter()
        box, score = model.postprocess(out, state, r)
        box = clip_box(box, h, w, model.test_cfg['clip_margin'])
        state.bbox = box
        t4 = time.perf_counter()
        if i >= warmup:
            stages['crop'].append(t1 - t0)
            stages['preprocess'].append(t2 - t1)
            stages['forward'].append(t3 - t2)
            stages['postprocess'].append(t4 - t3)
            totals.append(t4 - t0)
    # the whole DropTrack.track, as a cross-check of the staged loop
    state = model.init_track(frames[0], boxes[0])
    whole = []
    for i, frame in enumerate(frames[1:]):
        t0 = time.perf_counter()
        model.track(frame, state)
        _sync(device)
        if i >= warmup:
            whole.append(time.perf_counter() - t0)
    mean = {k: float(np.mean(v)) for k, v in stages.items()}
    frame_time = float(np.mean(totals))
    outside = frame_time - mean['forward']
    return dict(
        frames=len(totals),
        fps=1. / frame_time,
        frame_ms=1000 * frame_time,
        track_fps=1. / float(np.mean(whole)),
        stage_ms={k: 1000 * v for k, v in mean.items()},
        outside_forward_share=outside / frame_time,
        network_fps=1. / mean['forward'])


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    w, h = (int(v) for v in args.size.lower().split('x'))
    model = build_model(args.config, args.checkpoint, args.device)
    n = args.frames + args.warmup + 1
    frames, boxes = make_frames(n, w, h)
    res = benchmark(model, frames, boxes, args.warmup, args.device)
    res.update(
        config=osp.basename(args.config),
        search_size=model.search_size,
        template_size=model.template_size,
        embed_dims=model.backbone.embed_dims,
        num_layers=model.backbone.num_layers,
        frame_size=[w, h],
        device=args.device,
        torch_threads=torch.get_num_threads(),
        torch_version=torch.__version__)
    print(f"{res['config']}: ViT {res['embed_dims']}-d x {res['num_layers']}, "
          f"template {res['template_size']} / search {res['search_size']}, "
          f"{w}x{h} frames, {args.device}, {res['torch_threads']} threads")
    print(f"  {res['fps']:.2f} FPS ({res['frame_ms']:.1f} ms/frame; "
          f"DropTrack.track alone: {res['track_fps']:.2f} FPS); network "
          f"forward alone {res['network_fps']:.2f} FPS")
    for k, v in res['stage_ms'].items():
        print(f'  {k:<12s} {v:8.2f} ms  ({100 * v / res["frame_ms"]:5.1f}%)')
    share = 100 * res['outside_forward_share']
    verdict = 'OK' if share < 15 else 'ABOVE TARGET'
    print(f'  outside the network forward: {share:.1f}% of the frame time '
          f'(target < 15%: {verdict})')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(res, f, indent=1)
    return res


if __name__ == '__main__':
    sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
    main()
