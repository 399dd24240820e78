"""Key mapping between released OSTrack / DropTrack tracker checkpoints and
our :class:`~mmdropmae.models.trackers.DropTrack`.

The reference layout (botaoye/OSTrack and jimmy-dq/DropTrack,
``lib/train/trainers/base_trainer.py`` ``save_checkpoint``) is a dict whose
``net`` holds the state dict of ``lib/models/ostrack/ostrack.py``
``OSTrack``; other top-level keys (``epoch``, ``optimizer``, ``stats``,
``settings``, ``net_info``, ``constructor``, ``actor_type``, ``net_type``)
are training state. The key mapping (ours on the right):

============================================  ==================================
reference (``net``)                           ours (``state_dict``)
============================================  ==================================
``backbone.patch_embed.proj.{weight,bias}``   ``backbone.patch_embed.proj.*``
``backbone.pos_embed`` (1, 1 + N, D)          ``backbone.pos_embed`` (the encoder's table;
                                              unused at test time)
``backbone.pos_embed_z`` (1, Lz, D)           ``pos_embed_z`` (template table)
``backbone.pos_embed_x`` (1, Lx, D)           ``pos_embed_x`` (search table)
``backbone.temporal_pos_embed_{z,x}``         ``backbone.temporal_pos_embed_{z,x}``
                                              (DropTrack only; zeros for OSTrack,
                                              which adds none: exact)
``backbone.blocks.N.{norm1,attn.qkv,``        ``backbone.blocks.N.*`` (same names)
``attn.proj,norm2,mlp.fc1,mlp.fc2}.*``
``backbone.norm.{weight,bias}``               ``backbone.norm.*``
``backbone.cls_token``                        dropped (``add_cls_token`` is off in
                                              every released config)
``box_head.conv{k}_{b}.0.*`` (conv), ``.1.*``  ``head.{b}.{k-1}.0.*``, ``.1.*``,
(BatchNorm), k = 1..4, b = ctr/offset/size    k = 1..4
``box_head.conv5_{b}.{weight,bias}``          ``head.{b}.4.*``
============================================  ==================================

Layouts this tracker cannot express (a class token in the sequence,
``cls_pos_embed``; separate segment embeddings, ``*_segment_pos_embed``;
relative position biases; intermediate norms of ``RETURN_INTER``; corner
heads) are rejected with an error naming the keys.
"""
import math
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Tuple

import torch
from torch import Tensor

from .ckpt_convert import CheckpointError

__all__ = [
    'ostrack_to_mmdropmae', 'mmdropmae_to_ostrack', 'is_ostrack_tracker_state',
    'is_droptrack_state', 'infer_tracker_arch', 'load_tracker_state', 'BLOCK_PARAMS'
]

#: Parameters of one ViT block (timm names), shared by both layouts.
BLOCK_PARAMS = tuple(f'{m}.{p}' for m in ('norm1', 'attn.qkv', 'attn.proj', 'norm2', 'mlp.fc1',
                                          'mlp.fc2') for p in ('weight', 'bias'))
HEAD_BRANCHES = ('ctr', 'offset', 'size')
HEAD_OUT = dict(ctr=1, offset=2, size=2)
CONV_PARAMS = ('0.weight', '0.bias')
BN_PARAMS = ('1.weight', '1.bias', '1.running_mean', '1.running_var')
BN_OPTIONAL = ('1.num_batches_tracked', )  # FrozenBatchNorm2d has none

#: Reference keys that carry nothing at test time in the released configs.
DROPPED_KEYS = ('backbone.cls_token', 'backbone.dist_token')
#: Reference keys of features this tracker does not have.
UNSUPPORTED = (('backbone.cls_pos_embed', 'a class token in the token sequence (add_cls_token)'),
               ('backbone.template_segment_pos_embed', 'segment embeddings (SEP_SEG)'),
               ('backbone.search_segment_pos_embed', 'segment embeddings (SEP_SEG)'),
               ('relative_position', 'relative position biases (rpe)'),
               ('box_head.conv1_tl', 'a corner head (HEAD.TYPE CORNER)'),
               ('box_head.layers', 'an MLP head (HEAD.TYPE MLP)'))

_BLOCK_RE = re.compile(r'^backbone\.blocks\.(\d+)\.(.+)$')
_REF_HEAD_RE = re.compile(r'^box_head\.conv([1-5])_(ctr|offset|size)\.(.+)$')
_OUR_HEAD_RE = re.compile(r'^head\.(ctr|offset|size)\.([0-4])\.(.+)$')
_INTER_NORM_RE = re.compile(r'^backbone\.norm\d+\.')


def _short(keys, limit: int = 8) -> str:
    keys = list(keys)
    text = ', '.join(map(str, keys[:limit]))
    return '[' + text + (f', ... ({len(keys)} in all)]' if len(keys) > limit else ']')


def is_ostrack_tracker_state(state: Mapping) -> bool:
    """Whether a state dict is in the OSTrack/DropTrack ``net`` layout."""
    return any(k.startswith('box_head.') for k in state) and \
        any(k.startswith('backbone.') for k in state)


def is_droptrack_state(state: Mapping) -> bool:
    """Whether a state dict is ours (``head.*``, ``pos_embed_x``)."""
    return any(k.startswith('head.') for k in state) and any(
        k.startswith('backbone.') for k in state)


def _ref_key_to_ours(key: str) -> Optional[str]:
    """One reference key -> ours (None: dropped; KeyError: unknown)."""
    if key in DROPPED_KEYS:
        return None
    if key in ('backbone.pos_embed_z', 'backbone.pos_embed_x'):
        return key[len('backbone.'):]
    m = _REF_HEAD_RE.match(key)
    if m:
        k, branch, rest = int(m.group(1)), m.group(2), m.group(3)
        return f'head.{branch}.{k - 1}.{rest}'
    if key in ('backbone.patch_embed.proj.weight', 'backbone.patch_embed.proj.bias',
               'backbone.pos_embed', 'backbone.temporal_pos_embed_x',
               'backbone.temporal_pos_embed_z', 'backbone.norm.weight', 'backbone.norm.bias'):
        return key
    m = _BLOCK_RE.match(key)
    if m and m.group(2) in BLOCK_PARAMS:
        return key
    raise KeyError(key)


def _our_key_to_ref(key: str) -> Optional[str]:
    if key in ('pos_embed_z', 'pos_embed_x'):
        return 'backbone.' + key
    m = _OUR_HEAD_RE.match(key)
    if m:
        branch, i, rest = m.group(1), int(m.group(2)), m.group(3)
        return f'box_head.conv{i + 1}_{branch}.{rest}'
    if key.startswith('backbone.'):
        return key
    return None


def infer_tracker_arch(state: Mapping[str, Tensor]) -> dict:
    """Architecture of a reference-layout tracker state: ``embed_dims``,
    ``num_layers``, ``patch_size``, ``template_grid``, ``search_grid``
    (sides), ``head_channels``, ``temporal`` (DropTrack embeddings present),
    ``encoder_grid`` (side of ``pos_embed`` without the class slot)."""
    depth = len({int(m.group(1)) for m in map(_BLOCK_RE.match, state) if m})
    dims = int(state['backbone.norm.weight'].shape[0])
    patch = int(state['backbone.patch_embed.proj.weight'].shape[-1])

    def side(key):
        n = int(state[key].shape[1])
        s = math.isqrt(n)
        if s * s != n:
            raise CheckpointError(f'{key} has {n} rows, not a square grid')
        return s

    enc = None
    if 'backbone.pos_embed' in state:
        n = int(state['backbone.pos_embed'].shape[1])
        for extra in (1, 0):
            if math.isqrt(n - extra)**2 == n - extra:
                enc = math.isqrt(n - extra)
                break
    return dict(
        embed_dims=dims, num_layers=depth, patch_size=patch,
        template_grid=side('backbone.pos_embed_z'), search_grid=side('backbone.pos_embed_x'),
        head_channels=int(state['box_head.conv1_ctr.0.weight'].shape[0]),
        temporal='backbone.temporal_pos_embed_z' in state, encoder_grid=enc)


def _expected_ref_keys(depth: int) -> List[str]:
    keys = ['backbone.patch_embed.proj.weight', 'backbone.patch_embed.proj.bias',
            'backbone.pos_embed_z', 'backbone.pos_embed_x', 'backbone.norm.weight',
            'backbone.norm.bias']
    keys += [f'backbone.blocks.{i}.{p}' for i in range(depth) for p in BLOCK_PARAMS]
    for b in HEAD_BRANCHES:
        for k in range(1, 5):
            keys += [f'box_head.conv{k}_{b}.{p}' for p in CONV_PARAMS + BN_PARAMS]
        keys += [f'box_head.conv5_{b}.weight', f'box_head.conv5_{b}.bias']
    return keys


def _check_shapes(state: Mapping[str, Tensor], arch: dict, filename: str) -> None:
    d, p = arch['embed_dims'], arch['patch_size']
    want = {
        'backbone.patch_embed.proj.weight': (d, 3, p, p),
        'backbone.patch_embed.proj.bias': (d, ),
        'backbone.pos_embed_z': (1, arch['template_grid']**2, d),
        'backbone.pos_embed_x': (1, arch['search_grid']**2, d),
        'backbone.temporal_pos_embed_z': (1, 1, d),
        'backbone.temporal_pos_embed_x': (1, 1, d),
        'backbone.norm.weight': (d, ),
        'backbone.norm.bias': (d, ),
    }
    hidden = None
    for i in range(arch['num_layers']):
        pre = f'backbone.blocks.{i}.'
        if hidden is None:
            hidden = int(state[pre + 'mlp.fc1.weight'].shape[0])
        want.update({
            pre + 'norm1.weight': (d, ), pre + 'norm1.bias': (d, ),
            pre + 'attn.qkv.weight': (3 * d, d), pre + 'attn.qkv.bias': (3 * d, ),
            pre + 'attn.proj.weight': (d, d), pre + 'attn.proj.bias': (d, ),
            pre + 'norm2.weight': (d, ), pre + 'norm2.bias': (d, ),
            pre + 'mlp.fc1.weight': (hidden, d), pre + 'mlp.fc1.bias': (hidden, ),
            pre + 'mlp.fc2.weight': (d, hidden), pre + 'mlp.fc2.bias': (d, )})
    c = arch['head_channels']
    for b in HEAD_BRANCHES:
        chans = [d, c, c // 2, c // 4, c // 8]
        for k in range(1, 5):
            pre = f'box_head.conv{k}_{b}.'
            want[pre + '0.weight'] = (chans[k], chans[k - 1], 3, 3)
            want[pre + '0.bias'] = (chans[k], )
            for q in BN_PARAMS:
                want[pre + q] = (chans[k], )
        want[f'box_head.conv5_{b}.weight'] = (HEAD_OUT[b], chans[4], 1, 1)
        want[f'box_head.conv5_{b}.bias'] = (HEAD_OUT[b], )
    bad = [f'{k} {tuple(state[k].shape)} (expected {v})' for k, v in want.items()
           if k in state and tuple(state[k].shape) != v]
    if 'backbone.pos_embed' in state and (state['backbone.pos_embed'].ndim != 3
                                          or state['backbone.pos_embed'].shape[-1] != d):
        bad.append(f'backbone.pos_embed {tuple(state["backbone.pos_embed"].shape)} '
                   f'(expected (1, 1 + N, {d}))')
    if bad:
        raise CheckpointError(f'{filename}: tensors of unexpected shape: {_short(bad, 6)}')


def ostrack_to_mmdropmae(state: Mapping[str, Tensor], filename: str = 'checkpoint'
                         ) -> Tuple[Dict[str, Tensor], dict]:
    """Convert an OSTrack / DropTrack ``net`` state dict to ours.

    Every key is mapped, dropped (listed) or rejected; shapes are checked
    against the architecture inferred from the file
    (:func:`infer_tracker_arch`).

    Args:
        state (Mapping[str, Tensor]): The reference ``net`` state dict
            (a DistributedDataParallel ``module.`` prefix is stripped).
        filename (str): Named in errors.

    Returns:
        tuple: (our state dict, report) with report keys ``mapped``
        (list of (reference, ours) pairs), ``dropped`` (reference keys
        left out), ``added`` (our keys filled in: zero temporal embeddings
        of an OSTrack file, a missing ``num_batches_tracked``), ``arch``
        (:func:`infer_tracker_arch`) and ``source`` ('DropTrack' or
        'OSTrack').

    Raises:
        CheckpointError: Missing keys, unknown keys, unsupported features or
            inconsistent shapes, named in the message.
    """
    state = OrderedDict((k[len('module.'):] if k.startswith('module.') else k, v)
                        for k, v in state.items())
    if not is_ostrack_tracker_state(state):
        hint = ''
        if is_droptrack_state(state):
            hint = ' It is already an mmdropmae DropTrack state dict.'
        elif any(k.startswith(('blocks.', 'decoder')) for k in state):
            hint = (' It looks like a DropMAE pre-training checkpoint: use '
                    'tools/model_converters/dropmae_to_mmdropmae.py, or pass it as the '
                    "backbone's init_cfg.")
        raise CheckpointError(f'{filename} is not an OSTrack/DropTrack tracker checkpoint '
                              f'(no backbone.* and box_head.* keys in "net"; keys: '
                              f'{_short(state)}).{hint}')
    unsupported = [(k, why) for k in state for pat, why in UNSUPPORTED if pat in k]
    unsupported += [(k, 'intermediate norms (RETURN_INTER)') for k in state
                    if _INTER_NORM_RE.match(k)]
    if unsupported:
        raise CheckpointError(
            f'{filename} uses features DropTrack does not have: ' +
            '; '.join(f'{k}: {why}' for k, why in unsupported[:6]))
    depth = len({int(m.group(1)) for m in map(_BLOCK_RE.match, state) if m})
    expected = _expected_ref_keys(depth)
    missing = [k for k in expected if k not in state]
    if depth == 0:
        missing.insert(0, 'backbone.blocks.0.*')
    if missing:
        raise CheckpointError(f'{filename}: missing keys of the OSTrack/DropTrack layout: '
                              f'{_short(missing)}')
    arch = infer_tracker_arch(state)
    _check_shapes(state, arch, filename)

    out, mapped, dropped, unknown = OrderedDict(), [], [], []
    for k, v in state.items():
        try:
            ours = _ref_key_to_ours(k)
        except KeyError:
            unknown.append(k)
            continue
        if ours is None:
            dropped.append(k)
            continue
        out[ours] = v
        mapped.append((k, ours))
    if unknown:
        raise CheckpointError(f'{filename}: keys without a place in DropTrack: '
                              f'{_short(unknown)}')
    added = []
    dims = arch['embed_dims']
    for frame in ('z', 'x'):
        key = f'backbone.temporal_pos_embed_{frame}'
        if key not in out:  # OSTrack: no temporal embedding; zeros add nothing
            out[key] = torch.zeros(1, 1, dims, dtype=state['backbone.norm.weight'].dtype)
            added.append(key)
    for b in HEAD_BRANCHES:
        for i in range(4):
            key = f'head.{b}.{i}.1.num_batches_tracked'
            if key not in out:
                out[key] = torch.tensor(0, dtype=torch.long)
                added.append(key)
    if 'backbone.pos_embed' not in out:
        from ..layers import build_2d_sincos_position_embedding
        side = arch['search_grid']
        out['backbone.pos_embed'] = build_2d_sincos_position_embedding((side, side), dims)
        added.append('backbone.pos_embed')
    report = dict(mapped=mapped, dropped=dropped, added=added, arch=arch,
                  source='DropTrack' if arch['temporal'] else 'OSTrack')
    return out, report


def mmdropmae_to_ostrack(state: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Our DropTrack state dict -> the OSTrack/DropTrack ``net`` layout
    (the inverse of :func:`ostrack_to_mmdropmae`; keys outside the tracker,
    e.g. a data preprocessor's, are left out)."""
    out = OrderedDict()
    for k, v in state.items():
        ref = _our_key_to_ref(k)
        if ref is not None:
            out[ref] = v
    return out


def load_tracker_state(filename: str, verbose: bool = True) -> Tuple[Dict[str, Tensor], dict]:
    """The DropTrack state dict of a tracker checkpoint of either layout.

    An MMEngine checkpoint (``state_dict`` with ``head.*``) or a bare state
    dict of ours is returned as is; a released OSTrack / DropTrack file
    (``net`` in the reference layout, e.g. ``OSTrack_ep0100.pth.tar``) is
    read with :func:`~mmdropmae.models.utils.safe_unpickle.safe_torch_load`
    (no reference code needed) and converted.

    Returns:
        tuple: (state dict, info) with ``layout`` ('mmdropmae' or
        'ostrack'), ``stubbed`` (globals replaced by stubs), and for
        converted files the :func:`ostrack_to_mmdropmae` report.
    """
    from .safe_unpickle import safe_torch_load
    ckpt, stubbed = safe_torch_load(filename)
    if isinstance(ckpt, Mapping) and isinstance(ckpt.get('net'), Mapping):
        state, report = ostrack_to_mmdropmae(ckpt['net'], filename)
        report.update(layout='ostrack', stubbed=stubbed)
        if verbose:
            print(f'{filename}: {report["source"]} checkpoint converted on load '
                  f'({len(report["mapped"])} tensors mapped, dropped '
                  f'{report["dropped"] or "nothing"}, added {report["added"] or "nothing"})')
        return state, report
    if isinstance(ckpt, Mapping):
        state = ckpt.get('state_dict', ckpt)
        if isinstance(state, Mapping):
            state = OrderedDict((k[len('module.'):] if k.startswith('module.') else k, v)
                                for k, v in state.items())
            if is_ostrack_tracker_state(state):
                state, report = ostrack_to_mmdropmae(state, filename)
                report.update(layout='ostrack', stubbed=stubbed)
                return state, report
            if is_droptrack_state(state):
                return state, dict(layout='mmdropmae', stubbed=stubbed)
    keys = list(ckpt) if isinstance(ckpt, Mapping) else type(ckpt).__name__
    raise CheckpointError(f'{filename} is neither an mmdropmae DropTrack checkpoint '
                          '(state_dict with backbone.* and head.*) nor a released '
                          f'OSTrack/DropTrack one (net with backbone.* and box_head.*); '
                          f'top level: {keys if isinstance(keys, str) else _short(keys)}')
