"""A visualizer for the downstream tasks: tracking boxes (SOT), object masks
(VOS), optical flow and point tracks (TAP).

Drawing goes through MMEngine's :class:`~mmengine.visualization.Visualizer`
(``draw_bboxes``, ``draw_texts``, ``draw_binary_masks``, ``draw_points``,
``draw_lines`` on a matplotlib canvas of the image's size), so the result of
:meth:`get_image` and the images sent to the visualization backends
(``add_image``) are RGB ``uint8`` arrays of the drawn image's size.

Example::

    >>> from mmdropmae.visualization import TrackingVisualizer
    >>> vis = TrackingVisualizer()
    >>> vis.set_image(frame)                       # RGB uint8, H x W x 3
    >>> vis.draw_track_boxes(pred_boxes=[x, y, w, h], gt_boxes=gt,
    ...                      scores=0.93, box_format='xywh')
    >>> drawn = vis.get_image()
"""
import colorsys
import contextlib
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.visualization import Visualizer

from mmdropmae.registry import VISUALIZERS
from mmdropmae.utils.fileio import DAVIS_PALETTE

ArrayLike = Union[np.ndarray, torch.Tensor, Sequence]
ColorType = Tuple[int, int, int]

__all__ = ['TrackingVisualizer']


def _to_numpy(data: ArrayLike, dtype=None) -> np.ndarray:
    """A numpy copy of an array, a tensor or a (nested) sequence."""
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    return np.array(data, dtype=dtype)


def _rgb(color: Sequence) -> ColorType:
    """An RGB ``(r, g, b)`` tuple of Python ints in ``[0, 255]``."""
    color = tuple(int(c) for c in color)
    if len(color) != 3 or not all(0 <= c <= 255 for c in color):
        raise ValueError(f'a colour is an RGB triple in [0, 255], got {color}')
    return color


def track_colors(num: int) -> List[ColorType]:
    """``num`` distinct RGB colours, evenly spaced in hue (track ``i`` always
    gets the same colour for a given ``num``).

    Args:
        num (int): Number of colours.

    Returns:
        list[tuple[int, int, int]]: RGB colours in ``[0, 255]``.
    """
    return [
        _rgb(round(255 * c) for c in colorsys.hsv_to_rgb(i / max(num, 1), 1., 1.))
        for i in range(num)
    ]


@VISUALIZERS.register_module()
class TrackingVisualizer(Visualizer):
    """Visualizer of tracking boxes, VOS masks, optical flow and point tracks.

    All drawers take RGB ``uint8`` images and pixel coordinates (x right,
    y down, the image's top-left corner at ``(0, 0)``), accept numpy arrays,
    tensors or sequences, draw on the image given to :meth:`set_image` (or
    replace it, for :meth:`draw_flow`) and return ``self``, so calls chain;
    :meth:`get_image` returns the drawn image.

    Args:
        name (str): Instance name. Defaults to ``'visualizer'``.
        image (np.ndarray, optional): RGB image to draw on. Defaults to None.
        vis_backends (list[dict], optional): Visualization backends, e.g.
            ``[dict(type='LocalVisBackend')]``. Defaults to None.
        save_dir (str, optional): Directory of the backends' files.
            Defaults to None.
        pred_color (tuple[int, int, int]): RGB colour of predicted boxes.
            Defaults to ``(255, 64, 0)``.
        gt_color (tuple[int, int, int]): RGB colour of ground-truth boxes.
            Defaults to ``(0, 255, 0)``.
        text_color (tuple[int, int, int]): RGB colour of texts (drawn on a
            dark background). Defaults to ``(255, 255, 0)``.
        line_width (float): Box line width in points (MMEngine's unit, 1/72
            inch at the figure's dpi; MMEngine clips it to ``[1, font size /
            4]``). Defaults to 2.
        mask_alpha (float): Opacity of mask overlays. Defaults to 0.5.
        palette (np.ndarray, optional): ``(K, 3)`` RGB colours of object ids;
            None means the DAVIS palette (id 1 ``(128, 0, 0)``, id 2
            ``(0, 128, 0)``, ...). Defaults to None.
        **kwargs: Other arguments of MMEngine's ``Visualizer``
            (``fig_save_cfg``, ``fig_show_cfg``).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[List[dict]] = None,
                 save_dir: Optional[str] = None,
                 pred_color: Sequence[int] = (255, 64, 0),
                 gt_color: Sequence[int] = (0, 255, 0),
                 text_color: Sequence[int] = (255, 255, 0),
                 line_width: float = 2,
                 mask_alpha: float = 0.5,
                 palette: Optional[np.ndarray] = None,
                 **kwargs) -> None:
        super().__init__(
            name=name,
            image=image,
            vis_backends=vis_backends,
            save_dir=save_dir,
            **kwargs)
        self.pred_color = _rgb(pred_color)
        self.gt_color = _rgb(gt_color)
        self.text_color = _rgb(text_color)
        self.line_width = line_width
        self.mask_alpha = float(mask_alpha)
        palette = DAVIS_PALETTE if palette is None else palette
        self.palette = _to_numpy(palette, np.uint8).reshape(-1, 3)

    @classmethod
    def get_instance(cls, name: str = 'visualizer', **kwargs) -> 'TrackingVisualizer':
        """The instance called ``name``, created on first use (so that
        ``VISUALIZERS.build(dict(type='TrackingVisualizer'))`` works without
        a ``name``)."""
        return super().get_instance(name, **kwargs)

    @contextlib.contextmanager
    def _in_frame(self):
        """Draw what lies partly outside the image without changing the view.

        Targets leaving the frame are normal in tracking, but matplotlib
        widens the axes to a collection that reaches outside the image, which
        would shrink the whole drawn image; the view is put back to the image
        (so the canvas clips the outside parts) and MMEngine's "out of
        bounds" warnings are silenced.
        """
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message=r'Warning: The \w+ is out of bounds')
            try:
                yield
            finally:
                self.ax_save.set_xlim(0, self.width)
                self.ax_save.set_ylim(self.height, 0)

    # ------------------------------------------------------------------ boxes
    @staticmethod
    def boxes_to_xyxy(boxes: ArrayLike, box_format: str = 'xyxy') -> np.ndarray:
        """Boxes as an ``(N, 4)`` float array ``x1, y1, x2, y2``.

        Args:
            boxes (ArrayLike): One box ``(4,)`` or ``(N, 4)`` boxes.
            box_format (str): ``'xyxy'`` (corners) or ``'xywh'`` (top-left
                corner, width, height, as the SOT benchmarks' files).

        Returns:
            np.ndarray: ``(N, 4)`` boxes ``x1, y1, x2, y2``.
        """
        boxes = _to_numpy(boxes, np.float64).reshape(-1, 4)
        if box_format == 'xywh':
            boxes = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)
        elif box_format != 'xyxy':
            raise ValueError(f"box_format is 'xyxy' or 'xywh', got {box_format!r}")
        # a degenerate (negative-size) box is drawn as its normalised corners
        return np.concatenate(
            [np.minimum(boxes[:, :2], boxes[:, 2:]),
             np.maximum(boxes[:, :2], boxes[:, 2:])], axis=1)

    def draw_track_boxes(self,
                         pred_boxes: Optional[ArrayLike] = None,
                         gt_boxes: Optional[ArrayLike] = None,
                         scores: Optional[Union[float, ArrayLike]] = None,
                         box_format: str = 'xyxy',
                         pred_color: Optional[Sequence[int]] = None,
                         gt_color: Optional[Sequence[int]] = None,
                         line_width: Optional[float] = None,
                         font_size: Optional[int] = None,
                         alpha: float = 1.0) -> 'TrackingVisualizer':
        """Draw predicted and ground-truth boxes, and the predictions' scores.

        Ground truth is drawn first, so predictions are on top. Each score is
        written as ``0.93`` at the top-left corner of its box (above the box,
        or inside it when the box touches the top of the image).

        Args:
            pred_boxes (ArrayLike, optional): ``(4,)`` or ``(N, 4)``
                predicted boxes.
            gt_boxes (ArrayLike, optional): ``(4,)`` or ``(M, 4)``
                ground-truth boxes. Rows with a non-finite value (absent
                target) are skipped.
            scores (float | ArrayLike, optional): One score per predicted
                box. Defaults to None (no text).
            box_format (str): ``'xyxy'`` or ``'xywh'``. Defaults to
                ``'xyxy'``.
            pred_color (tuple[int, int, int], optional): RGB colour of the
                predictions; None means ``self.pred_color``.
            gt_color (tuple[int, int, int], optional): RGB colour of the
                ground truth; None means ``self.gt_color``.
            line_width (float, optional): Line width in points; None means
                ``self.line_width``.
            font_size (int, optional): Score font size in points; None means
                MMEngine's default for the image size.
            alpha (float): Opacity of the box lines. Defaults to 1.

        Returns:
            TrackingVisualizer: ``self``.
        """
        line_width = self.line_width if line_width is None else line_width
        for boxes, color in ((gt_boxes, gt_color or self.gt_color),
                             (pred_boxes, pred_color or self.pred_color)):
            if boxes is None:
                continue
            xyxy = self.boxes_to_xyxy(boxes, box_format)
            xyxy = xyxy[np.isfinite(xyxy).all(axis=1)]
            if len(xyxy):
                with self._in_frame():
                    self.draw_bboxes(
                        xyxy, edge_colors=_rgb(color), line_widths=line_width, alpha=alpha)
        if scores is not None and pred_boxes is not None:
            xyxy = self.boxes_to_xyxy(pred_boxes, box_format)
            scores = _to_numpy(scores, np.float64).reshape(-1)
            if len(scores) != len(xyxy):
                raise ValueError(f'{len(scores)} scores for {len(xyxy)} boxes')
            for box, score in zip(xyxy, scores):
                if np.isfinite(box).all():
                    self._draw_label(f'{score:.2f}', box, font_size)
        return self

    def _draw_label(self, text: str, box: np.ndarray, font_size: Optional[int]) -> None:
        """Write ``text`` at the top-left corner of ``box`` (above it if there
        is room, else inside it), on a dark background."""
        size = font_size or self._default_font_size
        height_px = size * self.dpi / 72
        x = float(np.clip(box[0], 0, self.width - 1))
        if box[1] - height_px - 2 >= 0:
            y, valign = float(box[1]) - 1, 'bottom'
        else:
            y, valign = float(np.clip(box[1], 0, self.height - 1)) + 1, 'top'
        self.draw_texts(
            text,
            np.array([x, y]),
            font_sizes=size,
            colors=self.text_color,
            vertical_alignments=valign,
            bboxes=dict(facecolor='black', alpha=0.6, pad=0.7, edgecolor='none'))

    # ------------------------------------------------------------------ masks
    def draw_masks(self,
                   masks: ArrayLike,
                   alpha: Optional[float] = None,
                   palette: Optional[np.ndarray] = None,
                   ignore_index: Optional[int] = 255) -> 'TrackingVisualizer':
        """Overlay object masks in palette colours.

        Each pixel of object ``k`` becomes ``(1 - alpha) * image + alpha *
        palette[k]`` (rounded); background (id 0) and ``ignore_index`` pixels
        are left as they are.

        Args:
            masks (ArrayLike): An ``(H, W)`` map of object ids (0 =
                background, as a VOS annotation's palette indices), or an
                ``(N, H, W)`` stack of binary masks, mask ``i`` being object
                ``i + 1``.
            alpha (float, optional): Opacity of the overlay; None means
                ``self.mask_alpha``.
            palette (np.ndarray, optional): ``(K, 3)`` RGB colours indexed by
                object id; None means ``self.palette`` (DAVIS).
            ignore_index (int, optional): An id that is not drawn (DAVIS's
                void 255). Defaults to 255.

        Returns:
            TrackingVisualizer: ``self``.
        """
        alpha = self.mask_alpha if alpha is None else float(alpha)
        palette = self.palette if palette is None else _to_numpy(palette, np.uint8).reshape(-1, 3)
        masks = _to_numpy(masks)
        if masks.ndim == 3:
            ids = np.arange(1, len(masks) + 1)
            binary = masks.astype(bool)
        elif masks.ndim == 2:
            ids = np.unique(masks)
            ids = ids[ids != 0]
            if ignore_index is not None:
                ids = ids[ids != ignore_index]
            binary = np.stack([masks == k for k in ids]) if len(ids) else None
        else:
            raise ValueError(f'masks are (H, W) ids or (N, H, W) binary masks, '
                             f'got shape {masks.shape}')
        if binary is None or not binary.any():
            return self
        keep = binary.reshape(len(binary), -1).any(axis=1)
        colors = [_rgb(palette[int(k) % len(palette)]) for k in ids[keep]]
        self.draw_binary_masks(binary[keep], colors=colors, alphas=[alpha] * len(colors))
        return self

    # ------------------------------------------------------------------- flow
    @staticmethod
    def flow_to_rgb(flow: ArrayLike, unknown_thr: float = 1e6) -> np.ndarray:
        """The colour of a flow field, as ``mmcv.flow2rgb`` (the Middlebury
        colour wheel, radius normalised by the field's largest one) scaled to
        ``uint8``: ``round(255 * flow2rgb(flow))``.

        Args:
            flow (ArrayLike): ``(H, W, 2)`` or ``(2, H, W)`` flow ``(dx, dy)``
                in pixels.
            unknown_thr (float): Components larger than this (or NaN) are
                unknown, drawn black. Defaults to 1e6.

        Returns:
            np.ndarray: ``(H, W, 3)`` RGB ``uint8`` image.
        """
        flow = _to_numpy(flow, np.float32)
        if flow.ndim == 3 and flow.shape[-1] != 2 and flow.shape[0] == 2:
            flow = flow.transpose(1, 2, 0)
        if flow.ndim != 3 or flow.shape[-1] != 2:
            raise ValueError(f'flow is (H, W, 2) or (2, H, W), got shape {flow.shape}')
        import mmcv  # imported here: only the flow drawer needs it
        rgb = mmcv.flow2rgb(flow, unknown_thr=unknown_thr)
        return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)

    def draw_flow(self,
                  flow: ArrayLike,
                  image: Optional[np.ndarray] = None,
                  side_by_side: bool = True,
                  alpha: float = 0.5) -> 'TrackingVisualizer':
        """Make the flow's colour image (:meth:`flow_to_rgb`) the drawn image.

        Args:
            flow (ArrayLike): ``(H, W, 2)`` or ``(2, H, W)`` flow.
            image (np.ndarray, optional): RGB ``(H, W, 3)`` frame the flow
                starts from. None: the flow colours alone. Defaults to None.
            side_by_side (bool): With ``image``: ``[image | flow]`` side by
                side (``H x 2W``) if True, else the flow colours blended over
                the image with ``alpha``. Defaults to True.
            alpha (float): Opacity of the flow over the image when not side by
                side. Defaults to 0.5.

        Returns:
            TrackingVisualizer: ``self`` (the canvas is the new image; draw
            on it further or call :meth:`get_image`).
        """
        rgb = self.flow_to_rgb(flow)
        if image is None:
            canvas = rgb
        else:
            image = _to_numpy(image, np.uint8)
            if image.shape[:2] != rgb.shape[:2]:
                raise ValueError(f'image {image.shape[:2]} and flow {rgb.shape[:2]} '
                                 'differ in size')
            if side_by_side:
                canvas = np.concatenate([image, rgb], axis=1)
            else:
                canvas = np.round((1 - alpha) * image.astype(np.float32) +
                                  alpha * rgb.astype(np.float32)).astype(np.uint8)
        self.set_image(canvas)
        return self

    # ----------------------------------------------------------- point tracks
    def draw_point_tracks(self,
                          points: ArrayLike,
                          visibility: Optional[ArrayLike] = None,
                          colors: Optional[Sequence[Sequence[int]]] = None,
                          trail_length: int = 8,
                          point_radius: Optional[float] = None,
                          show_occluded: bool = True) -> 'TrackingVisualizer':
        """Draw tracked points at the current frame, with short trails.

        Visible points are filled discs; occluded ones are crosses (or not
        drawn). The trail of a point joins its positions over the last
        ``trail_length`` frames, segment by segment, where both ends are
        visible.

        Args:
            points (ArrayLike): ``(N, 2)`` positions ``(x, y)`` in the
                current frame, or ``(T, N, 2)`` positions over frames
                ``0..T-1``, the last being the current one.
            visibility (ArrayLike, optional): ``(N,)`` or ``(T, N)`` booleans
                (True = visible), shaped like ``points`` without the last
                axis; None means all visible.
            colors (list[tuple[int, int, int]], optional): One RGB colour per
                point; None means evenly spaced hues (:func:`track_colors`).
            trail_length (int): Frames of trail behind the current position
                (0: no trails). Defaults to 8.
            point_radius (float, optional): Disc radius in pixels; None means
                ``max(2, min(H, W) / 80)``.
            show_occluded (bool): Draw occluded points as crosses. Defaults
                to True.

        Returns:
            TrackingVisualizer: ``self``.
        """
        tracks = _to_numpy(points, np.float64)
        if tracks.ndim == 2:
            tracks = tracks[None]
        if tracks.ndim != 3 or tracks.shape[-1] != 2:
            raise ValueError(f'points are (N, 2) or (T, N, 2), got shape {tracks.shape}')
        num_frames, num = tracks.shape[:2]
        if visibility is None:
            vis = np.ones((num_frames, num), bool)
        else:
            vis = _to_numpy(visibility).astype(bool).reshape(-1, num)
            if vis.shape[0] != num_frames:
                raise ValueError(f'visibility {vis.shape} does not match points '
                                 f'{tracks.shape[:2]}')
        vis = vis & np.isfinite(tracks).all(axis=-1)
        if num == 0:
            return self
        colors = track_colors(num) if colors is None else [_rgb(c) for c in colors]
        if len(colors) != num:
            raise ValueError(f'{len(colors)} colours for {num} points')

        # trails: segments (t - 1 -> t) over the last trail_length frames
        start = max(0, num_frames - 1 - trail_length)
        xs, ys, seg_colors = [], [], []
        for t in range(start + 1, num_frames):
            both = vis[t - 1] & vis[t]
            for n in np.flatnonzero(both):
                xs.append([tracks[t - 1, n, 0], tracks[t, n, 0]])
                ys.append([tracks[t - 1, n, 1], tracks[t, n, 1]])
                seg_colors.append(colors[n])
        if xs:
            with self._in_frame():
                self.draw_lines(np.array(xs), np.array(ys), colors=seg_colors, line_widths=1)

        if point_radius is None:
            point_radius = max(2., min(self.width, self.height) / 80)
        # scatter sizes are areas in points^2 of the marker's bounding square
        size = (2 * point_radius * 72 / self.dpi)**2
        current, now = tracks[-1], vis[-1]
        for mask, marker in ((now, 'o'), (~now if show_occluded else None, 'x')):
            if mask is None or not mask.any():
                continue
            idx = np.flatnonzero(mask & np.isfinite(current).all(axis=-1))
            if not len(idx):
                continue
            with self._in_frame():
                self.draw_points(
                    current[idx],
                    colors=[colors[i] for i in idx],
                    marker=marker,
                    sizes=np.full(len(idx), size))
        return self
