"""Key mapping between the DropMAE reference checkpoint layout and ours.

The reference layout (jimmy-dq/DropMAE: ``save_model`` in ``util/misc.py``,
key names of ``models_mae.py``) is ``{'model': state_dict}`` with
timm ViT names: encoder keys (``patch_embed.*``, ``pos_embed``,
``temporal_pos_embed_x/z``, ``blocks.*``, ``norm.*``) and decoder keys
(``decoder_*``, ``mask_token``). Our :class:`DropMAE` keeps those names under
``backbone.`` (encoder) and ``neck.`` (decoder) and saves MMEngine
checkpoints ``{'meta': ..., 'state_dict': ...}``.
"""
import os.path as osp
import pickle
from collections import OrderedDict
from typing import Dict, Mapping, Tuple

import torch
from torch import Tensor

#: Keys of other ViT checkpoints (timm, ImageNet MAE) that a two-frame encoder
#: without class token or classifier does not use.
UNUSED_ENCODER_PREFIXES = ('cls_token', 'head.', 'fc_norm.', 'dist_token')


def is_decoder_key(key: str) -> bool:
    """Whether a reference key belongs to the pre-training decoder."""
    return key.startswith('decoder') or key == 'mask_token'


def unwrap_state_dict(checkpoint: Mapping) -> Dict[str, Tensor]:
    """The state dict inside a checkpoint of any of the usual layouts.

    Accepts MMEngine (``state_dict``), reference DropMAE/MAE (``model``) and
    bare state dicts, and strips a DistributedDataParallel ``module.`` prefix.
    """
    state = checkpoint
    for key in ('state_dict', 'model'):
        if isinstance(state, Mapping) and key in state and isinstance(
                state[key], Mapping):
            state = state[key]
            break
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state.items())


def reference_to_mmdropmae(state: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Reference (flat timm names) -> ours (``backbone.`` / ``neck.``)."""
    out = OrderedDict()
    for k, v in state.items():
        out[('neck.' if is_decoder_key(k) else 'backbone.') + k] = v
    return out


def mmdropmae_to_reference(state: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Ours -> reference layout keys (drops anything else, e.g. head)."""
    out = OrderedDict()
    for k, v in state.items():
        for prefix in ('backbone.', 'neck.'):
            if k.startswith(prefix):
                out[k[len(prefix):]] = v
    return out


def extract_encoder(checkpoint: Mapping) -> Tuple[Dict[str, Tensor], list]:
    """Encoder weights (timm names, no prefix) of any DropMAE-like checkpoint.

    Works on our MMEngine checkpoints, reference DropMAE checkpoints, ImageNet
    MAE / timm ViT checkpoints and encoder-only exports.

    Returns:
        tuple: (encoder state dict, list of keys left out: decoder, class
        token, classifier head).
    """
    state = unwrap_state_dict(checkpoint)
    if any(k.startswith('backbone.') for k in state):
        state = OrderedDict((k[len('backbone.'):], v) for k, v in state.items()
                            if k.startswith('backbone.'))
    encoder, dropped = OrderedDict(), []
    for k, v in state.items():
        if is_decoder_key(k) or k.startswith(UNUSED_ENCODER_PREFIXES):
            dropped.append(k)
        else:
            encoder[k] = v
    return encoder, dropped


class CheckpointError(ValueError):
    """A checkpoint file that is not what a converter expects."""


def load_checkpoint_file(filename: str, verbose: bool = True) -> object:
    """``torch.load`` a checkpoint onto the CPU.

    Tries ``weights_only=True`` first. Training checkpoints also hold
    Python objects (the reference code saves its ``argparse`` arguments,
    MMEngine its message hub), which only a full unpickling reads; the
    file is then loaded again that way, with a note: only convert
    checkpoints you trust.
    """
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename}: no such checkpoint file')
    try:
        return torch.load(filename, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as first:
        # also raised for files that are no checkpoint at all
        try:
            ckpt = torch.load(filename, map_location='cpu', weights_only=False)
        except Exception as exc:  # noqa: BLE001
            raise CheckpointError(
                f'{filename}: cannot read it as a PyTorch checkpoint '
                f'({type(exc).__name__}: {exc})') from first
        if verbose:
            print(f'note: {filename} holds Python objects besides tensors '
                  '(e.g. training arguments or an MMEngine message hub); it '
                  'was unpickled in full. Only convert checkpoints you '
                  'trust.')
        return ckpt
    except Exception as exc:  # noqa: BLE001 (torch raises many kinds)
        raise CheckpointError(f'{filename}: cannot read it as a PyTorch '
                              f'checkpoint ({type(exc).__name__}: {exc})')
