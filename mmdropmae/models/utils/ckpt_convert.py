"""Key mapping between the DropMAE reference checkpoint layout and ours.

The reference layout (SPEC.md, section 1) is ``{'model': state_dict}`` with
timm ViT names: encoder keys (``patch_embed.*``, ``pos_embed``,
``temporal_pos_embed_x/z``, ``blocks.*``, ``norm.*``) and decoder keys
(``decoder_*``, ``mask_token``). Our :class:`DropMAE` keeps those names under
``backbone.`` (encoder) and ``neck.`` (decoder) and saves MMEngine
checkpoints ``{'meta': ..., 'state_dict': ...}``.
"""
from collections import OrderedDict
from typing import Dict, Mapping, Tuple

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
