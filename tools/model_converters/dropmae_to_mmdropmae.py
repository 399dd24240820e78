"""Convert a reference DropMAE checkpoint to an mmdropmae (MMEngine) one.

The reference layout (jimmy-dq/DropMAE: ``util/misc.py`` ``save_model``,
key names of ``models_mae.py``) is
``{'model': {patch_embed.*, pos_embed, temporal_pos_embed_x/z, blocks.*,
norm.*, decoder_*, mask_token}, ...}``. The output is
``{'meta': {...}, 'state_dict': {backbone.<encoder key>, neck.<decoder key>}}``,
which ``DropMAE`` (e.g. ``configs/dropmae/pretrain_k400.py``) loads strictly,
e.g. with ``load_from`` or ``tools/test.py``. Tensors are copied unchanged.

Example::

    python tools/model_converters/dropmae_to_mmdropmae.py \\
        K700-800E.pth work_dirs/dropmae_k700_800e.pth
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from ckpt_tools import (run_converter, check_reference_state,  # noqa: E402
                        describe, load_checkpoint_file, mmdropmae_version,
                        plain_tensors, print_dropped, save_atomic,
                        state_dict_of)


def convert(src: str, dst: str) -> dict:
    """Convert ``src`` and write ``dst``; returns the written checkpoint."""
    from mmdropmae.models.utils import reference_to_mmdropmae
    ckpt = load_checkpoint_file(src)
    state, dropped = check_reference_state(state_dict_of(ckpt, src), src)
    print(f'read {src}: reference DropMAE layout, {describe(state)}')
    meta = dict(
        mmdropmae_version=mmdropmae_version(),
        converted_from=osp.abspath(src),
        source_layout='dropmae-reference')
    if isinstance(ckpt, dict) and isinstance(ckpt.get('epoch'), int):
        meta['epoch'] = ckpt['epoch']
    out = dict(meta=meta,
               state_dict=reference_to_mmdropmae(plain_tensors(state)))
    print_dropped(dropped, 'keys without a place in DropMAE (class token / '
                  'classifier)')
    save_atomic(out, dst)
    print(f'wrote {dst}: {len(out["state_dict"])} tensors '
          '(backbone.* encoder, neck.* decoder)')
    return out


def main(argv=None) -> int:
    return run_converter(convert, __doc__, 'reference DropMAE checkpoint',
                         'output mmdropmae checkpoint', argv)


if __name__ == '__main__':
    sys.exit(main())
