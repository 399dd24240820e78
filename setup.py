#!/usr/bin/env python
"""mmdropmae: DropMAE video MAE pre-training and temporal-matching tasks.

Install (after the PyTorch/OpenMMLab stack, see ``tools/install.sh``)::

    pip install -e . --no-deps     # what tools/install.sh does
    pip install -e .               # also installs requirements/runtime.txt

PyTorch, MMCV and MMSegmentation are NOT in ``install_requires``: an
unpinned ``torch`` requirement makes pip download a multi-GB CUDA build, and
MMCV 2.1.0 has no wheel for torch 2.13 and must be compiled against the
installed torch (``--no-build-isolation``). ``tools/install.sh`` installs them
in the right order with the versions pinned in ``requirements/mminstall.txt``
(deliberately not an extra: ``pip install mmcv==2.1.0`` in pip's isolated
build environment cannot see the installed torch).
"""
import os
import os.path as osp
import re

from setuptools import Extension, find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version():
    with open(osp.join(HERE, 'mmdropmae', 'version.py'), encoding='utf-8') as f:
        match = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", f.read(),
                          re.M)
    if match is None:
        raise RuntimeError('__version__ not found in mmdropmae/version.py')
    return match.group(1)


def parse_requirements(fname):
    """Read a requirements file: skip comments, blank lines and ``-r``/``-c``
    options; keep version specifiers and environment markers."""
    path = osp.join(HERE, fname)
    if not osp.exists(path):
        return []
    reqs = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-'):
                reqs.append(line)
    return reqs


def ext_modules():
    """The fused CPU kernel of the ASAD drop mask (plain C, no torch headers).

    Optional: without a C compiler the install still succeeds and
    ``asad_drop_mask`` falls back to its PyTorch implementation.
    ``-ffast-math`` lets GCC vectorise ``expf``/``logf`` through glibc's
    libmvec; the kernel only feeds them finite values.
    """
    if os.name != 'posix' or os.environ.get('MMDROPMAE_NO_EXT'):
        return []
    return [
        Extension(
            'mmdropmae.models.layers._asad_cpu',
            sources=['mmdropmae/models/layers/csrc/asad_cpu.c'],
            extra_compile_args=[
                '-O3', '-ffast-math', '-fno-strict-aliasing', '-pthread'
            ],
            extra_link_args=['-pthread'],
            libraries=['m'],
            optional=True)
    ]


def readme():
    path = osp.join(HERE, 'README.md')
    if not osp.exists(path):
        return ''
    with open(path, encoding='utf-8') as f:
        return f.read()


if __name__ == '__main__':
    setup(
        name='mmdropmae',
        version=get_version(),
        description='DropMAE: masked autoencoders with spatial-attention '
        'dropout for temporal matching, as an OpenMMLab-style toolbox',
        long_description=readme(),
        long_description_content_type='text/markdown',
        keywords='computer vision, self-supervised learning, video, '
        'masked autoencoder, tracking',
        packages=find_packages(exclude=('configs', 'tools', 'demo', 'tests',
                                        'tests.*', 'docs')),
        include_package_data=True,
        python_requires='>=3.8',
        classifiers=[
            'Development Status :: 3 - Alpha',
            'License :: OSI Approved :: Apache Software License',
            'Operating System :: OS Independent',
            'Programming Language :: Python :: 3',
            'Programming Language :: Python :: 3.11',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
        ],
        license='Apache License 2.0',
        install_requires=parse_requirements('requirements/runtime.txt'),
        extras_require={
            'tests': parse_requirements('requirements/tests.txt'),
            'optional': parse_requirements('requirements/optional.txt'),
        },
        ext_modules=ext_modules(),
        zip_safe=False)
