"""Deterministic synthetic single-object-tracking sequences with exact boxes,
written in the GOT-10k and LaSOT layouts.

A sequence is a textured rectangular target moving over a textured
background. The target covers exactly the pixels ``[x, x + w) x [y, y + h)``
of an integer box, so the ground truth is exact. Options (per sequence):

* ``occlusion``: an occluder (a taller, wider textured bar) sweeps across the
  target during the middle of the sequence; frames where it hides the target
  completely are fully occluded (``absence``/``full_occlusion``);
* ``fast_motion``: 4x faster motion with random velocity jumps;
* ``scale_change``: the target size oscillates between ~0.55x and ~1.45x;
* ``leave_frame``: the target drifts out of the image (right border) and comes
  back. Partly outside: the box is clipped to the image (``cut_by_image``);
  completely outside: the frame is absent (``out_of_view``).

Ground truth of a frame = the target box clipped to the image. Absent frames
(target out of view or fully occluded) are written as the toolkits do: GOT-10k
layout: ``absence.label = 1``, ``cover.label = 0`` and a NaN box when out of
view (the last box is kept when occluded); LaSOT layout: ``full_occlusion`` /
``out_of_view`` flags and ``0,0,0,0`` when out of view.
``cover`` = ``ceil(8 * visible fraction)`` (0: hidden, 8: fully visible).
"""
import math
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmdropmae.utils.image import write_rgb_image
from .renderer import colorize, random_texture, smooth_noise

SCENARIOS = ('plain', 'occlusion', 'fast_motion', 'scale_change', 'leave_frame')


@dataclass
class SyntheticSOTSequence:
    """A rendered sequence.

    Attributes:
        frames (list[np.ndarray]): RGB ``uint8`` (H, W, 3) frames.
        boxes (np.ndarray): (N, 4) ``float32`` xywh target box clipped to the
            image (zeros when out of view).
        visible_ratio (np.ndarray): (N,) fraction of the target's full area
            that is visible (inside the image and not occluded).
        out_of_view (np.ndarray): (N,) bool, the target is entirely outside.
        full_occlusion (np.ndarray): (N,) bool, inside but entirely hidden.
        cut_by_image (np.ndarray): (N,) bool, partly outside the image.
        options (dict): the scenario flags used.
    """
    frames: List[np.ndarray]
    boxes: np.ndarray
    visible_ratio: np.ndarray
    out_of_view: np.ndarray
    full_occlusion: np.ndarray
    cut_by_image: np.ndarray
    options: Dict[str, bool] = field(default_factory=dict)

    @property
    def absent(self) -> np.ndarray:
        return self.out_of_view | self.full_occlusion

    @property
    def cover(self) -> np.ndarray:
        """GOT-10k style cover level 0..8."""
        return np.ceil(np.clip(self.visible_ratio, 0, 1) * 8 - 1e-9).astype(np.int64).clip(0, 8)


def render_sot_sequence(num_frames: int = 30,
                        size: Tuple[int, int] = (128, 96),
                        seed=0,
                        occlusion: bool = False,
                        fast_motion: bool = False,
                        scale_change: bool = False,
                        leave_frame: bool = False,
                        target_size: Optional[Tuple[int, int]] = None) -> SyntheticSOTSequence:
    """Render one sequence (same arguments -> same frames, bit for bit).

    Args:
        num_frames (int): N (>= 2).
        size (tuple): ``(W, H)``.
        seed: int or sequence for ``np.random.default_rng``.
        occlusion, fast_motion, scale_change, leave_frame (bool): scenarios
            (see the module docstring); combinable.
        target_size (tuple, optional): base ``(w, h)`` of the target;
            default ~ 1/5 of the frame.
    """
    if num_frames < 2:
        raise ValueError('num_frames must be >= 2')
    W, H = int(size[0]), int(size[1])
    rng = np.random.default_rng(seed)
    bg = colorize(rng, smooth_noise(rng, H, W, octaves=4, base_cell=max(8, W // 4)),
                  num_colors=3)
    bg = (0.6 * bg + 0.4 * random_texture(rng, H, W)).clip(0, 255).astype(np.uint8)
    if target_size is None:
        tw = max(6, int(round(W * rng.uniform(0.16, 0.24))))
        th = max(6, int(round(H * rng.uniform(0.2, 0.3))))
    else:
        tw, th = int(target_size[0]), int(target_size[1])
    tex_h, tex_w = 2 * th, 2 * tw
    tex = random_texture(rng, tex_h, tex_w)
    tex = (0.5 * tex + 0.5 * rng.uniform(0, 255, size=3)).clip(0, 255).astype(np.uint8)
    cv2.rectangle(tex, (0, 0), (tex_w - 1, tex_h - 1), (0, 0, 0), 2)
    occ_tex = random_texture(rng, H, W).clip(0, 255).astype(np.uint8)

    # ----- sizes
    t_idx = np.arange(num_frames)
    if scale_change:
        phase = rng.uniform(0, 2 * math.pi)
        factor = 1.0 + 0.45 * np.sin(2 * math.pi * t_idx / max(num_frames - 1, 1) * 1.0 + phase)
    else:
        factor = np.ones(num_frames)
    ws = np.maximum(4, np.round(tw * factor)).astype(int)
    hs = np.maximum(4, np.round(th * factor)).astype(int)

    # ----- centre trajectory (bouncing inside the frame)
    speed = rng.uniform(1.0, 2.5) * (4.0 if fast_motion else 1.0)
    ang = rng.uniform(0, 2 * math.pi)
    vel = np.array([math.cos(ang), math.sin(ang)]) * speed
    pos = np.array([rng.uniform(0.3, 0.7) * W, rng.uniform(0.3, 0.7) * H])
    centres = np.zeros((num_frames, 2))
    for t in range(num_frames):
        centres[t] = pos
        if fast_motion and rng.random() < 0.25:
            ang = rng.uniform(0, 2 * math.pi)
            vel = np.array([math.cos(ang), math.sin(ang)]) * speed * rng.uniform(0.7, 1.5)
        pos = pos + vel
        for d, lim, half in ((0, W, ws[t] / 2), (1, H, hs[t] / 2)):
            lo, hi = half, lim - half
            if pos[d] < lo:
                pos[d], vel[d] = 2 * lo - pos[d], abs(vel[d])
            elif pos[d] > hi:
                pos[d], vel[d] = 2 * hi - pos[d], -abs(vel[d])
            pos[d] = min(max(pos[d], lo), hi)

    # ----- leaving the frame: a right-ward excursion over the middle third
    if leave_frame:
        a = num_frames // 3
        b = min(num_frames, max(a + 5, (2 * num_frames) // 3 + 1))
        for t in range(a, b):
            s = math.sin(math.pi * (t - a) / max(b - 1 - a, 1))
            # peak: centre beyond W + w (target fully out)
            reach = (W + ws[t] * 1.5 - centres[t, 0])
            centres[t, 0] += reach * min(1.0, 1.6 * s)

    x1 = np.round(centres[:, 0] - ws / 2).astype(int)
    y1 = np.round(centres[:, 1] - hs / 2).astype(int)

    # ----- occluder: a vertical bar sweeping left->right over the target
    occ_boxes = [None] * num_frames
    if occlusion:
        # middle third, or the last third when the target also leaves the frame
        a = int(0.68 * num_frames) if leave_frame else num_frames // 3
        b = min(num_frames, a + max(6, num_frames // 3))
        for t in range(a, b):
            bar_w = int(math.ceil(ws[t] * 1.6))
            u = (t - a) / max(b - 1 - a, 1)
            left = x1[t] - bar_w + u * (ws[t] + bar_w)
            left = int(round(left))
            occ_boxes[t] = (left, 0, bar_w, H)

    frames, boxes = [], np.zeros((num_frames, 4), np.float32)
    vis_ratio = np.zeros(num_frames)
    oov = np.zeros(num_frames, bool)
    full_occ = np.zeros(num_frames, bool)
    cut = np.zeros(num_frames, bool)
    for t in range(num_frames):
        img = bg.copy()
        w, h = int(ws[t]), int(hs[t])
        patch = cv2.resize(tex, (w, h), interpolation=cv2.INTER_AREA)
        X1, Y1, X2, Y2 = x1[t], y1[t], x1[t] + w, y1[t] + h
        cx1, cy1, cx2, cy2 = max(0, X1), max(0, Y1), min(W, X2), min(H, Y2)
        mask = np.zeros((H, W), bool)
        if cx2 > cx1 and cy2 > cy1:
            img[cy1:cy2, cx1:cx2] = patch[cy1 - Y1:cy2 - Y1, cx1 - X1:cx2 - X1]
            mask[cy1:cy2, cx1:cx2] = True
            boxes[t] = (cx1, cy1, cx2 - cx1, cy2 - cy1)
            cut[t] = (cx1, cy1, cx2, cy2) != (X1, Y1, X2, Y2)
        else:
            oov[t] = True
        if occ_boxes[t] is not None:
            ox, oy, ow, oh = occ_boxes[t]
            ox1, ox2 = max(0, ox), min(W, ox + ow)
            if ox2 > ox1:
                img[oy:oy + oh, ox1:ox2] = occ_tex[oy:oy + oh, ox1:ox2]
                mask[oy:oy + oh, ox1:ox2] = False
        vis_ratio[t] = mask.sum() / float(w * h)
        if not oov[t] and mask.sum() == 0:
            full_occ[t] = True
        frames.append(img)
    return SyntheticSOTSequence(
        frames=frames, boxes=boxes, visible_ratio=vis_ratio, out_of_view=oov,
        full_occlusion=full_occ, cut_by_image=cut,
        options=dict(occlusion=occlusion, fast_motion=fast_motion, scale_change=scale_change,
                     leave_frame=leave_frame))


def _scenario_flags(i: int, scenarios: Optional[Sequence], flags: Dict[str, bool]) -> dict:
    """Flags of sequence ``i``: ``scenarios`` cycles (names or dicts), plus
    the global ``flags`` or-ed in."""
    out = {k: False for k in SCENARIOS if k != 'plain'}
    if scenarios:
        sc = scenarios[i % len(scenarios)]
        if isinstance(sc, str):
            if sc not in SCENARIOS:
                raise ValueError(f'unknown scenario {sc!r}; choose from {SCENARIOS}')
            if sc != 'plain':
                out[sc] = True
        else:
            out.update({k: bool(v) for k, v in dict(sc).items()})
    for k, v in flags.items():
        out[k] = out[k] or bool(v)
    return out


def _write_frames(folder: str, frames: List[np.ndarray], quality: int = 95) -> None:
    os.makedirs(folder, exist_ok=True)
    for t, f in enumerate(frames):
        path = osp.join(folder, f'{t + 1:08d}.jpg')
        write_rgb_image(path, f, quality)


def _fmt_box(b) -> str:
    return ','.join('nan' if not np.isfinite(v) else f'{v:g}' for v in b)


def write_got10k_sequence(seq_dir: str, seq: SyntheticSOTSequence, test: bool = False) -> None:
    """Write one sequence in the GOT-10k layout (``test``: first box only,
    no labels)."""
    _write_frames(seq_dir, seq.frames)
    boxes = seq.boxes.astype(np.float64).copy()
    # out of view: no box (NaN); fully occluded: the last known box is kept
    boxes[seq.out_of_view] = np.nan
    last = boxes[0]
    for t in range(len(boxes)):
        if seq.full_occlusion[t]:
            boxes[t] = last
        elif not seq.out_of_view[t]:
            last = boxes[t]
    rows = boxes[:1] if test else boxes
    with open(osp.join(seq_dir, 'groundtruth.txt'), 'w') as f:
        f.writelines(_fmt_box(b) + '\n' for b in rows)
    h, w = seq.frames[0].shape[:2]
    with open(osp.join(seq_dir, 'meta_info.ini'), 'w') as f:
        f.write('[METAINFO]\nurl: synthetic\nobject_class: synthetic target\n'
                'motion_class: ' + ','.join(k for k, v in seq.options.items() if v) + '\n'
                f'resolution: ({w}, {h})\n')
    if test:
        return
    for name, values in (('absence', seq.absent.astype(int)), ('cover', seq.cover),
                         ('cut_by_image', seq.cut_by_image.astype(int))):
        with open(osp.join(seq_dir, f'{name}.label'), 'w') as f:
            f.writelines(f'{int(v)}\n' for v in values)


def make_synthetic_got10k(root: str,
                          split: str = 'train',
                          num_sequences: int = 3,
                          num_frames=30,
                          size: Tuple[int, int] = (128, 96),
                          seed: int = 0,
                          scenarios: Optional[Sequence] = None,
                          **flags) -> List[str]:
    """Write ``root/{split}/GOT-10k_{Split}_{i:06d}/`` sequences and
    ``root/{split}/list.txt``.

    Args:
        root (str): Dataset root (``train``/``val``/``test`` go below it).
        split (str): ``'train'``, ``'val'`` or ``'test'`` (first box only).
        num_sequences (int): Number of sequences.
        num_frames (int | tuple): Frames per sequence, or ``(lo, hi)``
            (drawn per sequence, inclusive).
        size (tuple): ``(W, H)``.
        seed (int): Sequence i uses seed ``(seed, i)``.
        scenarios (list, optional): cycled per sequence: names from
            ``SCENARIOS`` or dicts of flags (default: all ``'plain'``).
        **flags: ``occlusion``, ``fast_motion``, ``scale_change``,
            ``leave_frame`` applied to every sequence.

    Returns:
        list[str]: Sequence names.
    """
    if split not in ('train', 'val', 'test'):
        raise ValueError(f'unknown GOT-10k split {split!r}')
    split_dir = osp.join(root, split)
    os.makedirs(split_dir, exist_ok=True)
    names = []
    for i in range(num_sequences):
        name = f'GOT-10k_{split.capitalize()}_{i + 1:06d}'
        n = _num_frames(num_frames, seed, i)
        seq = render_sot_sequence(n, size, seed=(seed, i), **_scenario_flags(i, scenarios, flags))
        write_got10k_sequence(osp.join(split_dir, name), seq, test=split == 'test')
        names.append(name)
    with open(osp.join(split_dir, 'list.txt'), 'w') as f:
        f.writelines(n + '\n' for n in names)
    return names


def _num_frames(num_frames, seed: int, i: int) -> int:
    if isinstance(num_frames, (tuple, list)):
        lo, hi = int(num_frames[0]), int(num_frames[1])
        return int(np.random.default_rng((seed, i, 7)).integers(lo, hi + 1))
    return int(num_frames)


def write_lasot_sequence(seq_dir: str, seq: SyntheticSOTSequence, language: str = '') -> None:
    """Write one sequence in the LaSOT layout (``img/``, ``groundtruth.txt``,
    ``full_occlusion.txt``, ``out_of_view.txt``, ``nlp.txt``)."""
    _write_frames(osp.join(seq_dir, 'img'), seq.frames)
    boxes = seq.boxes.astype(np.float64).copy()
    boxes[seq.out_of_view] = 0.0
    with open(osp.join(seq_dir, 'groundtruth.txt'), 'w') as f:
        f.writelines(','.join(f'{int(round(v))}' for v in b) + '\n' for b in boxes)
    with open(osp.join(seq_dir, 'full_occlusion.txt'), 'w') as f:
        f.write(','.join(str(int(v)) for v in seq.full_occlusion) + '\n')
    with open(osp.join(seq_dir, 'out_of_view.txt'), 'w') as f:
        f.write(','.join(str(int(v)) for v in seq.out_of_view) + '\n')
    with open(osp.join(seq_dir, 'nlp.txt'), 'w') as f:
        f.write((language or 'the textured box moving over the background') + '\n')


def make_synthetic_lasot(root: str,
                         classes: Sequence[str] = ('airplane', 'bird'),
                         seqs_per_class: int = 2,
                         num_frames=30,
                         size: Tuple[int, int] = (128, 96),
                         seed: int = 0,
                         scenarios: Optional[Sequence] = None,
                         num_test_per_class: int = 1,
                         **flags) -> List[str]:
    """Write ``root/{cls}/{cls}-{k}/`` sequences (k from 1) and the split
    files ``root/testing_set.txt`` (the last ``num_test_per_class`` of each
    class) and ``root/training_set.txt`` (the others). Other arguments as
    :func:`make_synthetic_got10k`. Returns the sequence names."""
    names, test, train = [], [], []
    i = 0
    for cls in classes:
        for k in range(1, seqs_per_class + 1):
            name = f'{cls}-{k}'
            n = _num_frames(num_frames, seed, i)
            seq = render_sot_sequence(n, size, seed=(seed, i),
                                      **_scenario_flags(i, scenarios, flags))
            write_lasot_sequence(osp.join(root, cls, name), seq, language=f'the {cls} target')
            names.append(name)
            (test if k > seqs_per_class - num_test_per_class else train).append(name)
            i += 1
    with open(osp.join(root, 'testing_set.txt'), 'w') as f:
        f.writelines(n + '\n' for n in test)
    with open(osp.join(root, 'training_set.txt'), 'w') as f:
        f.writelines(n + '\n' for n in train)
    return names
