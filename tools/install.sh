#!/usr/bin/env bash
# The one set-up command of mmdropmae (see README.md):
#
#     bash tools/install.sh
#
# Installs, into the current Python (no virtual environment is created):
#   1. Debian packages libusb-1.0-0 (needed by open3d) and ffmpeg
#   2. torch 2.13.0 (the CPU wheel this machine image carries)
#   3. mmengine 0.10.7
#   4. requirements/runtime.txt + tests.txt (PyAV, decord, numpy, pytest, ...)
#   5. mmcv 2.1.0, FULL build with the C++ ops (mmcv._ext) compiled from source
#      against the installed torch (no prebuilt wheel exists for torch 2.13)
#   6. mmsegmentation 1.2.2
#   7. open3d (the open3d-cpu wheel); 7b. onnx + onnxruntime (ONNX export and
#      the tracker's onnxruntime backend; requirements/optional.txt)
#   8. this repository as an editable package (pip install -e . --no-deps)
#
# Idempotent: every step first checks what is installed (with the right
# version, importable) and is skipped when it is; a second run takes seconds.
# Every pip command that could resolve torch pins torch==2.13.0, so pip can
# never replace it with a multi-GB CUDA build.
#
# Environment: PYTHON (default: python), MAX_JOBS (mmcv build jobs, default:
# nproc), SKIP_APT=1 to skip the Debian packages (e.g. not root, no sudo).
set -euo pipefail

TORCH_VERSION=2.13.0
MMENGINE_VERSION=0.10.7
MMCV_VERSION=2.1.0
MMSEG_VERSION=1.2.2
OPEN3D_PACKAGE=open3d-cpu
OPEN3D_VERSION=0.20.0
APT_PACKAGES=(libusb-1.0-0 ffmpeg)
ONNX_VERSION=1.23.2         # optional extra (requirements/optional.txt): ONNX export
ONNXRUNTIME_VERSION=1.31.1  # and the onnxruntime backend of the tracker

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python}
START=$SECONDS

log() { echo "[install] $*"; }
run() { echo "[install] + $*"; CHANGED=1; "$@"; }
die() { echo "[install] ERROR: $*" >&2; exit 1; }
trap 'echo "[install] FAILED (line $LINENO, exit $?) after $((SECONDS - START)) s" >&2' ERR

cd "$REPO_DIR"
command -v "$PYTHON" >/dev/null || die "no '$PYTHON' on PATH (set PYTHON=...)"
log "python: $(command -v "$PYTHON") ($("$PYTHON" -c 'import sys; print(sys.version.split()[0])'))"
PIP=("$PYTHON" -m pip install --no-input --progress-bar off)
TORCH_PIN="torch==${TORCH_VERSION}"

# ---------------------------------------------------------------- status ----
# One Python process checks every component: "NAME ok" or "NAME missing WHY".
check_all() {
    "$PYTHON" - "$@" <<'PYEOF'
import importlib
import importlib.metadata as md
import os
import sys

torch_v, mmengine_v, mmcv_v, mmseg_v, repo = sys.argv[1:6]
reqs = sys.argv[6:]


def version(dist):
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def check(name, fn):
    try:
        why = fn()
    except Exception as e:  # noqa: BLE001 - report anything
        why = f'{type(e).__name__}: {e}'.splitlines()[0]
    print(name, 'ok' if not why else f'missing {why}', flush=True)


def need(dist, want, *modules):
    def fn():
        have = version(dist)
        if have is None or (want and have.split('+')[0] != want):
            return f'{dist} {have} installed, {want or "any"} wanted'
        for m in modules:
            importlib.import_module(m)
    return fn


def mmcv_full():
    why = need('mmcv', mmcv_v, 'mmcv', 'mmcv.ops')()
    if why:
        return why
    from mmcv.utils import ext_loader
    ext_loader.load_ext('_ext', ['nms', 'roi_align_forward'])


def open3d():
    importlib.import_module('open3d')


def requirements():
    try:
        from packaging.requirements import Requirement
    except ImportError:
        from pip._vendor.packaging.requirements import Requirement
    bad = []
    for line in reqs:
        r = Requirement(line)
        if r.marker is not None and not r.marker.evaluate():
            continue
        have = version(r.name)
        if have is None or (r.specifier and not r.specifier.contains(
                have, prereleases=True)):
            bad.append(f'{line} (have {have})')
    return ', '.join(bad)


def package():
    import mmdropmae
    path = os.path.realpath(os.path.dirname(mmdropmae.__file__))
    if version('mmdropmae') is None:
        return 'mmdropmae is importable but not installed'
    if path != os.path.realpath(os.path.join(repo, 'mmdropmae')):
        return f'mmdropmae is imported from {path}'
    if os.name == 'posix' and not os.environ.get('MMDROPMAE_NO_EXT'):
        try:  # the fused ASAD kernel, compiled by `pip install -e .`
            importlib.import_module('mmdropmae.models.layers._asad_cpu')
        except ImportError as e:
            return f'the ASAD C kernel is not built ({e})'


check('torch', need('torch', torch_v, 'torch'))
check('mmengine', need('mmengine', mmengine_v, 'mmengine'))
check('mmcv', mmcv_full)
check('mmseg', need('mmsegmentation', mmseg_v, 'mmseg', 'mmseg.models'))
check('open3d', open3d)
check('requirements', requirements)
check('mmdropmae', package)
versions = []
for dist in ('torch', 'mmengine', 'mmcv', 'mmsegmentation', 'open3d',
             'open3d-cpu', 'numpy', 'opencv-python', 'av', 'decord',
             'mmdropmae'):
    if version(dist):
        versions.append(f'{dist} {version(dist)}')
print('versions', ', '.join(versions))
PYEOF
}

REQ_LINES=()
while IFS= read -r line; do
    line=${line%%#*}
    line=$(echo "$line" | xargs)
    [[ -z "$line" || "$line" == -* ]] && continue
    REQ_LINES+=("$line")
done < <(cat requirements/runtime.txt requirements/tests.txt)

STATUS=""
CHANGED=0
refresh_status() {
    # run from a neutral directory so that ./mmdropmae does not shadow the
    # installed package
    STATUS=$(cd / && check_all "$TORCH_VERSION" "$MMENGINE_VERSION" \
        "$MMCV_VERSION" "$MMSEG_VERSION" "$REPO_DIR" "${REQ_LINES[@]}" \
        2>/dev/null) || true
}
is_ok() { grep -q "^$1 ok$" <<<"$STATUS"; }
why() { grep "^$1 " <<<"$STATUS" | cut -d' ' -f2- || echo "unknown"; }

# --------------------------------------------------------- 1. apt packages --
if [[ "${SKIP_APT:-0}" == 1 ]]; then
    log "1/8 system packages: skipped (SKIP_APT=1)"
else
    missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        log "1/8 system packages: ${APT_PACKAGES[*]} already installed"
    else
        log "1/8 system packages: installing ${missing[*]}"
        SUDO=()
        if [[ $(id -u) != 0 ]]; then
            command -v sudo >/dev/null || die "not root and no sudo: install ${missing[*]} (apt-get) or set SKIP_APT=1"
            SUDO=(sudo)
        fi
        run "${SUDO[@]}" apt-get update -q
        run "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            --no-install-recommends "${missing[@]}"
    fi
fi

refresh_status

# ----------------------------------------------------------------- 2. torch --
if is_ok torch; then
    log "2/8 torch ${TORCH_VERSION}: already installed"
else
    log "2/8 torch ${TORCH_VERSION}: $(why torch)"
    run "${PIP[@]}" "$TORCH_PIN"
fi

# -------------------------------------------------------------- 3. mmengine --
if is_ok mmengine; then
    log "3/8 mmengine ${MMENGINE_VERSION}: already installed"
else
    log "3/8 mmengine ${MMENGINE_VERSION}: $(why mmengine)"
    run "${PIP[@]}" "mmengine==${MMENGINE_VERSION}" "$TORCH_PIN"
fi

# ------------------------------------------- 4. Python requirements ------
if is_ok requirements; then
    log "4/8 requirements/{runtime,tests}.txt: already satisfied"
else
    log "4/8 requirements/{runtime,tests}.txt: $(why requirements)"
    run "${PIP[@]}" -r requirements/runtime.txt -r requirements/tests.txt \
        "$TORCH_PIN" "mmengine==${MMENGINE_VERSION}"
fi
# ------------------------------------------------------------------ 5. mmcv --
if is_ok mmcv; then
    log "5/8 mmcv ${MMCV_VERSION} with ops: already installed"
else
    log "5/8 mmcv ${MMCV_VERSION} with ops: $(why mmcv)"
    log "    compiling mmcv's C++ ops from source against torch ${TORCH_VERSION}"
    log "    (about 13 min on 2 cores, once; see README.md 'Why a full mmcv build')"
    NO_CACHE=()
    if "$PYTHON" -m pip show -q mmcv-lite >/dev/null 2>&1; then
        run "$PYTHON" -m pip uninstall -y mmcv-lite   # same module name, no ops
    fi
    if "$PYTHON" -m pip show -q mmcv >/dev/null 2>&1; then
        # a wrong version, or 2.1.0 built without ops: rebuild, and do not
        # reuse pip's cached wheel (it may be the one without ops)
        run "$PYTHON" -m pip uninstall -y mmcv
        NO_CACHE=(--no-cache-dir)
    fi
    # mmcv 2.1.0's setup.py imports pkg_resources (gone from setuptools >= 81)
    # and torch: build without isolation, so that it sees the installed torch,
    # with setuptools < 70. No torch pin in these two commands: torch 2.13
    # declares setuptools>=77.0.3, which would conflict with the build
    # requirement, and neither command can resolve torch (mmcv does not declare
    # it).
    run "${PIP[@]}" 'setuptools<70' wheel ninja
    mmcv_start=$SECONDS
    run env MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
        "${PIP[@]}" --no-build-isolation "${NO_CACHE[@]}" "mmcv==${MMCV_VERSION}"
    log "    mmcv build + install took $((SECONDS - mmcv_start)) s"
    # give torch back the setuptools it declares
    run "${PIP[@]}" 'setuptools>=77.0.3' "$TORCH_PIN"
fi

# ----------------------------------------------------------------- 6. mmseg --
if is_ok mmseg; then
    log "6/8 mmsegmentation ${MMSEG_VERSION}: already installed"
else
    log "6/8 mmsegmentation ${MMSEG_VERSION}: $(why mmseg)"
    run "${PIP[@]}" "mmsegmentation==${MMSEG_VERSION}" "$TORCH_PIN" \
        "mmengine==${MMENGINE_VERSION}"
fi

# ---------------------------------------------------------------- 7. open3d --
if is_ok open3d; then
    log "7/8 open3d: already installed"
else
    log "7/8 open3d: $(why open3d)"
    run "${PIP[@]}" "${OPEN3D_PACKAGE}==${OPEN3D_VERSION}" "$TORCH_PIN"
fi

# ------------------------------------- 7b. onnx + onnxruntime (optional) --
# Neither depends on torch; the torch pin keeps pip from touching it anyway.
if "$PYTHON" - "$ONNX_VERSION" "$ONNXRUNTIME_VERSION" 2>/dev/null <<'PYEOF'
import importlib.metadata as md, sys
import onnx, onnxruntime  # noqa: F401
sys.exit(0 if (md.version('onnx'), md.version('onnxruntime')) == tuple(sys.argv[1:3]) else 1)
PYEOF
then
    log "7b  onnx ${ONNX_VERSION}, onnxruntime ${ONNXRUNTIME_VERSION}: already installed"
else
    log "7b  onnx ${ONNX_VERSION}, onnxruntime ${ONNXRUNTIME_VERSION}: installing"
    run "${PIP[@]}" "onnx==${ONNX_VERSION}" "onnxruntime==${ONNXRUNTIME_VERSION}" "$TORCH_PIN"
    "$PYTHON" -c 'import onnx, onnxruntime' || die "onnx / onnxruntime do not import"
fi

# -------------------------------- 7c. nuscenes-devkit (optional, --no-deps) --
# The devkit declares numpy<2 (we run numpy 2): installed without dependency
# resolution, with the few packages its imports need (requirements/nuscenes.txt).
if "$PYTHON" -c 'import nuscenes.nuscenes, nuscenes.utils.splits, pyquaternion' 2>/dev/null; then
    log "7c  nuscenes-devkit: already installed"
else
    log "7c  nuscenes-devkit (requirements/nuscenes.txt): installing with --no-deps"
    run "${PIP[@]}" --no-deps -r "$REPO_DIR/requirements/nuscenes.txt"
    "$PYTHON" -c 'import nuscenes.nuscenes, nuscenes.utils.splits' \
        || die "nuscenes-devkit does not import"
fi

# ---------------------------------------------- 8. this package (editable) --
if is_ok mmdropmae; then
    log "8/8 mmdropmae (editable, ${REPO_DIR}): already installed"
else
    log "8/8 mmdropmae: $(why mmdropmae)"
    run "${PIP[@]}" --no-deps --no-build-isolation --use-pep517 -e "$REPO_DIR"
fi

# ---------------------------------------------------------------- verify ----
if ((CHANGED)); then refresh_status; fi
n_ok=$(grep -c ' ok$' <<<"$STATUS" || true)
if [[ "$n_ok" != 7 ]]; then
    echo "$STATUS" >&2
    die "only $n_ok of 7 components check out after installation"
fi
log "$(grep '^versions ' <<<"$STATUS")"
log "done in $((SECONDS - START)) s"
