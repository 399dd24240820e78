"""Consistency of the set-up and CI scripts (no installation is run)."""
import os
import os.path as osp
import re
import shutil
import stat
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _read(*parts):
    with open(osp.join(REPO, *parts), encoding='utf-8') as f:
        return f.read()


def test_install_script_uses_the_documented_pins():
    pins = {}
    for line in _read('requirements', 'mminstall.txt').splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            name, version = line.split('==')
            pins[name] = version
    script = _read('tools', 'install.sh')
    variables = dict(re.findall(r'^([A-Z0-9_]+)=(\S+)$', script, re.M))
    assert pins['torch'] == variables['TORCH_VERSION']
    assert pins['mmengine'] == variables['MMENGINE_VERSION']
    assert pins['mmcv'] == variables['MMCV_VERSION']
    assert pins['mmsegmentation'] == variables['MMSEG_VERSION']
    assert pins[variables['OPEN3D_PACKAGE']] == variables['OPEN3D_VERSION']


def test_no_unpinned_torch_in_install_requires():
    """A bare `torch` requirement would pull a multi-GB CUDA build."""
    for name in ('runtime.txt', 'tests.txt', 'optional.txt'):
        text = _read('requirements', name)
        for line in text.splitlines():
            line = line.split('#', 1)[0].strip()
            assert not re.match(r'^(torch|torchvision|mmcv)\b', line), \
                f'{name}: {line}'


def test_ci_runs_exactly_the_readme_commands():
    readme = _read('README.md')
    ci = _read('.ci', 'run')
    assert '\nbash tools/install.sh\n' in readme
    assert '\npython -m pytest tests\n' in readme
    assert re.search(r'^bash tools/install.sh$', ci, re.M)
    assert re.search(r'^python -m pytest tests$', ci, re.M)


@pytest.mark.parametrize('pytest_rc,ci_rc', [(0, 0), (1, 1), (2, 2), (5, 1)])
def test_ci_run_exit_codes(tmp_path, pytest_rc, ci_rc):
    """`.ci/run` fails when tests fail and when no test is collected."""
    (tmp_path / '.ci').mkdir()
    (tmp_path / 'tools').mkdir()
    (tmp_path / 'bin').mkdir()
    shutil.copy(osp.join(REPO, '.ci', 'run'), tmp_path / '.ci' / 'run')
    (tmp_path / 'tools' / 'install.sh').write_text('echo fake-install\n')
    fake_python = tmp_path / 'bin' / 'python'
    fake_python.write_text(f'#!/usr/bin/env bash\necho "fake $*"\n'
                           f'exit {pytest_rc}\n')
    fake_python.chmod(fake_python.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f'{tmp_path / "bin"}{os.pathsep}'
               f'{os.environ["PATH"]}')
    proc = subprocess.run(['bash', str(tmp_path / '.ci' / 'run')], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=30)
    assert proc.returncode == ci_rc, proc.stdout
    assert 'fake-install' in proc.stdout
    assert 'fake -m pytest tests' in proc.stdout
    if pytest_rc == 5:
        assert 'collected no tests' in proc.stdout


def test_setup_py_version_matches_package():
    from mmdropmae import __version__
    out = subprocess.run([sys.executable, 'setup.py', '--version'], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, timeout=60).stdout
    assert out.strip().splitlines()[-1] == __version__
