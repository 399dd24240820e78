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
    # onnxruntime side by side with PyTorch eager (same frames, same loop)
    python tools/benchmarks/tracker_speed.py --backend onnxruntime

``--backend onnxruntime`` exports the network (``tools/deployment/
pytorch2onnx.py``, or takes ``--onnx FILE``), runs the same tracking loop with
the network in PyTorch and in onnxruntime, and prints both FPS, the ratio
(onnxruntime / PyTorch) and the largest box difference between the two runs.
``--checkpoint`` takes our checkpoints and released OSTrack / DropTrack files.
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
    parser.add_argument('--backend', choices=['pytorch', 'onnxruntime'], default='pytorch',
                        help='onnxruntime: time it side by side with PyTorch')
    parser.add_argument('--onnx', help='exported network (default: exported now)')
    return parser.parse_args(argv)


def build_model(config: str, checkpoint=None, device='cpu'):
    from mmengine.config import Config

    from mmdropmae.registry import MODELS
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None  # random weights are fine for timing
    model = MODELS.build(cfg.model)
    if checkpoint:  # ours or a released OSTrack/DropTrack file (converted)
        from mmdropmae.models.utils import load_tracker_state
        model.load_state_dict(load_tracker_state(checkpoint)[0], strict=True)
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
def benchmark(model, frames, boxes, warmup: int, device='cpu', backends=None) -> dict:
    """Time the tracking loop; with several ``backends`` (name -> network
    backend, None = PyTorch) they run interleaved frame by frame, each with
    its own tracking state, so that a change of the machine's load hits all
    of them alike. Returns one result per backend (a single result when
    ``backends`` is None)."""
    from mmdropmae.models.trackers.base_sot_tracker import clip_box
    single = backends is None
    backends = backends or {'pytorch': None}
    h, w = frames[0].shape[:2]
    runs = {}
    for name, be in backends.items():
        model.set_network_backend(be)
        runs[name] = dict(state=model.init_track(frames[0], boxes[0]), totals=[], whole=[],
                          stages=dict(crop=[], preprocess=[], forward=[], postprocess=[]),
                          state2=model.init_track(frames[0], boxes[0]), tracked=[])
    try:
        for i, frame in enumerate(frames[1:]):
            for name, be in backends.items():
                run = runs[name]
                model.set_network_backend(be)
                state = run['state']
                t0 = time.perf_counter()
                crop, r = model.search_crop(frame, state)
                t1 = time.perf_counter()
                x = model.preprocess(crop)
                _sync(device)
                t2 = time.perf_counter()
                out = model.run_network(state.template, x)
                _sync(device)
                t3 = time.perf_counter()
                box, score = model.postprocess(out, state, r)
                state.bbox = clip_box(box, h, w, model.test_cfg['clip_margin'])
                t4 = time.perf_counter()
                # the whole DropTrack.track, as a cross-check of the staged loop
                model.track(frame, run['state2'])
                _sync(device)
                t5 = time.perf_counter()
                run['tracked'].append(list(run['state2'].bbox))
                if i >= warmup:
                    for k, v in zip(run['stages'], (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                        run['stages'][k].append(v)
                    run['totals'].append(t4 - t0)
                    run['whole'].append(t5 - t4)
    finally:
        model.set_network_backend(None)
    results = {}
    for name, run in runs.items():
        mean = {k: float(np.mean(v)) for k, v in run['stages'].items()}
        frame_time = float(np.mean(run['totals']))
        results[name] = dict(
            frames=len(run['totals']),
            fps=1. / frame_time,
            frame_ms=1000 * frame_time,
            track_fps=1. / float(np.mean(run['whole'])),
            stage_ms={k: 1000 * v for k, v in mean.items()},
            outside_forward_share=(frame_time - mean['forward']) / frame_time,
            network_fps=1. / mean['forward'],
            boxes=run['tracked'])
    return results['pytorch'] if single else results


def machine_info() -> dict:
    import os
    import platform
    info = dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
                torch_threads=torch.get_num_threads(), torch_version=torch.__version__)
    try:
        import onnxruntime
        info['onnxruntime_version'] = onnxruntime.__version__
    except ImportError:
        pass
    return info


def print_result(res: dict, label: str) -> None:
    print(f"  [{label}] {res['fps']:.2f} FPS ({res['frame_ms']:.1f} ms/frame; "
          f"DropTrack.track alone: {res['track_fps']:.2f} FPS); network "
          f"forward alone {res['network_fps']:.2f} FPS")
    for k, v in res['stage_ms'].items():
        print(f'    {k:<12s} {v:8.2f} ms  ({100 * v / res["frame_ms"]:5.1f}%)')
    share = 100 * res['outside_forward_share']
    verdict = 'OK' if share < 15 else 'ABOVE TARGET'
    print(f'    outside the network forward: {share:.1f}% of the frame time '
          f'(target < 15%: {verdict})')


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
        backend='pytorch',
        **machine_info())
    print(f"{res['config']}: ViT {res['embed_dims']}-d x {res['num_layers']}, "
          f"template {res['template_size']} / search {res['search_size']}, "
          f"{w}x{h} frames, {args.device}, {res['cores']} cores ({res['cpu']}), "
          f"{res['torch_threads']} threads, torch {res['torch_version']}")
    print_result(res, 'pytorch eager')
    out = res
    if args.backend == 'onnxruntime':
        sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', 'deployment'))
        from ort_backend import ORTNetwork
        onnx_file = args.onnx
        if onnx_file is None:
            import tempfile

            from pytorch2onnx import export_onnx
            onnx_file = osp.join(tempfile.mkdtemp(prefix='tracker_speed_'), 'droptrack.onnx')
            export_onnx(model, onnx_file)
        ort_net = ORTNetwork(onnx_file, threads=torch.get_num_threads())
        both = benchmark(model, frames, boxes, args.warmup, args.device,
                         backends={'pytorch': None, 'onnxruntime': ort_net})
        pt, ort_res = both['pytorch'], both['onnxruntime']
        ort_res.update(backend='onnxruntime', onnx=onnx_file)
        print(f"  side by side, frame by frame interleaved: onnxruntime "
              f"{res.get('onnxruntime_version', '')} ({torch.get_num_threads()} intra-op "
              f"threads, {onnx_file}) and PyTorch eager")
        print_result(pt, 'pytorch eager, interleaved')
        print_result(ort_res, 'onnxruntime, interleaved')
        diff = float(np.abs(np.asarray(pt['boxes']) - np.asarray(ort_res['boxes'])).max())
        ratio = ort_res['fps'] / pt['fps']
        verdict = 'OK' if ratio >= 1.5 else 'BELOW TARGET'
        print(f"  onnxruntime / pytorch = {ratio:.2f}x FPS ({ort_res['fps']:.2f} vs "
              f"{pt['fps']:.2f}; target >= 1.5x: {verdict}); network alone "
              f"{ort_res['network_fps'] / pt['network_fps']:.2f}x; boxes differ by at most "
              f'{diff:.4f} px over {len(pt["boxes"])} frames')
        out = dict(pytorch_alone=res, pytorch=dict(pt, **{k: v for k, v in res.items()
                                                          if k not in pt}),
                   onnxruntime=ort_res, fps_ratio=ratio, max_box_diff_px=diff)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1)
    return out


if __name__ == '__main__':
    sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
    main()
