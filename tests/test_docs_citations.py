"""Code and docs cite public sources (the DropMAE paper, arXiv 2304.00571,
its reference code jimmy-dq/DropMAE, DINO's eval_video_segmentation.py, the
benchmarks' toolkits, ...), never an internal specification that users do
not have."""
import re
from pathlib import Path
from typing import List

REPO = Path(__file__).resolve().parents[1]
#: What is scanned: every file under these folders, and these files.
ROOTS = ('mmdropmae', 'configs', 'tools', 'demo', 'docs', 'README.md')
#: ``SPEC.md``, ``SPEC: ...``, ``(SPEC ...``; not e.g. ``FIELD_SPECS``.
PATTERN = re.compile(rb'SPEC\.md|\bSPEC:|\(SPEC\b')


def _scanned_files() -> List[Path]:
    files = []
    for root in ROOTS:
        path = REPO / root
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += [p for p in sorted(path.rglob('*'))
                      if p.is_file() and '__pycache__' not in p.parts]
    return files


def _offenders(files: List[Path]) -> List[str]:
    """``path:line: text`` of every mention, in the text files of ``files``
    (binary files, e.g. a compiled kernel, hold no citations)."""
    hits = []
    for path in files:
        data = path.read_bytes()
        if b'\0' in data:
            continue
        for num, line in enumerate(data.splitlines(), 1):
            if PATTERN.search(line):
                rel = path.relative_to(REPO).as_posix()
                hits.append(f'{rel}:{num}: {line.decode(errors="replace").strip()}')
    return hits


def test_scan_finds_something():
    files = {p.relative_to(REPO).as_posix() for p in _scanned_files()}
    assert 'README.md' in files and 'demo/track.py' in files
    assert any(f.startswith('configs/_base_/') for f in files)
    assert PATTERN.search(b'see SPEC.md') and PATTERN.search(b'(SPEC: 7-20 frames)')
    assert not PATTERN.search(b'FIELD_SPECS: Dict') and not PATTERN.search(b'SPECIFIC')


def test_no_internal_spec_citations():
    hits = _offenders(_scanned_files())
    assert not hits, 'cite the public source instead:\n' + '\n'.join(hits)
