"""Helpers shared by the tests."""
import importlib.util
import os.path as osp

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
