"""Tiny synthetic JHMDB-like (stick figure with exact joints) and VIP-like
(coloured body parts with part labels) data sets, in the real layouts read by
:class:`~mmdropmae.datasets.correspondence.JHMDBDataset` and
:class:`~mmdropmae.datasets.correspondence.VIPDataset`."""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np
from PIL import Image, ImageDraw

#: JHMDB's 15 joints: neck, belly, face, r/l shoulder, l/r hip... (order of
#: the released data); our figure uses the same count and a plausible layout.
STICK_JOINTS = np.array([
    [0.0, -1.0],   # 0 neck
    [0.0, -0.2],   # 1 belly
    [0.0, -1.5],   # 2 face
    [-0.5, -0.9],  # 3 right shoulder
    [0.5, -0.9],   # 4 left shoulder
    [-0.3, 0.2],   # 5 right hip
    [0.3, 0.2],    # 6 left hip
    [-0.8, -0.4],  # 7 right elbow
    [0.8, -0.4],   # 8 left elbow
    [-0.4, 0.9],   # 9 right knee
    [0.4, 0.9],    # 10 left knee
    [-1.0, 0.1],   # 11 right wrist
    [1.0, 0.1],    # 12 left wrist
    [-0.45, 1.6],  # 13 right ankle
    [0.45, 1.6],   # 14 left ankle
], dtype=np.float64)
STICK_BONES = [(2, 0), (0, 1), (0, 3), (0, 4), (1, 5), (1, 6), (3, 7), (7, 11), (4, 8),
               (8, 12), (5, 9), (9, 13), (6, 10), (10, 14)]
_JOINT_COLORS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [255, 0, 255],
                          [0, 255, 255], [255, 128, 0], [128, 0, 255], [0, 128, 255],
                          [128, 255, 0], [255, 0, 128], [0, 255, 128], [128, 128, 255],
                          [255, 128, 128], [128, 255, 128]], dtype=np.uint8)


def _background(rng, h, w) -> np.ndarray:
    base = rng.integers(40, 120, size=(h // 4 + 1, w // 4 + 1, 3)).astype(np.uint8)
    img = Image.fromarray(base).resize((w, h), Image.NEAREST)
    return np.asarray(img).copy()


def stick_figure_video(num_frames: int = 6, size: Tuple[int, int] = (80, 64), seed: int = 0,
                       step: Tuple[float, float] = (3.0, 0.0)) -> Tuple[np.ndarray, np.ndarray]:
    """Frames (T, H, W, 3) uint8 and exact joints (T, 15, 2) float (x, y),
    0-based: a stick figure translating by ``step`` px per frame and swinging
    its limbs; each joint is a coloured dot on a textured background."""
    w, h = size
    rng = np.random.default_rng(seed)
    bg = _background(rng, h, w)
    scale = h / 5.0
    start = np.array([w * 0.3, h * 0.45])
    frames, joints = [], []
    for t in range(num_frames):
        pts = STICK_JOINTS.copy()
        swing = 0.15 * np.sin(t * 0.8)
        pts[[11, 13], 0] += swing
        pts[[12, 14], 0] -= swing
        pts = pts * scale + start + np.asarray(step) * t
        img = Image.fromarray(bg.copy())
        d = ImageDraw.Draw(img)
        for a, b in STICK_BONES:
            d.line([tuple(pts[a]), tuple(pts[b])], fill=(230, 230, 230), width=2)
        for j, (x, y) in enumerate(pts):
            d.ellipse([x - 2, y - 2, x + 2, y + 2], fill=tuple(int(c) for c in _JOINT_COLORS[j]))
        frames.append(np.asarray(img))
        joints.append(pts)
    return np.stack(frames), np.stack(joints).astype(np.float32)


def make_synthetic_jhmdb(root: str, num_videos: int = 2, num_frames: int = 6,
                         size: Tuple[int, int] = (80, 64), classes=('walk', 'run'),
                         split_file: str = 'testdata.txt', seed: int = 0,
                         step: Optional[Tuple[float, float]] = None) -> List[Dict]:
    """Write ``Rename_Images/{class}/{video}/00001.png``,
    ``joint_positions/{class}/{video}/joint_positions.mat`` (``pos_img``
    (2, 15, T), 1-based like the release) and ``{split_file}`` ('class/video'
    lines). Returns ``[dict(video_name, joints (T, 15, 2) 0-based)]``.

    ``step``: the figure's motion in px per frame, for every video; by
    default (None) even videos move by (3, 0), odd ones by (-2, 1)."""
    from scipy.io import savemat
    infos = []
    lines = []
    for i in range(num_videos):
        cls = classes[i % len(classes)]
        vid = f'{cls}_video_{i:02d}'
        key = f'{cls}/{vid}'
        vstep = step if step is not None else (3.0 if i % 2 == 0 else -2.0, 1.0 * (i % 2))
        frames, joints = stick_figure_video(num_frames, size, seed + i, step=vstep)
        img_dir = osp.join(root, 'Rename_Images', cls, vid)
        os.makedirs(img_dir, exist_ok=True)
        for t, f in enumerate(frames):
            Image.fromarray(f).save(osp.join(img_dir, f'{t + 1:05d}.png'))
        jdir = osp.join(root, 'joint_positions', cls, vid)
        os.makedirs(jdir, exist_ok=True)
        savemat(osp.join(jdir, 'joint_positions.mat'),
                dict(pos_img=(joints + 1.0).transpose(2, 1, 0).astype(np.float64)))
        lines.append(key)
        infos.append(dict(video_name=key, joints=joints))
    with open(osp.join(root, split_file), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return infos


#: Body-part rectangles (x0, y0, x1, y1) in units of the figure size and
#: their VIP class ids (face 13, hair 2, upper-clothes 4, pants 8, arms
#: 14/15, shoes 18/19).
_VIP_PARTS = [((0.35, 0.0, 0.65, 0.08), 2), ((0.35, 0.08, 0.65, 0.2), 13),
              ((0.25, 0.2, 0.75, 0.5), 4), ((0.05, 0.2, 0.25, 0.5), 14),
              ((0.75, 0.2, 0.95, 0.5), 15), ((0.28, 0.5, 0.72, 0.88), 8),
              ((0.25, 0.88, 0.48, 1.0), 18), ((0.52, 0.88, 0.75, 1.0), 19)]


def vip_video(num_frames: int = 5, size: Tuple[int, int] = (64, 64), seed: int = 0,
              step: Tuple[int, int] = (4, 0)) -> Tuple[np.ndarray, np.ndarray]:
    """Frames (T, H, W, 3) and part labels (T, H, W) of a textured person
    translating by ``step`` px per frame."""
    w, h = size
    rng = np.random.default_rng(seed)
    bg = _background(rng, h, w)
    fw, fh = int(w * 0.4), int(h * 0.8)
    x0, y0 = int(w * 0.1), int(h * 0.1)
    tex = rng.integers(0, 60, size=(fh, fw, 3))
    frames, labels = [], []
    for t in range(num_frames):
        img = bg.copy()
        lab = np.zeros((h, w), np.uint8)
        ox, oy = x0 + step[0] * t, y0 + step[1] * t
        for (a, b, c, d), cid in _VIP_PARTS:
            px0, py0, px1, py1 = int(a * fw), int(b * fh), int(c * fw), int(d * fh)
            color = np.array([(cid * 53) % 200 + 40, (cid * 97) % 200 + 40, (cid * 151) % 200 + 40])
            for yy in range(py0, py1):
                for xx in range(px0, px1):
                    X, Y = ox + xx, oy + yy
                    if 0 <= X < w and 0 <= Y < h:
                        img[Y, X] = np.clip(color + tex[yy, xx] - 30, 0, 255)
                        lab[Y, X] = cid
        frames.append(img)
        labels.append(lab)
    return np.stack(frames), np.stack(labels)


def make_synthetic_vip(root: str, num_videos: int = 2, num_frames: int = 5,
                       size: Tuple[int, int] = (64, 64), list_file: str = 'lists/val_videos.txt',
                       seed: int = 0, step: Optional[Tuple[int, int]] = None) -> List[Dict]:
    """Write ``Images/{video}/{frame}.jpg``, ``Category_ids/{video}/{frame}.png``
    (grayscale class ids) and ``{list_file}``.

    ``step``: the person's motion in px per frame, for every video; by
    default (None) even videos move by (4, 2), odd ones by (0, 2)."""
    infos, names = [], []
    for i in range(num_videos):
        vid = f'videos{i + 1}'
        vstep = step if step is not None else (4 if i % 2 == 0 else 0, 2)
        frames, labels = vip_video(num_frames, size, seed + i, step=vstep)
        idir, ldir = osp.join(root, 'Images', vid), osp.join(root, 'Category_ids', vid)
        os.makedirs(idir, exist_ok=True)
        os.makedirs(ldir, exist_ok=True)
        for t in range(num_frames):
            Image.fromarray(frames[t]).save(osp.join(idir, f'{t:012d}.jpg'), quality=95)
            Image.fromarray(labels[t], mode='L').save(osp.join(ldir, f'{t:012d}.png'))
        names.append(vid)
        infos.append(dict(video_name=vid, labels=labels))
    os.makedirs(osp.dirname(osp.join(root, list_file)) or root, exist_ok=True)
    with open(osp.join(root, list_file), 'w') as f:
        f.write('\n'.join(names) + '\n')
    return infos
