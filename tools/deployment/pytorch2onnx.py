"""Export the DropTrack network to ONNX and check it with onnxruntime.

The graph takes the normalised template and search crops
(``template`` (1, 3, Ht, Wt), ``search`` (1, 3, Hs, Ws), the config's sizes)
and returns ``score_map`` (1, 1, h, w), ``size_map`` and ``offset_map``
(1, 2, h, w) -- what ``DropTrack.forward_pair`` returns -- plus
``pred_box`` (1, 4: cx, cy, w, h in [0, 1] of the search crop, read at the
maximum of the Hann-windowed score map, as the tracker does) and
``pred_score`` (1, 1). Candidate elimination is in the graph: the sort
becomes ``TopK`` over all search tokens, the kept tokens ``GatherElements``
and the restore ``ScatterElements``. The number of kept tokens depends only
on the input sizes (``ceil(0.7 * 256) = 180``, then 126, 89 for 256 px
search crops), so it is fixed in the graph and the shapes are static: the
file is for the config's template and search sizes only (onnxruntime
rejects other shapes). The TorchScript exporter is used (``dynamo=False``,
no ``onnxscript`` needed), opset 17 by default.

Checks (unless ``--no-verify``): the outputs on random inputs against
PyTorch (max abs difference per output), and a synthetic sequence
(``mmdropmae.datasets.synthetic.sot.render_sot_sequence``) tracked with the
PyTorch network and with onnxruntime (max box difference in pixels).

Examples::

    python tools/deployment/pytorch2onnx.py \\
        configs/droptrack/droptrack_vit-b16_128-256_got10k.py CKPT droptrack.onnx
    # released files are converted on load
    python tools/deployment/pytorch2onnx.py \\
        configs/droptrack/droptrack_vit-b16_192-384_full.py OSTrack_alldata_300E.pth.tar out.onnx
    # random weights (for speed tests)
    python tools/deployment/pytorch2onnx.py CONFIG none out.onnx
"""
import argparse
import os
import os.path as osp
import sys
import time
import warnings
from typing import Dict, Sequence

import numpy as np
import torch
from torch import Tensor, nn

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
for _p in (HERE, REPO):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from ort_backend import OUTPUTS, ORTNetwork, make_session  # noqa: E402

ALL_OUTPUTS = OUTPUTS + ('pred_box', 'pred_score')
MIN_OPSET = 17


class DropTrackONNX(nn.Module):
    """The traced network: ``(template, search) -> (score_map, size_map,
    offset_map, pred_box, pred_score)``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, template: Tensor, search: Tensor):
        out = self.model.forward_pair(template, search)
        score = out['score_map']
        response = score * self.model.output_window \
            if self.model.test_cfg.get('window') == 'hann' else score
        box, best = self.model.head.cal_bbox(response, out['size_map'], out['offset_map'],
                                             return_score=True)
        return score, out['size_map'], out['offset_map'], box, best


def build_model(config: str, checkpoint: str = None, device: str = 'cpu'):
    """The config's tracker with the checkpoint's weights (any layout:
    ours or a released OSTrack/DropTrack file; 'none' or None: random)."""
    from mmengine.config import Config

    from mmdropmae.models.utils import load_tracker_state
    from mmdropmae.registry import MODELS
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    if checkpoint and checkpoint.lower() != 'none':
        state, _ = load_tracker_state(checkpoint)
        model.load_state_dict(state, strict=True)
    return model.to(device).eval()


def example_inputs(model, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    t, s = model.template_size, model.search_size
    return torch.randn(1, 3, t, t, generator=g), torch.randn(1, 3, s, s, generator=g)


def export_onnx(model, out_file: str, opset: int = MIN_OPSET) -> dict:
    """Trace ``model``'s network for its template/search sizes and write
    ``out_file``; returns ``opset``, ``seconds``, ``ops`` (node types) and
    the kept search tokens per CE block."""
    if opset < MIN_OPSET:
        raise ValueError(f'opset {opset} < {MIN_OPSET}')
    model = model.eval()
    wrapper = DropTrackONNX(model).eval()
    z, x = example_inputs(model)
    with torch.no_grad():
        kept = list(model.forward_pair(z, x)['kept_tokens'])
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # tracing warnings on Python ints taken from shapes: the sizes are fixed
        warnings.simplefilter('ignore')
        torch.onnx.export(
            wrapper, (z, x), out_file, input_names=['template', 'search'],
            output_names=list(ALL_OUTPUTS), opset_version=opset, dynamo=False,
            do_constant_folding=True)
    model.eval()  # the exporter restores the wrapper's mode on the whole tree
    seconds = time.perf_counter() - t0
    ops = []
    try:
        import onnx
        proto = onnx.load(out_file)
        onnx.checker.check_model(proto)
        ops = sorted({n.op_type for n in proto.graph.node})
    except ImportError:
        pass
    return dict(opset=opset, seconds=seconds, ops=ops, kept_tokens=kept)


@torch.no_grad()
def verify_random(model, onnx_file: str, trials: int = 3) -> Dict[str, float]:
    """Max abs difference of each output, PyTorch vs onnxruntime, over
    ``trials`` random input pairs."""
    sess = make_session(onnx_file)
    wrapper = DropTrackONNX(model).eval()
    diffs = {k: 0. for k in ALL_OUTPUTS}
    for seed in range(1, trials + 1):
        z, x = example_inputs(model, seed)
        ref = wrapper(z, x)
        outs = sess.run(list(ALL_OUTPUTS), dict(template=z.numpy(), search=x.numpy()))
        for name, a, b in zip(ALL_OUTPUTS, outs, ref):
            diffs[name] = max(diffs[name], float(np.abs(a - b.numpy()).max()))
    return diffs


def track_sequence(model, frames: Sequence[np.ndarray], init_box: Sequence[float],
                   backend=None) -> np.ndarray:
    """(N, 4) xywh boxes of ``model.track`` over ``frames`` (first = the init
    box), with the network in PyTorch or the given backend."""
    model.set_network_backend(backend)
    try:
        state = model.init_track(frames[0], init_box)
        boxes = [list(map(float, init_box))]
        for f in frames[1:]:
            model.track(f, state)
            boxes.append(list(state.bbox))
    finally:
        model.set_network_backend(None)
    return np.asarray(boxes, dtype=np.float64)


def synthetic_sequence(num_frames: int = 30, size=(320, 240), seed: int = 3):
    from mmdropmae.datasets.synthetic.sot import render_sot_sequence
    seq = render_sot_sequence(num_frames, size, seed=seed, fast_motion=True)
    return list(seq.frames), [float(v) for v in seq.boxes[0]]


def verify_sequence(model, onnx_file: str, num_frames: int = 30) -> dict:
    """Track a synthetic sequence with both backends: max and mean box
    difference (pixels) and the boxes."""
    frames, box = synthetic_sequence(num_frames)
    ref = track_sequence(model, frames, box)
    ort_boxes = track_sequence(model, frames, box, ORTNetwork(onnx_file))
    d = np.abs(ref - ort_boxes)
    return dict(max_px=float(d.max()), mean_px=float(d.mean()), frames=len(frames),
                torch_boxes=ref, ort_boxes=ort_boxes)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='tracker config (configs/droptrack/*)')
    parser.add_argument('checkpoint', help="tracker checkpoint (ours or a released .pth.tar; "
                        "'none': random weights)")
    parser.add_argument('out', help='output .onnx file')
    parser.add_argument('--opset', type=int, default=MIN_OPSET)
    parser.add_argument('--no-verify', action='store_true', help='skip the onnxruntime checks')
    parser.add_argument('--frames', type=int, default=30,
                        help='frames of the synthetic check sequence')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmdropmae.models.utils import CheckpointError
    try:
        model = build_model(args.config, args.checkpoint)
        info = export_onnx(model, args.out, args.opset)
    except (CheckpointError, FileNotFoundError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    size = osp.getsize(args.out) / 2**20
    print(f'wrote {args.out} ({size:.1f} MiB, opset {info["opset"]}, {info["seconds"]:.1f} s): '
          f'template {model.template_size} px, search {model.search_size} px, candidate '
          f'elimination keeps {info["kept_tokens"] or "all"} search tokens')
    if info['ops']:
        print(f'  ops: {", ".join(info["ops"])}')
    if args.no_verify:
        return 0
    diffs = verify_random(model, args.out)
    print('onnxruntime vs PyTorch, random inputs, max abs difference: ' +
          ', '.join(f'{k} {v:.2e}' for k, v in diffs.items()))
    seq = verify_sequence(model, args.out, args.frames)
    print(f'synthetic sequence ({seq["frames"]} frames): boxes differ by at most '
          f'{seq["max_px"]:.4f} px (mean {seq["mean_px"]:.5f} px)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
