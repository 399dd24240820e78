"""Helpers shared by the tests."""
import glob
import importlib.util
import json
import os
import os.path as osp
import re
import subprocess
import sys
from typing import Optional, Sequence

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_script(relpath: str):
    """Import a script of the repository that is not a package module
    (``tools/...``, ``demo/...``) from its path relative to the repository
    root, e.g. ``load_script('tools/analysis_tools/eval_sot.py')``."""
    name = '_script_' + osp.splitext(relpath)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------ end-to-end runs of tools/
def tool_env(threads: Optional[int] = None) -> dict:
    """The environment of a ``tools/*.py`` subprocess: the repository on
    ``PYTHONPATH`` and, if given, ``OMP_NUM_THREADS=threads``."""
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    if threads is not None:
        env['OMP_NUM_THREADS'] = str(threads)
    return env


def run_tool(args: Sequence, cwd, threads: Optional[int] = None,
             timeout: float = 1200) -> subprocess.CompletedProcess:
    """Run ``python ARGS...`` (a script path first) in ``cwd``; fails the test
    with the output's tail when it does not exit 0."""
    proc = subprocess.run([sys.executable] + [str(a) for a in args], cwd=cwd,
                          env=tool_env(threads), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def test_tool_metric(config, checkpoint, work_dir, opts: Sequence, cwd, pattern: str,
                     threads: Optional[int] = None, timeout: float = 1200) -> float:
    """``tools/test.py CONFIG CHECKPOINT`` and the last value of the logged
    metric ``pattern`` (a regular expression with one number group)."""
    proc = run_tool([osp.join(REPO, 'tools', 'test.py'), config, checkpoint, '--work-dir',
                     work_dir] + list(opts), cwd, threads, timeout)
    found = re.findall(pattern, proc.stdout + proc.stderr)
    assert found, proc.stdout[-2000:] + proc.stderr[-3000:]
    return float(found[-1])


test_tool_metric.__test__ = False  # a helper, not a test


def untrained_checkpoint(config, path, seed: int = 0) -> None:
    """The config's model at its initialisation (``torch.manual_seed(seed)``,
    ``init_weights``), saved as a checkpoint for ``tools/test.py``."""
    import torch
    from mmengine.config import Config

    from mmdropmae.registry import MODELS
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    torch.manual_seed(seed)
    model = MODELS.build(Config.fromfile(str(config)).model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), str(path))


def logged_losses(work_dir) -> list:
    """The rows of MMEngine's ``*/vis_data/scalars.json`` under ``work_dir``
    that carry a ``loss``."""
    rows = []
    for f in sorted(glob.glob(osp.join(str(work_dir), '*', 'vis_data', 'scalars.json'))):
        with open(f) as fh:
            rows += [json.loads(x) for x in fh if x.strip()]
    return [r for r in rows if 'loss' in r]
