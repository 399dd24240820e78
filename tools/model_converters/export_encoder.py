"""Export the encoder of a DropMAE checkpoint for downstream models.

Input: any of a reference DropMAE checkpoint (``{'model': ...}``), an
mmdropmae / MMEngine checkpoint (``backbone.*`` keys; ``neck.*``, heads and
training state are left out), an earlier export, or an ImageNet MAE / timm
ViT checkpoint. Output: the encoder alone with the reference (timm) key
names -- ``patch_embed.*``, ``pos_embed``, ``temporal_pos_embed_x/z``,
``blocks.*``, ``norm.*`` -- without ``decoder*`` / ``mask_token`` (and
without class token / classifier keys), as the reference trackers and
:class:`VisionTransformer` (``init_cfg=dict(type='Pretrained',
checkpoint=...)``) load it. The position embedding is interpolated to the
model's grid on load; ``--img-size`` does it here instead.

Examples::

    # {'model': encoder}, the reference/downstream layout
    python tools/model_converters/export_encoder.py \\
        work_dirs/pretrain_k700/epoch_800.pth dropmae_k700_encoder.pth
    # {'meta': ..., 'state_dict': {backbone.<key>: ...}} for MMEngine's
    # load_checkpoint / load_from, pos_embed resized for 256 px inputs
    python tools/model_converters/export_encoder.py SRC DST \\
        --format mmengine --prefix backbone. --img-size 256
"""
import argparse
import math
import os.path as osp
import sys
from collections import OrderedDict

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from ckpt_tools import (CheckpointError, check_reference_state,  # noqa: E402
                        describe, load_checkpoint_file, mmdropmae_version,
                        plain_tensors, print_dropped, save_atomic,
                        state_dict_of)


def _size(text: str):
    try:
        vals = [int(v) for v in text.lower().split('x')]
    except ValueError:
        vals = []
    if len(vals) not in (1, 2) or min(vals) <= 0:
        raise argparse.ArgumentTypeError(
            f'image size must be N or HxW, got {text!r}')
    return (vals[0], vals[-1])


def resize_encoder_pos_embed(state, img_size, filename):
    """Interpolate ``pos_embed`` (1, 1 + S*S, D) to ``img_size``'s grid."""
    from mmdropmae.models import resize_pos_embed
    patch = state['patch_embed.proj.weight'].shape[-1]
    if img_size[0] % patch or img_size[1] % patch:
        raise CheckpointError(f'--img-size {img_size} is not a multiple of '
                              f'the patch size {patch} of {filename}')
    rows = state['pos_embed'].shape[1]
    side = math.isqrt(rows - 1)
    if side * side != rows - 1:
        raise CheckpointError(
            f'{filename}: cannot infer the patch grid of pos_embed '
            f'{tuple(state["pos_embed"].shape)} (expected 1 + S*S rows)')
    dst = (img_size[0] // patch, img_size[1] // patch)
    state['pos_embed'] = resize_pos_embed(state['pos_embed'].float(),
                                          (side, side), dst, 1).to(
                                              state['pos_embed'].dtype)
    print(f'resized pos_embed from a {side}x{side} to a {dst[0]}x{dst[1]} '
          'grid')
    return state


def extract(ckpt, src):
    """(encoder state in timm names, keys left out, source layout name)."""
    from mmdropmae.models.utils import extract_encoder
    state = state_dict_of(ckpt, src)
    if any(k.startswith('backbone.') for k in state):
        layout = 'mmdropmae (MMEngine)'
        enc = OrderedDict((k[len('backbone.'):], v) for k, v in state.items()
                          if k.startswith('backbone.'))
        left_out = [k for k in state if not k.startswith('backbone.')]
        enc, extra = check_reference_state(enc, src, encoder_only=True)
        return enc, left_out + extra, layout
    enc, left_out = extract_encoder(state)
    layout = 'reference DropMAE' if left_out else 'encoder-only'
    enc, extra = check_reference_state(enc, src, encoder_only=True)
    return enc, left_out + extra, layout


def export(src, dst, prefix='', fmt='reference', img_size=None) -> dict:
    ckpt = load_checkpoint_file(src)
    enc, left_out, layout = extract(ckpt, src)
    print(f'read {src}: {layout} checkpoint')
    missing_t = [k for k in ('temporal_pos_embed_x', 'temporal_pos_embed_z')
                 if k not in enc]
    if missing_t:
        print(f'warning: {src} has no {missing_t} (not a two-frame DropMAE '
              'encoder); downstream models keep their own initial values')
    enc = plain_tensors(enc)
    if img_size is not None:
        enc = resize_encoder_pos_embed(enc, img_size, src)
    print(f'encoder: {describe(enc)}')
    print_dropped(left_out, 'non-encoder keys (decoder, mask token, class '
                  'token, heads)')
    enc = OrderedDict((prefix + k, v) for k, v in enc.items())
    if fmt == 'reference':
        out = dict(model=enc)
    else:
        out = dict(
            meta=dict(
                mmdropmae_version=mmdropmae_version(),
                converted_from=osp.abspath(src),
                content='encoder', key_prefix=prefix),
            state_dict=enc)
    save_atomic(out, dst)
    print(f'wrote {dst}: {len(enc)} encoder tensors'
          + (f' with key prefix {prefix!r}' if prefix else '') +
          (" as {'model': ...}" if fmt == 'reference' else
           " as {'meta': ..., 'state_dict': ...}"))
    return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='DropMAE checkpoint (any layout)')
    parser.add_argument('dst', help='output encoder checkpoint')
    parser.add_argument(
        '--prefix', default='',
        help="string put before every key, e.g. 'backbone.' (default none)")
    parser.add_argument(
        '--format', choices=['reference', 'mmengine'], default='reference',
        help="'reference': {'model': state} (default); 'mmengine': "
        "{'meta': ..., 'state_dict': state}")
    parser.add_argument(
        '--img-size', type=_size, default=None,
        help='interpolate pos_embed to this input size (N or HxW)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        export(args.src, args.dst, args.prefix, args.format, args.img_size)
    except (CheckpointError, FileNotFoundError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
