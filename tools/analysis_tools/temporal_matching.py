"""What a pre-trained DropMAE / TwinMAE decoder attends to, on real videos.

Draws frame pairs from a folder of videos through the config's training
pipeline (fixed seed; the same pairs and the same random masks for every
model), runs masked reconstruction in eval mode (ASAD off) with the
decoder attention recorded, and writes to ``--out-dir``:

- the paper's Fig. 4: the average attention mass a decoder query puts on
  its own frame (within) and on the other frame (between), per decoder
  layer: a printed table, ``attention_per_layer.csv`` (columns ``model,
  layer, within, between, num_pairs``; one row per model and layer) and
  ``attention_per_layer.png`` (models side by side);
- Fig. 5: ``f_tem_{i}.png``, frames x and z of pair ``i`` with the temporal
  matching score f_tem of every token of the last decoder layer
  (max attention to the other frame, mean over heads) upsampled and
  overlaid, one row per model;
- Fig. 2: ``reconstruction.png``, frame / masked frame / reconstruction
  (visible patches pasted back) of x and z for the first pairs, per model;
- ``summary.json``: the numbers above, the mean masked reconstruction
  loss and the files / frame indices of the visualised pairs.

Checkpoints may be mmdropmae (MMEngine) ones or reference DropMAE ones
(``{'model': ...}``); they need the decoder (not an encoder-only export).

Examples::

    python tools/analysis_tools/temporal_matching.py \\
        configs/dropmae/pretrain_tiny_synthetic.py work_dirs/tiny/epoch_20.pth \\
        --data-root data/synthetic_videos --out-dir work_dirs/tiny/analysis
    # DropMAE vs TwinMAE side by side (the paper's Fig. 4)
    python tools/analysis_tools/temporal_matching.py \\
        configs/dropmae/pretrain_k400.py dropmae.pth --data-root K400/val \\
        --compare configs/dropmae/twinmae_pretrain_k400.py twinmae.pth \\
        --labels DropMAE TwinMAE
"""
import argparse
import csv
import json
import os
import os.path as osp
import sys
from collections import OrderedDict

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
for _path in (REPO, osp.join(REPO, 'tools', 'model_converters')):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import matplotlib  # noqa: E402

matplotlib.use('Agg')

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import set_random_seed  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

from ckpt_tools import (CheckpointError, load_checkpoint_file,  # noqa: E402
                        state_dict_of)

RECON_COLUMNS = ('x', 'masked x', 'reconstructed x', 'z', 'masked z',
                 'reconstructed z')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='model config (a DropMAE/TwinMAE '
                        'pre-training config)')
    parser.add_argument('checkpoint', help='checkpoint with the decoder')
    parser.add_argument('--data-root', required=True,
                        help='folder of videos (class sub-folders or flat)')
    parser.add_argument('--ann-file', default='',
                        help='optional list of videos relative to '
                        '--data-root (default: scan the folder)')
    parser.add_argument('--num-pairs', type=int, default=64,
                        help='frame pairs averaged over (default 64)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--num-vis', type=int, default=4,
                        help='pairs drawn in f_tem_{i}.png and '
                        'reconstruction.png (default 4)')
    parser.add_argument('--out-dir', default='work_dirs/temporal_matching')
    parser.add_argument(
        '--compare', nargs=2, action='append', default=[],
        metavar=('CONFIG', 'CHECKPOINT'),
        help='another model to compare with (repeatable)')
    parser.add_argument(
        '--labels', nargs='+', default=None,
        help='one name per model (default: the checkpoint file names)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='config overrides (key=value), applied to every config')
    args = parser.parse_args(argv)
    models = [(args.config, args.checkpoint)] + [tuple(c) for c in
                                                 args.compare]
    if args.labels is None:
        labels = [osp.splitext(osp.basename(ckpt))[0] for _, ckpt in models]
        if len(set(labels)) < len(labels):
            labels = [f'{i}:{name}' for i, name in enumerate(labels)]
        args.labels = labels
    if len(args.labels) != len(models):
        parser.error(f'--labels needs one name per model ({len(models)}), '
                     f'got {len(args.labels)}')
    if len(set(args.labels)) != len(args.labels):
        parser.error(f'--labels must be distinct, got {args.labels}')
    for name in ('num_pairs', 'batch_size'):
        if getattr(args, name) <= 0:
            parser.error(f'--{name.replace("_", "-")} must be positive')
    if args.num_vis < 0:
        parser.error('--num-vis must be >= 0')
    args.models = models
    return args


# --------------------------------------------------------------------------
# models and data
# --------------------------------------------------------------------------
def load_config(path, cfg_options=None):
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def load_model(cfg, checkpoint, device):
    """Build ``cfg.model`` and load a full (encoder + decoder) checkpoint."""
    from mmdropmae.models.utils import is_decoder_key, reference_to_mmdropmae
    from mmdropmae.registry import MODELS
    model = MODELS.build(cfg.model)
    state = state_dict_of(load_checkpoint_file(checkpoint), checkpoint)
    if not any(k.startswith(('backbone.', 'neck.')) for k in state):
        if not any(is_decoder_key(k) for k in state):
            raise CheckpointError(
                f'{checkpoint} has no decoder weights (an encoder-only or '
                'unrelated checkpoint); this analysis needs a pre-training '
                'checkpoint with the decoder')
        state = reference_to_mmdropmae(state)  # reference DropMAE layout
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise CheckpointError(f'{checkpoint} does not fit the model of the '
                              f'config: {exc}') from exc
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(
            f'{checkpoint} does not fit the model of the config: missing '
            f'keys {result.missing_keys[:8]}, unexpected keys '
            f'{result.unexpected_keys[:8]}')
    return model.to(device).eval()


def build_dataset(cfg, data_root, ann_file=''):
    """The training data set of ``cfg`` (inside dataset wrappers such as
    ``RepeatDataset``: the innermost ``dataset``) on other videos."""
    from mmdropmae.registry import DATASETS
    ds_cfg = cfg.train_dataloader.dataset
    while 'dataset' in ds_cfg:
        ds_cfg = ds_cfg['dataset']
    ds_cfg = ds_cfg.copy()
    ds_cfg.update(data_root=data_root, ann_file=ann_file,
                  data_prefix=dict(video=''))
    return DATASETS.build(ds_cfg)


def draw_pairs(dataset, num_pairs, seed):
    """``num_pairs`` samples through the pipeline, cycling over a seeded
    permutation of the videos (so every video is used before any twice)."""
    set_random_seed(seed)
    order = np.random.RandomState(seed).permutation(len(dataset))
    inputs, metas = [], []
    print(f'drawing {num_pairs} frame pairs from {len(dataset)} videos')
    bar = ProgressBar(num_pairs)
    for i in range(num_pairs):
        sample = dataset[int(order[i % len(order)])]
        inputs.append(sample['inputs'])
        meta = sample['data_samples'].metainfo
        metas.append(
            dict(filename=meta.get('filename'),
                 frame_inds=np.asarray(meta.get('frame_inds', [])).tolist()))
        bar.update()
    print()
    return inputs, metas


@torch.no_grad()
def analyse(model, inputs, batch_size, num_vis, seed):
    """Run :func:`probe_temporal_matching` over all pairs.

    Returns:
        dict: ``within``/``between`` (per layer, averaged over pairs),
        ``loss`` (mean), and for the first ``num_vis`` pairs ``frames``
        (normalised inputs), ``f_tem``, ``pred`` and ``mask``.
    """
    from mmdropmae.apis import probe_temporal_matching
    set_random_seed(seed)  # the same masks for every model
    within = between = None
    loss_sum, vis = 0., dict(frames=[], f_tem=[], pred=[], mask=[])
    starts = range(0, len(inputs), batch_size)
    bar = ProgressBar(len(starts))
    for start in starts:
        chunk = inputs[start:start + batch_size]
        data = model.data_preprocessor(dict(inputs=chunk), False)['inputs']
        out = probe_temporal_matching(model, data)
        b = data.shape[0]
        w, bt = np.asarray(out['within']), np.asarray(out['between'])
        within = w * b if within is None else within + w * b
        between = bt * b if between is None else between + bt * b
        loss_sum += float(out['loss'].float().sum())
        take = max(0, min(b, num_vis - start))
        if take:
            vis['frames'].append(data[:take].cpu())
            for key in ('f_tem', 'pred', 'mask'):
                vis[key].append(out[key][:take].float().cpu())
        bar.update()
    print()
    n = len(inputs)
    result = dict(within=(within / n).tolist(), between=(between / n).tolist(),
                  loss=loss_sum / n)
    for key, parts in vis.items():
        result[key] = torch.cat(parts) if parts else None
    return result


# --------------------------------------------------------------------------
# outputs
# --------------------------------------------------------------------------
def print_table(results, num_pairs):
    labels = list(results)
    depth = max(len(r['within']) for r in results.values())
    head = ['layer'] + [f'{lb} {k}' for lb in labels
                        for k in ('within', 'between')]
    rows = []
    for i in range(depth):
        row = [str(i)]
        for r in results.values():
            if i < len(r['within']):
                row += [f'{r["within"][i]:.4f}', f'{r["between"][i]:.4f}']
            else:
                row += ['-', '-']
        rows.append(row)
    mean = ['mean']
    for r in results.values():
        mean += [f'{np.mean(r["within"]):.4f}', f'{np.mean(r["between"]):.4f}']
    loss = ['loss'] + sum(
        ([f'{r["loss"]:.4f}', ''] for r in results.values()), [])
    widths = [max(len(x) for x in col) for col in zip(head, *rows, mean, loss)]

    def fmt(row):
        return '  '.join(x.rjust(w) for x, w in zip(row, widths))
    print(f'\nDecoder attention per layer, mean over {num_pairs} frame pairs '
          '(eval mode, ASAD off): mass on the own frame (within) and on the '
          'other frame (between)')
    print(fmt(head))
    print('  '.join('-' * w for w in widths))
    for row in rows + [mean, loss]:
        print(fmt(row))
    print()


def write_csv(results, num_pairs, path):
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['model', 'layer', 'within', 'between', 'num_pairs'])
        for label, r in results.items():
            for i, (w, b) in enumerate(zip(r['within'], r['between'])):
                writer.writerow([label, i, f'{w:.6f}', f'{b:.6f}', num_pairs])


def plot_attention(results, path):
    labels = list(results)
    depth = max(len(r['within']) for r in results.values())
    fig, axes = plt.subplots(1, 2, figsize=(4 + 1.2 * depth, 3.6),
                             sharey=True)
    width = 0.8 / len(labels)
    for ax, key, title in zip(axes, ('within', 'between'),
                              ('within-frame attention',
                               'between-frame attention')):
        for j, (label, r) in enumerate(results.items()):
            xs = np.arange(len(r[key])) + (j - (len(labels) - 1) / 2) * width
            ax.bar(xs, r[key], width, label=label)
        ax.set_title(title)
        ax.set_xlabel('decoder layer')
        ax.set_xticks(np.arange(depth))
        ax.set_ylim(0, 1)
        ax.grid(axis='y', alpha=.3)
    axes[0].set_ylabel('mean attention mass')
    axes[1].legend(loc='upper right', fontsize='small')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_f_tem(index, frames, maps, labels, meta, path):
    """frames: (2, H, W, 3) uint8; maps: one (2, h, w) tensor per model."""
    rows = 1 + len(maps)
    h, w = frames.shape[1:3]
    fig = plt.figure(figsize=(6.6, 3.1 * rows * h / w + .5))
    grid = fig.add_gridspec(rows, 3, width_ratios=[1, 1, .06], wspace=.08,
                            hspace=.25, left=.03, right=.9, top=.9,
                            bottom=.02)
    axes = np.array([[fig.add_subplot(grid[r, t]) for t in range(2)]
                     for r in range(rows)])
    names = ('frame x', 'frame z')
    inds = meta.get('frame_inds') or ['?', '?']
    for t in range(2):
        axes[0, t].imshow(frames[t])
        axes[0, t].set_title(f'{names[t]} (frame {inds[t]})', fontsize=9)
    for r, (label, fmap) in enumerate(zip(labels, maps), start=1):
        up = F.interpolate(fmap[None].float(), size=(h, w), mode='bilinear',
                           align_corners=False)[0].numpy()
        vmax = max(float(up.max()), 1e-6)
        for t in range(2):
            axes[r, t].imshow(frames[t])
            im = axes[r, t].imshow(up[t], cmap='jet', alpha=.5, vmin=0,
                                   vmax=vmax)
            axes[r, t].set_title(f'{label}: f_tem on {names[t][-1]}',
                                 fontsize=9)
        fig.colorbar(im, cax=fig.add_subplot(grid[r, 2]))
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    src = osp.basename(meta.get('filename') or '')
    fig.suptitle(f'pair {index}: {src}', fontsize=9)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_reconstructions(grids, labels, path):
    """grids: one (rows * H, 6 * W, 3) uint8 image per model."""
    h, w = grids[0].shape[:2]
    fig, axes = plt.subplots(len(grids), 1,
                             figsize=(9, 9 * h / w * len(grids) + .6 *
                                      len(grids)), squeeze=False)
    for ax, grid, label in zip(axes[:, 0], grids, labels):
        ax.imshow(grid)
        ax.set_title(label, fontsize=10)
        col = grid.shape[1] / len(RECON_COLUMNS)
        ax.set_xticks((np.arange(len(RECON_COLUMNS)) + .5) * col)
        ax.set_xticklabels(RECON_COLUMNS, fontsize=8)
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    from mmdropmae.apis import denormalize, reconstruction_grid
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    os.makedirs(args.out_dir, exist_ok=True)

    cfgs, models = [], OrderedDict()
    for (cfg_path, ckpt), label in zip(args.models, args.labels):
        cfg = load_config(cfg_path, args.cfg_options)
        print(f'loading {label}: {cfg_path} + {ckpt}')
        models[label] = load_model(cfg, ckpt, args.device)
        cfgs.append(cfg)

    dataset = build_dataset(cfgs[0], args.data_root, args.ann_file)
    inputs, metas = draw_pairs(dataset, args.num_pairs, args.seed)
    size = tuple(inputs[0].shape[-2:])
    for label, model in models.items():
        if tuple(model.backbone.img_size) != size:
            raise SystemExit(
                f'error: the pipeline of {args.models[0][0]} makes {size} '
                f'frames, but model {label} is built for '
                f'{model.backbone.img_size}')

    results = OrderedDict()
    for label, model in models.items():
        print(f'probing {label} on {len(inputs)} pairs')
        results[label] = analyse(model, inputs, args.batch_size,
                                 args.num_vis, args.seed)

    print_table(results, len(inputs))
    csv_path = osp.join(args.out_dir, 'attention_per_layer.csv')
    write_csv(results, len(inputs), csv_path)
    plot_attention(results, osp.join(args.out_dir, 'attention_per_layer.png'))

    written = [csv_path, osp.join(args.out_dir, 'attention_per_layer.png')]
    first = next(iter(models.values()))
    mean = first.data_preprocessor.mean.flatten().cpu()
    std = first.data_preprocessor.std.flatten().cpu()
    num_vis = min(args.num_vis, len(inputs))
    if num_vis:
        frames = results[args.labels[0]]['frames']
        images = denormalize(frames, mean, std)  # (V, 2, H, W, 3)
        for i in range(num_vis):
            path = osp.join(args.out_dir, f'f_tem_{i}.png')
            plot_f_tem(i, images[i], [r['f_tem'][i] for r in results.values()],
                       args.labels, metas[i], path)
            written.append(path)
        grids = []
        for label, r in results.items():
            model = models[label]
            grids.append(
                reconstruction_grid(
                    r['frames'], dict(pred=r['pred'], mask=r['mask']),
                    model.data_preprocessor.mean.flatten().cpu(),
                    model.data_preprocessor.std.flatten().cpu(), num_vis))
        path = osp.join(args.out_dir, 'reconstruction.png')
        plot_reconstructions(grids, args.labels, path)
        written.append(path)

    summary = dict(
        num_pairs=len(inputs), seed=args.seed, data_root=args.data_root,
        models=[
            dict(label=label, config=cfg_path, checkpoint=ckpt,
                 within=results[label]['within'],
                 between=results[label]['between'],
                 between_mean=float(np.mean(results[label]['between'])),
                 loss=results[label]['loss'])
            for (cfg_path, ckpt), label in zip(args.models, args.labels)
        ],
        visualised_pairs=metas[:num_vis])
    path = osp.join(args.out_dir, 'summary.json')
    with open(path, 'w') as f:
        json.dump(summary, f, indent=2)
    written.append(path)
    print('wrote ' + ', '.join(written))
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (CheckpointError, FileNotFoundError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        sys.exit(1)
