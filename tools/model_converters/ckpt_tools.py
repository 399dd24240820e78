"""Shared helpers of the checkpoint converters in this folder.

Reading (with a clear error naming the file), validating the DropMAE
reference key layout (jimmy-dq/DropMAE: ``models_mae.py`` key names,
``{'model': ...}`` as saved by ``util/misc.py`` ``save_model``), printing a
summary and writing atomically. The key mapping itself lives in
:mod:`mmdropmae.models.utils.ckpt_convert`.
"""
import os
import os.path as osp
import re
import sys
import tempfile
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
if REPO not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, REPO)

from mmdropmae.models.utils.ckpt_convert import (  # noqa: E402,F401
    UNUSED_ENCODER_PREFIXES, CheckpointError, is_decoder_key,
    load_checkpoint_file, unwrap_state_dict)

#: Parameters of one transformer block (timm names), encoder and decoder.
BLOCK_KEYS = tuple(f'{m}.{p}'
                   for m in ('norm1', 'attn.qkv', 'attn.proj', 'norm2',
                             'mlp.fc1', 'mlp.fc2')
                   for p in ('weight', 'bias'))
ENCODER_KEYS = ('patch_embed.proj.weight', 'patch_embed.proj.bias',
                'pos_embed', 'temporal_pos_embed_x', 'temporal_pos_embed_z',
                'norm.weight', 'norm.bias')
#: Encoder keys an encoder-only checkpoint may lack (ImageNet MAE / timm).
OPTIONAL_ENCODER_KEYS = ('temporal_pos_embed_x', 'temporal_pos_embed_z')
DECODER_KEYS = ('decoder_embed.weight', 'decoder_embed.bias', 'mask_token',
                'decoder_pos_embed', 'decoder_temporal_pos_embed_x',
                'decoder_temporal_pos_embed_z', 'decoder_norm.weight',
                'decoder_norm.bias', 'decoder_pred.weight',
                'decoder_pred.bias')
#: Keys of our MMEngine ``DropMAE`` outside backbone/neck that carry no
#: weights of the reference layout; dropped when converting to it.
OUR_NON_REFERENCE_PREFIXES = ('data_preprocessor.', 'head.')

_BLOCK_RE = re.compile(r'^(blocks|decoder_blocks)\.(\d+)\.(.+)$')


# --------------------------------------------------------------------------
# reading and writing
# --------------------------------------------------------------------------
def state_dict_of(checkpoint: object, filename: str) -> Dict[str, Tensor]:
    """The state dict inside a loaded checkpoint (MMEngine ``state_dict``,
    reference ``model`` or bare), with a clear error if there is none."""
    if not isinstance(checkpoint, Mapping):
        raise CheckpointError(
            f'{filename}: expected a dict (a state dict, or a checkpoint '
            f'with "model" or "state_dict"), got {type(checkpoint).__name__}')
    state = unwrap_state_dict(checkpoint)
    bad = [k for k, v in state.items()
           if not isinstance(k, str) or not isinstance(v, Tensor)]
    if not state or bad:
        what = 'is empty' if not state else (
            f'has non-tensor entries {_short(bad)}')
        raise CheckpointError(
            f'{filename}: not a checkpoint of model weights: its state dict '
            f'{what} (top-level keys: {_short(list(checkpoint))})')
    return state


def save_atomic(obj: object, filename: str) -> None:
    """``torch.save`` to a temporary file next to ``filename``, then
    ``os.replace`` it, so readers never see a half-written checkpoint."""
    folder = osp.dirname(osp.abspath(filename))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{osp.basename(filename)}.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)  # mkstemp makes the file 0600: use the umask
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, filename)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def plain_tensors(state: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Detached CPU tensors (no ``Parameter`` wrappers, no autograd)."""
    return OrderedDict((k, v.detach().cpu()) for k, v in state.items())


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------
def _short(keys: Sequence, limit: int = 8) -> str:
    keys = list(keys)
    text = ', '.join(map(str, keys[:limit]))
    if len(keys) > limit:
        text += f', ... ({len(keys)} in all)'
    return '[' + text + ']'


def _block_indices(state: Mapping, name: str) -> List[int]:
    idx = set()
    for k in state:
        m = _BLOCK_RE.match(k)
        if m and m.group(1) == name:
            idx.add(int(m.group(2)))
    return sorted(idx)


def expected_keys(depth: int, decoder_depth: Optional[int],
                  optional_temporal: bool = False) -> List[str]:
    """The reference key set for the given encoder/decoder depths
    (``decoder_depth=None``: encoder only)."""
    keys = [k for k in ENCODER_KEYS
            if not (optional_temporal and k in OPTIONAL_ENCODER_KEYS)]
    keys += [f'blocks.{i}.{k}' for i in range(depth) for k in BLOCK_KEYS]
    if decoder_depth is not None:
        keys += list(DECODER_KEYS)
        keys += [f'decoder_blocks.{i}.{k}' for i in range(decoder_depth)
                 for k in BLOCK_KEYS]
    return keys


def _hint(state: Mapping) -> str:
    keys = list(state)
    if any(k.startswith(('backbone.', 'neck.')) for k in keys):
        return (' It looks like an mmdropmae (MMEngine) checkpoint; use '
                'tools/model_converters/mmdropmae_to_dropmae.py or '
                'export_encoder.py for it.')
    if keys and not any(k.startswith(('blocks.', 'patch_embed.'))
                        for k in keys):
        return ' It does not look like a ViT / DropMAE checkpoint at all.'
    return ''


def check_reference_state(state: Mapping[str, Tensor], filename: str,
                          encoder_only: bool = False
                          ) -> Tuple[Dict[str, Tensor], List[str]]:
    """Validate a state dict in the reference layout (flat timm names).

    Args:
        state: The state dict.
        filename: Named in error messages.
        encoder_only: Expect the encoder alone (no ``decoder*`` /
            ``mask_token``; the temporal embeddings may be missing, as in
            ImageNet MAE / timm checkpoints).

    Returns:
        tuple: (the state without the tolerated extras, the list of those
        extras: class token / classifier keys of other ViT checkpoints).

    Raises:
        CheckpointError: naming the file and the missing / unexpected keys.
    """
    depth = len(_block_indices(state, 'blocks'))
    dec_depth = None if encoder_only else len(
        _block_indices(state, 'decoder_blocks'))
    expected = expected_keys(depth, dec_depth, optional_temporal=encoder_only)
    allowed = set(expected) | (
        set(OPTIONAL_ENCODER_KEYS) if encoder_only else set())
    missing = [k for k in expected if k not in state]
    if depth == 0:
        missing.insert(0, 'blocks.0.*')
    if dec_depth == 0:
        missing.insert(0, 'decoder_blocks.0.*')
    dropped = [k for k in state
               if k not in allowed and k.startswith(UNUSED_ENCODER_PREFIXES)]
    unexpected = [k for k in state if k not in allowed and k not in dropped]
    if missing or unexpected:
        layout = 'an encoder in the reference (timm) layout' if encoder_only \
            else 'a DropMAE checkpoint in the reference layout'
        parts = []
        if missing:
            parts.append(f'missing keys {_short(missing)}')
        if unexpected:
            parts.append(f'unexpected keys {_short(unexpected)}')
        raise CheckpointError(f'{filename} is not {layout}: ' +
                              '; '.join(parts) + '.' + _hint(state))
    _check_shapes(state, filename)
    kept = OrderedDict((k, v) for k, v in state.items() if k not in dropped)
    return kept, dropped


def _check_shapes(state: Mapping[str, Tensor], filename: str) -> None:
    problems = []
    for key in ('pos_embed', 'decoder_pos_embed'):
        if key in state and (state[key].ndim != 3 or state[key].shape[0] != 1):
            problems.append(f'{key} has shape {tuple(state[key].shape)}, '
                            'expected (1, 1 + N, D)')
    dims = state['norm.weight'].shape[0]
    for key in ('pos_embed', 'temporal_pos_embed_x', 'temporal_pos_embed_z'):
        if key in state and state[key].shape[-1] != dims:
            problems.append(f'{key} has {state[key].shape[-1]} channels, '
                            f'the encoder {dims}')
    if problems:
        raise CheckpointError(f'{filename}: inconsistent tensors: ' +
                              '; '.join(problems))


def split_mmdropmae_state(state: Mapping[str, Tensor], filename: str
                          ) -> Tuple[Dict[str, Tensor], List[str]]:
    """Check an mmdropmae ``DropMAE`` state dict (``backbone.``/``neck.``)
    and return its reference-layout form plus the keys dropped."""
    from mmdropmae.models.utils import mmdropmae_to_reference
    ours = [k for k in state if k.startswith(('backbone.', 'neck.'))]
    dropped = [k for k in state if k.startswith(OUR_NON_REFERENCE_PREFIXES)]
    unexpected = [k for k in state if k not in ours and k not in dropped]
    misplaced = [
        k for k in ours
        if is_decoder_key(k.split('.', 1)[1]) != k.startswith('neck.')
    ]
    if not ours or unexpected or misplaced:
        if not ours:
            why = 'no backbone./neck. keys'
        elif unexpected:
            why = f'unexpected keys {_short(unexpected)}'
        else:
            why = ('decoder keys outside neck. or encoder keys inside it: '
                   f'{_short(misplaced)}')
        hint = ''
        if any(k.startswith(('blocks.', 'decoder_blocks.')) for k in state):
            hint = (' It looks like a reference DropMAE checkpoint; use '
                    'tools/model_converters/dropmae_to_mmdropmae.py.')
        raise CheckpointError(
            f'{filename} is not an mmdropmae DropMAE checkpoint: {why}.' +
            hint)
    ref = mmdropmae_to_reference(state)
    ref, extra = check_reference_state(ref, filename)
    return ref, dropped + extra


# --------------------------------------------------------------------------
# summaries
# --------------------------------------------------------------------------
def describe(state: Mapping[str, Tensor]) -> str:
    """One line on a reference-layout state dict: sizes of the parts."""
    n_params = sum(v.numel() for v in state.values())
    parts = [f'{len(state)} tensors, {n_params / 1e6:.2f}M values']
    depth = len(_block_indices(state, 'blocks'))
    if depth and 'norm.weight' in state:
        parts.append(f'encoder {depth} blocks x {state["norm.weight"].shape[0]}-d')
    dec = len(_block_indices(state, 'decoder_blocks'))
    if dec and 'decoder_norm.weight' in state:
        parts.append(f'decoder {dec} blocks x '
                     f'{state["decoder_norm.weight"].shape[0]}-d')
    if 'pos_embed' in state and 'patch_embed.proj.weight' in state:
        rows = state['pos_embed'].shape[1]
        side = int(round((rows - 1)**.5))
        patch = state['patch_embed.proj.weight'].shape[-1]
        if side * side == rows - 1:
            parts.append(f'patch {patch}, {side}x{side} grid '
                         f'({side * patch} px)')
    dtypes = sorted({str(v.dtype).replace('torch.', '') for v in state.values()})
    parts.append('/'.join(dtypes))
    return ', '.join(parts)


def print_dropped(dropped: Sequence[str], what: str) -> None:
    if dropped:
        print(f'dropped {len(dropped)} {what}: {_short(dropped, 12)}')
    else:
        print(f'dropped nothing ({what}: none)')


def mmdropmae_version() -> str:
    try:
        from mmdropmae import __version__
        return __version__
    except Exception:  # noqa: BLE001
        return 'unknown'


def run_converter(convert, description: str, src_help: str, dst_help: str,
                  argv=None) -> int:
    """Command line of a ``convert(src, dst)`` converter: parse SRC and DST,
    run it, and turn a bad input into a one-line error and exit code 1."""
    import argparse
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help=src_help)
    parser.add_argument('dst', help=dst_help)
    args = parser.parse_args(argv)
    try:
        convert(args.src, args.dst)
    except (CheckpointError, FileNotFoundError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    return 0
