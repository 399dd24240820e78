"""Import directions between the packages, each checked in a fresh interpreter.

``mmdropmae.evaluation`` must not import ``mmdropmae.datasets`` or
``mmdropmae.models``; ``mmdropmae.datasets`` must not import
``mmdropmae.models`` or ``mmdropmae.evaluation``; ``mmdropmae.models`` must
not import ``mmdropmae.datasets`` or ``mmdropmae.evaluation``. The neutral
packages (``mmdropmae.structures``, ``mmdropmae.utils``) import none of the
three, and the pure metric functions import without mmcv.
"""
import json
import subprocess
import sys

import pytest

from tests.utils import REPO

PACKAGES = ('mmdropmae.datasets', 'mmdropmae.models', 'mmdropmae.evaluation')

#: Blocks ``mmcv`` and its submodules, as if it were not installed.
_BLOCK_MMCV = '''
class _BlockMMCV:
    def find_spec(self, name, path=None, target=None):
        if name == 'mmcv' or name.startswith('mmcv.'):
            raise ImportError(f'{name} is blocked by the test')
        return None


sys.meta_path.insert(0, _BlockMMCV())
'''


def _import_in_subprocess(module: str, block_mmcv: bool = False) -> set:
    """Import ``module`` in a fresh interpreter; return which of
    :data:`PACKAGES` (and of mmcv, torch, cv2) ended up in ``sys.modules``."""
    watched = list(PACKAGES) + ['mmcv', 'torch', 'cv2']
    code = '\n'.join([
        'import json', 'import sys', _BLOCK_MMCV if block_mmcv else '', f'import {module}',
        f'watched = {watched!r}',
        'print(json.dumps(sorted(m for m in watched if m in sys.modules)))'
    ])
    proc = subprocess.run([sys.executable, '-c', code], cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=300)
    assert proc.returncode == 0, f'import {module} failed:\n{proc.stderr[-3000:]}'
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


_FORBIDDEN = {
    'mmdropmae.evaluation': {'mmdropmae.datasets', 'mmdropmae.models'},
    'mmdropmae.evaluation.functional': {'mmdropmae.datasets', 'mmdropmae.models'},
    'mmdropmae.datasets': {'mmdropmae.models', 'mmdropmae.evaluation'},
    'mmdropmae.models': {'mmdropmae.datasets', 'mmdropmae.evaluation'},
    'mmdropmae.structures': set(PACKAGES),
    'mmdropmae.utils': set(PACKAGES),
}


@pytest.mark.slow
@pytest.mark.parametrize('module', [
    'mmdropmae.datasets',
    'mmdropmae.models',
    'mmdropmae.evaluation',
    'mmdropmae.structures',
    'mmdropmae.utils',
    'mmdropmae.evaluation.functional',
])
def test_import_directions(module):
    loaded = _import_in_subprocess(module)
    wrong = sorted(loaded & _FORBIDDEN[module])
    assert not wrong, f'importing {module} imports {wrong}'


@pytest.mark.slow
def test_evaluation_functional_without_mmcv():
    loaded = _import_in_subprocess('mmdropmae.evaluation.functional', block_mmcv=True)
    assert 'mmcv' not in loaded
    assert not loaded & {'mmdropmae.datasets', 'mmdropmae.models'}


def test_utils_import_is_light():
    """``import mmdropmae.utils`` loads MMEngine's scope only: the helpers
    (OpenCV, PIL) are loaded on first access."""
    loaded = _import_in_subprocess('mmdropmae.utils', block_mmcv=True)
    assert not loaded & {'torch', 'cv2', 'mmcv'}
