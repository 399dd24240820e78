"""Convert an mmdropmae (MMEngine) DropMAE checkpoint to the reference layout.

Input: a checkpoint written by ``tools/train.py`` (or by
``dropmae_to_mmdropmae.py``) with ``backbone.*`` / ``neck.*`` keys under
``state_dict``; optimizer, scheduler and message-hub entries are ignored.
Output: ``{'model': {patch_embed.*, pos_embed, temporal_pos_embed_x/z,
blocks.*, norm.*, decoder_*, mask_token}}``, the layout of the reference
DropMAE code (jimmy-dq/DropMAE, ``util/misc.py`` ``save_model``) and of its
released models, which its downstream trackers read. Tensors are copied
unchanged.

Example::

    python tools/model_converters/mmdropmae_to_dropmae.py \\
        work_dirs/pretrain_k400/epoch_1600.pth dropmae_k400_1600e_ref.pth
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from ckpt_tools import (run_converter, describe,  # noqa: E402
                        load_checkpoint_file, plain_tensors, print_dropped,
                        save_atomic, split_mmdropmae_state, state_dict_of)


def convert(src: str, dst: str) -> dict:
    """Convert ``src`` and write ``dst``; returns the written checkpoint."""
    ckpt = load_checkpoint_file(src)
    ref, dropped = split_mmdropmae_state(state_dict_of(ckpt, src), src)
    print(f'read {src}: mmdropmae DropMAE checkpoint, {describe(ref)}')
    out = dict(model=plain_tensors(ref))
    print_dropped(dropped, 'keys outside the reference layout')
    save_atomic(out, dst)
    print(f'wrote {dst}: {len(ref)} tensors in the reference layout '
          "({'model': ...})")
    return out


def main(argv=None) -> int:
    return run_converter(convert, __doc__, 'mmdropmae (MMEngine) checkpoint',
                         'output checkpoint, reference layout', argv)


if __name__ == '__main__':
    sys.exit(main())
