"""Run the DropTrack network of a tracker with onnxruntime.

:class:`ORTNetwork` wraps an ``InferenceSession`` of a file written by
``tools/deployment/pytorch2onnx.py`` and is called like
``DropTrack.forward_pair(template, search)`` (normalised crops in, the
``score_map`` / ``size_map`` / ``offset_map`` dict out), so that
``model.set_network_backend(ORTNetwork(path))`` makes
:meth:`~mmdropmae.models.trackers.base_sot_tracker.BaseSOTTracker.track` run
the network in onnxruntime while the crop, the Hann window, the box read-out,
the map-back and the clipping stay the same Python code.

onnxruntime is an optional dependency (``requirements/optional.txt``;
``tools/install.sh`` installs it).
"""
import os
from typing import Dict, Optional

import numpy as np
import torch
from torch import Tensor

OUTPUTS = ('score_map', 'size_map', 'offset_map')


def require_onnxruntime():
    """Import onnxruntime, or raise ``ImportError`` saying how to get it."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError('onnxruntime is not installed: pip install onnxruntime==1.31.1 '
                          '(requirements/optional.txt; tools/install.sh installs it)') from exc
    return onnxruntime


def make_session(onnx_file: str, threads: Optional[int] = None, providers=None):
    """An onnxruntime ``InferenceSession`` with all graph optimisations.

    Args:
        onnx_file (str): The exported network.
        threads (int, optional): Intra-op threads (default: torch's thread
            count, so both backends use the same cores).
        providers (list, optional): Execution providers (default CPU).
    """
    ort = require_onnxruntime()
    if not os.path.isfile(onnx_file):
        raise FileNotFoundError(f'no such ONNX file: {onnx_file}')
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = int(threads or torch.get_num_threads())
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # no busy-waiting of the pool between runs: the tracker's own work (crop,
    # normalisation in torch) runs on the same cores right after each call
    opts.add_session_config_entry('session.intra_op.allow_spinning', '0')
    return ort.InferenceSession(onnx_file, opts, providers=providers or ['CPUExecutionProvider'])


class ORTNetwork:
    """``forward_pair`` of a DropTrack in onnxruntime.

    Args:
        onnx_file (str): A file of ``tools/deployment/pytorch2onnx.py``
            (inputs ``template``, ``search``; outputs ``score_map``,
            ``size_map``, ``offset_map``).
        threads (int, optional): Intra-op threads.
        providers (list, optional): Execution providers.
    """

    def __init__(self, onnx_file: str, threads: Optional[int] = None, providers=None):
        self.session = make_session(onnx_file, threads, providers)
        names = [o.name for o in self.session.get_outputs()]
        missing = [n for n in OUTPUTS if n not in names]
        if missing:
            raise ValueError(f'{onnx_file} lacks the outputs {missing} (has {names}); export '
                             'it with tools/deployment/pytorch2onnx.py')
        self.inputs = {i.name: tuple(i.shape) for i in self.session.get_inputs()}
        self.onnx_file = onnx_file

    def __call__(self, template: Tensor, search: Tensor) -> Dict[str, Tensor]:
        feeds = dict(template=_numpy(template), search=_numpy(search))
        for name, arr in feeds.items():
            want = self.inputs.get(name)
            if want is not None and all(isinstance(d, int) for d in want) and \
                    tuple(arr.shape) != want:
                raise ValueError(f'{self.onnx_file} was exported for {name} of shape {want}, '
                                 f'got {tuple(arr.shape)}')
        outs = self.session.run(list(OUTPUTS), feeds)
        device = template.device
        return {k: torch.from_numpy(v).to(device) for k, v in zip(OUTPUTS, outs)}


def _numpy(t: Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().float().numpy())
