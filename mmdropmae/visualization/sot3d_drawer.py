"""Rendering of tracked LiDAR sequences: predicted and true 3D boxes over the
points, to PNG frames (and an mp4).

Two back ends: Open3D's off-screen renderer
(``open3d.visualization.rendering.OffscreenRenderer``, a perspective view
behind and above the target) where it works (it needs an EGL / OSMesa
context), else a bird's-eye-view matplotlib plot (points coloured by height
around the target, box footprints with a heading tick). ``backend='auto'``
first probes the Open3D renderer in a child process (a missing GL context
can abort the process rather than raise) and falls back to matplotlib for
the rest of the process when the probe fails.
"""
import functools
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmdropmae.utils.fileio import atomic_open
from mmdropmae.utils.points import box3d_corners

__all__ = ['SOT3DDrawer', 'draw_bev_frame', 'open3d_offscreen_available']

#: Box colours (RGB 0-1): ground truth green, prediction red.
COLORS = dict(gt=(0.1, 0.75, 0.2), pred=(0.9, 0.15, 0.1))
_EDGES = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5),
          (2, 6), (3, 7)]


_PROBE = """
import numpy as np, open3d as o3d
from open3d.visualization import rendering
r = rendering.OffscreenRenderer(32, 32)
pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.random.rand(10, 3)))
m = rendering.MaterialRecord()
m.shader = 'defaultUnlit'
r.scene.add_geometry('p', pcd, m)
r.setup_camera(60., [0., 0., 0.], [0., -3., 0.], [0., 0., 1.])
assert np.asarray(r.render_to_image()).shape[:2] == (32, 32)
print('ok')
"""


@functools.lru_cache(maxsize=1)
def open3d_offscreen_available(timeout: float = 60.) -> bool:
    """Whether Open3D's off-screen renderer works here (probed once, in a
    child process)."""
    try:
        proc = subprocess.run([sys.executable, '-c', _PROBE], capture_output=True, text=True,
                              timeout=timeout)
    except (subprocess.TimeoutExpired, OSError):
        return False
    return proc.returncode == 0 and proc.stdout.strip().endswith('ok')


def draw_bev_frame(points: np.ndarray, boxes: Dict[str, np.ndarray], center: np.ndarray,
                   path: str, span: float = 20., title: str = '') -> None:
    """A bird's-eye-view PNG (matplotlib, Agg) around ``center``.

    Args:
        points (np.ndarray): (N, >=3) LiDAR points.
        boxes (dict): name ('gt', 'pred', ...) -> (7,) box.
        center (np.ndarray): (x, y) of the view centre.
        path (str): PNG file (written atomically).
        span (float): Side of the square view (m).
        title (str): Figure title.
    """
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    pts = np.asarray(points)
    if len(pts):
        half = span / 2
        near = (np.abs(pts[:, 0] - center[0]) < half) & (np.abs(pts[:, 1] - center[1]) < half)
        p = pts[near]
        ax.scatter(p[:, 0], p[:, 1], s=0.5, c=p[:, 2], cmap='viridis', vmin=-2., vmax=1.)
    for name, box in boxes.items():
        c = box3d_corners(box)[:4]
        poly = np.vstack([c, c[:1]])
        color = COLORS.get(name, (0.2, 0.3, 0.9))
        ax.plot(poly[:, 0], poly[:, 1], '-', color=color, lw=1.5, label=name)
        head = np.asarray(box[:2]) + np.array([np.cos(box[6]), np.sin(box[6])]) * box[3] / 2
        ax.plot([box[0], head[0]], [box[1], head[1]], '-', color=color, lw=1.5)
    ax.set_xlim(center[0] - span / 2, center[0] + span / 2)
    ax.set_ylim(center[1] - span / 2, center[1] + span / 2)
    ax.set_aspect('equal')
    ax.set_xlabel('x (m)')
    ax.set_ylabel('y (m)')
    ax.legend(loc='upper right', fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_open(path, 'wb', suffix='.png') as f:
        fig.savefig(f, format='png')
    plt.close(fig)


class SOT3DDrawer:
    """Draw a tracked sequence frame by frame.

    Args:
        backend (str): 'auto' (Open3D off-screen, else matplotlib), 'open3d'
            or 'matplotlib'.
        size (tuple): Open3D image (width, height). Defaults to (640, 480).
        span (float): BEV view side (m). Defaults to 20.
    """

    _open3d_broken = False

    def __init__(self, backend: str = 'auto', size: Sequence[int] = (640, 480),
                 span: float = 20.):
        if backend not in ('auto', 'open3d', 'matplotlib'):
            raise ValueError(f"backend must be 'auto', 'open3d' or 'matplotlib', got "
                             f'{backend!r}')
        self.backend = backend
        self.size = tuple(size)
        self.span = span
        self.used_backend: Optional[str] = None
        self._renderer = None

    def _open3d_frame(self, points, boxes, center, path):
        import open3d as o3d
        from open3d.visualization import rendering
        if self._renderer is None:
            self._renderer = rendering.OffscreenRenderer(*self.size)
        r = self._renderer
        r.scene.clear_geometry()
        r.scene.set_background([1., 1., 1., 1.])
        pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(
            np.asarray(points, np.float64)[:, :3]))
        pcd.paint_uniform_color([0.35, 0.35, 0.4])
        mat = rendering.MaterialRecord()
        mat.shader = 'defaultUnlit'
        mat.point_size = 2.
        r.scene.add_geometry('points', pcd, mat)
        line_mat = rendering.MaterialRecord()
        line_mat.shader = 'unlitLine'
        line_mat.line_width = 2.
        for name, box in boxes.items():
            ls = o3d.geometry.LineSet(o3d.utility.Vector3dVector(box3d_corners(box)),
                                      o3d.utility.Vector2iVector(np.array(_EDGES)))
            ls.paint_uniform_color(COLORS.get(name, (0.2, 0.3, 0.9)))
            r.scene.add_geometry(f'box_{name}', ls, line_mat)
        c = np.array([center[0], center[1], 0.])
        r.setup_camera(60., c, c + np.array([-12., 0., 8.]), [0., 0., 1.])
        img = np.asarray(r.render_to_image())
        import cv2
        with atomic_open(path, 'wb', suffix='.png') as f:
            ok, buf = cv2.imencode('.png', img[..., ::-1])
            f.write(buf.tobytes())

    def draw_frame(self, points: np.ndarray, boxes: Dict[str, np.ndarray], path: str,
                   title: str = '') -> str:
        """Draw one frame to ``path``; returns the back end used."""
        center = np.asarray(boxes.get('gt', next(iter(boxes.values()))))[:2]
        want_o3d = self.backend == 'open3d' or (self.backend == 'auto'
                                                and not SOT3DDrawer._open3d_broken
                                                and open3d_offscreen_available())
        if want_o3d:
            try:
                self._open3d_frame(points, boxes, center, path)
                self.used_backend = 'open3d'
                return 'open3d'
            except Exception:  # noqa: BLE001 - no EGL / OSMesa context here
                if self.backend == 'open3d':
                    raise
                SOT3DDrawer._open3d_broken = True
        draw_bev_frame(points, boxes, center, path, self.span, title)
        self.used_backend = 'matplotlib'
        return 'matplotlib'

    def draw_sequence(self, points_list: Sequence[np.ndarray], pred: np.ndarray,
                      gt: Optional[np.ndarray], out_dir: str, name: str = 'seq',
                      mp4: bool = False, fps: int = 10) -> List[str]:
        """``{out_dir}/{name}_{t:04d}.png`` per frame (and ``{name}.mp4``)."""
        os.makedirs(out_dir, exist_ok=True)
        paths = []
        for t, pts in enumerate(points_list):
            boxes = dict(pred=pred[t]) if gt is None else dict(gt=gt[t], pred=pred[t])
            path = osp.join(out_dir, f'{name}_{t:04d}.png')
            self.draw_frame(pts, boxes, path, title=f'{name} frame {t}')
            paths.append(path)
        if mp4 and paths:
            import cv2
            frames = [cv2.imread(p) for p in paths]
            h, w = frames[0].shape[:2]
            video = osp.join(out_dir, f'{name}.mp4')
            writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), fps, (w, h))
            for f in frames:
                writer.write(cv2.resize(f, (w, h)))
            writer.release()
            paths.append(video)
        return paths
