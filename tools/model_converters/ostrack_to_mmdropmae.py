"""Convert a released DropTrack / OSTrack tracker checkpoint to mmdropmae.

Input: a ``.pth.tar`` written by the reference training code
(jimmy-dq/DropTrack, botaoye/OSTrack: ``lib/train/trainers/base_trainer.py``
``save_checkpoint``): a dict whose ``net`` is the state dict of
``lib/models/ostrack/ostrack.py`` ``OSTrack`` (``backbone.*``: patch
embedding, ``pos_embed``, the template / search tables ``pos_embed_z`` /
``pos_embed_x``, DropTrack's ``temporal_pos_embed_z/x``, ``blocks.N.*``,
``norm``; ``box_head.*``: the centre predictor's conv/BN towers), next to
``epoch``, ``optimizer``, ``stats``, ``settings``, ... The pickled objects of
the reference code are read without it (classes are stubbed, only tensors
and plain containers are built: :func:`mmdropmae.models.utils.safe_torch_load`);
still, **convert only files you trust**.

Output: ``{'meta': {...}, 'state_dict': {...}}`` for
``configs/droptrack/*`` (``DropTrack``, loaded strictly by ``tools/test.py``
and ``demo/track.py``). Every key is mapped or listed as dropped; shapes are
checked, and with ``--config`` the result is loaded strictly into the
config's model (a size mismatch names the config to use). The key mapping
is in :mod:`mmdropmae.models.utils.ostrack_convert`.

Examples::

    python tools/model_converters/ostrack_to_mmdropmae.py \\
        OSTrack_got10k_100E.pth.tar checkpoints/droptrack_k700_got10k.pth \\
        --config configs/droptrack/droptrack_vit-b16_192-384_full.py
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from ckpt_tools import (CheckpointError, _short,  # noqa: E402
                        mmdropmae_version, plain_tensors, save_atomic)


def check_against_config(state, config: str, arch: dict, src: str) -> None:
    """Load ``state`` strictly into the model of ``config`` (built without
    its pre-training checkpoint); raise ``CheckpointError`` naming the
    mismatch."""
    from mmengine.config import Config

    from mmdropmae.registry import MODELS
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    ours = model.state_dict()
    missing = [k for k in ours if k not in state]
    unexpected = [k for k in state if k not in ours]
    shapes = [f'{k}: file {tuple(state[k].shape)}, config {tuple(v.shape)}'
              for k, v in ours.items() if k in state and k != 'backbone.pos_embed'
              and tuple(state[k].shape) != tuple(v.shape)]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f'missing {_short(missing)}')
        if unexpected:
            parts.append(f'unexpected {_short(unexpected)}')
        if shapes:
            parts.append(f'shapes differ {_short(shapes, 4)}')
        p = arch['patch_size']
        raise CheckpointError(
            f'{src} does not fit {config}: ' + '; '.join(parts) + '. The file is a '
            f'{arch["embed_dims"]}-d x {arch["num_layers"]} ViT with a '
            f'{arch["template_grid"] * p} px template and a {arch["search_grid"] * p} px '
            'search region (e.g. 192/384: configs/droptrack/droptrack_vit-b16_192-384_full.py;'
            ' 128/256: droptrack_vit-b16_128-256_*.py).')
    print(f'checked: loads strictly into the model of {config}')


def convert(src: str, dst: str, config: str = None) -> dict:
    """Convert ``src`` and write ``dst``; returns the written checkpoint."""
    from collections.abc import Mapping

    from mmdropmae.models.utils import ostrack_to_mmdropmae, safe_torch_load
    try:
        ckpt, stubbed = safe_torch_load(src)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 (torch / pickle raise many kinds)
        raise CheckpointError(f'{src}: cannot read it as a PyTorch checkpoint '
                              f'({type(exc).__name__}: {exc})') from None
    if not isinstance(ckpt, Mapping) or not isinstance(ckpt.get('net'), Mapping):
        top = _short(list(ckpt)) if isinstance(ckpt, Mapping) else type(ckpt).__name__
        raise CheckpointError(
            f'{src}: not a released OSTrack/DropTrack checkpoint: expected a dict with '
            f'the network weights under "net" (top level: {top}). DropMAE pre-training '
            'checkpoints ("model") go through dropmae_to_mmdropmae.py.')
    state, report = ostrack_to_mmdropmae(ckpt['net'], src)
    arch = report['arch']
    p = arch['patch_size']
    others = [k for k in ckpt if k != 'net']
    print(f'read {src}: {report["source"]} tracker, ViT {arch["embed_dims"]}-d x '
          f'{arch["num_layers"]}, patch {p}, template {arch["template_grid"] * p} px, search '
          f'{arch["search_grid"] * p} px, head {arch["head_channels"]} channels; other '
          f'top-level entries ignored: {others or "none"}')
    if stubbed:
        print(f'note: objects of the reference training code were stubbed, not built: '
              f'{_short(stubbed)} (only convert files you trust)')
    print(f'mapped {len(report["mapped"])} tensors; dropped '
          f'{report["dropped"] or "nothing"}; added {report["added"] or "nothing"}')
    if config:
        check_against_config(state, config, arch, src)
    meta = dict(mmdropmae_version=mmdropmae_version(), converted_from=osp.abspath(src),
                source_layout=f'{report["source"].lower()}-reference', arch=arch)
    if isinstance(ckpt.get('epoch'), int):
        meta['epoch'] = ckpt['epoch']
    out = dict(meta=meta, state_dict=plain_tensors(state))
    save_atomic(out, dst)
    print(f'wrote {dst}: {len(state)} tensors (DropTrack: backbone.*, pos_embed_z/x, head.*)')
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='released OSTrack / DropTrack checkpoint (.pth.tar)')
    parser.add_argument('dst', help='output mmdropmae checkpoint')
    parser.add_argument('--config', help='a configs/droptrack/* config to check the result '
                        'against (strict load)')
    args = parser.parse_args(argv)
    try:
        convert(args.src, args.dst, args.config)
    except (CheckpointError, FileNotFoundError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
