"""TrackingVisualizer: pixels of the drawn boxes, masks, flow and points."""
import numpy as np
import pytest
import torch

from mmdropmae.visualization import TrackingVisualizer, track_colors

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _vis(image: np.ndarray) -> TrackingVisualizer:
    vis = TrackingVisualizer(name='test_tracking_visualizer')
    vis.set_image(image)
    return vis


def _close(pixel, color, tol=8) -> bool:
    return bool(np.all(np.abs(np.asarray(pixel, int) - np.asarray(color, int)) <= tol))


def test_build_from_registry():
    from mmengine.registry import init_default_scope

    from mmdropmae.registry import VISUALIZERS
    init_default_scope('mmdropmae')
    vis = VISUALIZERS.build(dict(type='TrackingVisualizer'))
    assert isinstance(vis, TrackingVisualizer)
    named = VISUALIZERS.build(dict(type='TrackingVisualizer', name='test_named', mask_alpha=0.3))
    assert named.instance_name == 'test_named' and named.mask_alpha == 0.3


def test_get_image_round_trips_the_frame():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    np.testing.assert_array_equal(_vis(frame).get_image(), frame)


def test_box_edges_at_the_right_place_and_colour():
    img = np.zeros((60, 80, 3), np.uint8)
    vis = _vis(img)
    vis.draw_track_boxes(pred_boxes=[20, 10, 60, 50], pred_color=RED, line_width=2)
    out = vis.get_image()
    assert out.shape == img.shape
    # Agg snaps the line x = 20 (2 pt = 2.8 px wide) onto pixel column 20: that column has
    # the colour, its neighbours most of it (anti-aliasing), the rest none
    for y in (20, 30, 40):
        assert _close(out[y, 20], RED) and _close(out[y, 60], RED), out[y, 16:24]
        for x in (19, 21, 59, 61):
            assert _close(out[y, x], RED, tol=40), out[y, x]
        assert out[y, 17].max() == 0 and out[y, 40].max() == 0 and out[y, 63].max() == 0
    for x in (30, 40, 50):
        assert _close(out[10, x], RED) and _close(out[50, x], RED), out[6:14, x]
        assert out[7, x].max() == 0 and out[30, x].max() == 0 and out[53, x].max() == 0
    # the brightest column of the row is the edge
    assert int(out[30, 10:30, 0].argmax()) + 10 == 20
    assert out[30, :, 1:].max() == 0  # pure red, nothing else


def test_box_formats_and_ground_truth():
    img = np.full((60, 80, 3), 40, np.uint8)
    xyxy = _vis(img).draw_track_boxes(pred_boxes=[[20, 10, 60, 50]]).get_image()
    xywh = _vis(img).draw_track_boxes(pred_boxes=torch.tensor([20., 10., 40., 40.]),
                                      box_format='xywh').get_image()
    np.testing.assert_array_equal(xyxy, xywh)
    assert _close(xyxy[30, 20], (255, 64, 0))  # the default prediction colour

    out = _vis(img).draw_track_boxes(
        pred_boxes=[30, 20, 70, 50], gt_boxes=[[5, 5, 25, 25], [np.nan] * 4],
        gt_color=GREEN, pred_color=RED).get_image()
    assert _close(out[15, 5], GREEN) and _close(out[35, 30], RED)
    with pytest.raises(ValueError, match='box_format'):
        TrackingVisualizer.boxes_to_xyxy([0, 0, 1, 1], 'cxcywh')


def test_score_text_at_the_box():
    img = np.zeros((80, 120, 3), np.uint8)
    plain = _vis(img).draw_track_boxes(pred_boxes=[40, 40, 100, 70], pred_color=RED).get_image()
    scored = _vis(img).draw_track_boxes(pred_boxes=[40, 40, 100, 70], scores=0.87,
                                        pred_color=RED).get_image()
    changed = np.argwhere(np.any(plain != scored, axis=-1))
    assert len(changed)
    # written just above the top-left corner
    assert changed[:, 0].max() <= 41 and changed[:, 0].min() >= 40 - 25
    assert changed[:, 1].min() >= 38 and changed[:, 1].max() <= 100
    yellow = np.all(scored == (255, 255, 0), axis=-1) | (
        (scored[..., 0] > 150) & (scored[..., 1] > 150) & (scored[..., 2] < 80))
    assert yellow[15:41, 38:100].any()
    with pytest.raises(ValueError, match='scores'):
        _vis(img).draw_track_boxes(pred_boxes=[[0, 0, 5, 5]], scores=[0.1, 0.2])


def test_mask_overlay_blends_with_alpha():
    img = np.empty((40, 50, 3), np.uint8)
    img[:] = (100, 150, 200)
    ids = np.zeros((40, 50), np.uint8)
    ids[10:20, 10:30] = 1
    ids[25:35, 5:15] = 2
    ids[0, 0] = 255  # DAVIS void: not drawn
    alpha = 0.5
    out = _vis(img).draw_masks(ids, alpha=alpha).get_image()
    from mmdropmae.utils.fileio import DAVIS_PALETTE
    for k, (ys, xs) in ((1, (slice(10, 20), slice(10, 30))), (2, (slice(25, 35), slice(5, 15)))):
        expected = np.round((1 - alpha) * img[0, 1] + alpha * DAVIS_PALETTE[k].astype(float))
        region = out[ys, xs].reshape(-1, 3).astype(int)
        assert np.abs(region - expected).max() <= 1, (k, region[0], expected)
    np.testing.assert_array_equal(out[ids == 0], img[ids == 0])
    np.testing.assert_array_equal(out[0, 0], img[0, 0])
    assert _close(out[15, 15], (114, 75, 100), tol=1)  # (100+128)/2, 150/2, 200/2

    # a stack of binary masks: mask i is object i + 1
    stack = np.stack([ids == 1, ids == 2])
    np.testing.assert_array_equal(_vis(img).draw_masks(stack, alpha=alpha).get_image(), out)
    # another opacity
    out3 = _vis(img).draw_masks(ids == 1, alpha=0.25).get_image()
    assert np.abs(out3[15, 15].astype(int) - np.round(
        [0.75 * 100 + 0.25 * 128, 0.75 * 150, 0.75 * 200])).max() <= 1
    # nothing to draw
    np.testing.assert_array_equal(
        _vis(img).draw_masks(np.zeros((40, 50), np.uint8)).get_image(), img)


def test_flow_colour_equals_mmcv():
    import mmcv
    flow = np.zeros((24, 32, 2), np.float32)
    flow[..., 0] = 3.0  # pure +x
    expected = np.round(mmcv.flow2rgb(flow) * 255).astype(np.uint8)
    assert len(np.unique(expected.reshape(-1, 3), axis=0)) == 1
    vis = TrackingVisualizer(name='test_tracking_visualizer')
    out = vis.draw_flow(flow).get_image()
    assert out.shape == (24, 32, 3)
    assert np.abs(out.astype(int) - expected).max() <= 1
    np.testing.assert_array_equal(TrackingVisualizer.flow_to_rgb(flow), expected)
    # (2, H, W) tensors as well
    chw = torch.from_numpy(flow).permute(2, 0, 1)
    np.testing.assert_array_equal(TrackingVisualizer.flow_to_rgb(chw), expected)

    image = np.full((24, 32, 3), 60, np.uint8)
    side = vis.draw_flow(flow, image=image).get_image()
    assert side.shape == (24, 64, 3)
    np.testing.assert_array_equal(side[:, :32], image)
    assert np.abs(side[:, 32:].astype(int) - expected).max() <= 1
    blend = vis.draw_flow(flow, image=image, side_by_side=False, alpha=0.5).get_image()
    assert np.abs(blend.astype(int) - np.round(0.5 * 60 + 0.5 * expected.astype(float))).max() \
        <= 1
    with pytest.raises(ValueError, match='differ'):
        vis.draw_flow(flow, image=np.zeros((10, 10, 3), np.uint8))


def test_points_drawn_where_they_should_be():
    img = np.zeros((60, 80, 3), np.uint8)
    out = _vis(img).draw_point_tracks([[30, 20], [60, 45]], colors=[BLUE, RED],
                                      point_radius=3).get_image()
    assert _close(out[20, 30], BLUE) and _close(out[45, 60], RED)
    assert _close(out[20, 31], BLUE) and _close(out[21, 30], BLUE)
    blue = np.argwhere(np.all(out == BLUE, axis=-1))
    assert np.abs(blue.mean(axis=0) - (20, 30)).max() <= 1  # centred on the point
    assert out[20, 40].max() == 0 and out[30, 30].max() == 0

    # occluded: a cross, or nothing
    vis = [True, False]
    crossed = _vis(img).draw_point_tracks([[30, 20], [60, 45]], visibility=vis,
                                          colors=[BLUE, RED], point_radius=3).get_image()
    assert _close(crossed[45, 60], RED, tol=40)
    hidden = _vis(img).draw_point_tracks([[30, 20], [60, 45]], visibility=vis,
                                         colors=[BLUE, RED], point_radius=3,
                                         show_occluded=False).get_image()
    assert hidden[40:51, 55:66].max() == 0 and _close(hidden[20, 30], BLUE)


def test_point_trails():
    img = np.zeros((60, 80, 3), np.uint8)
    tracks = np.array([[[10., 40.]], [[20., 40.]], [[30., 40.]]])  # T=3, N=1, moving right
    out = _vis(img).draw_point_tracks(tracks, colors=[GREEN], point_radius=2).get_image()
    assert out[40, 15, 1] > 100 and out[40, 25, 1] > 100  # the trail
    assert _close(out[40, 30], GREEN)  # the current point
    assert out[40, 5].max() == 0 and out[30, 15].max() == 0
    # no trail through an occluded frame, no trail when trail_length=0
    gap = _vis(img).draw_point_tracks(tracks, visibility=[[True], [False], [True]],
                                      colors=[GREEN], point_radius=2).get_image()
    assert gap[40, 15].max() == 0 and gap[40, 22].max() == 0
    short = _vis(img).draw_point_tracks(tracks, colors=[GREEN], point_radius=2,
                                        trail_length=1).get_image()
    assert short[40, 15].max() == 0 and short[40, 25, 1] > 100
    none = _vis(img).draw_point_tracks(tracks, colors=[GREEN], point_radius=2,
                                       trail_length=0).get_image()
    assert none[40, 25].max() == 0


def test_track_colors_distinct():
    colors = track_colors(6)
    assert len(set(colors)) == 6 and colors[0] == (255, 0, 0)
    assert all(isinstance(c, int) and 0 <= c <= 255 for rgb in colors for c in rgb)


def test_backend_receives_the_drawn_image(tmp_path):
    import cv2
    vis = TrackingVisualizer(name='test_backend_vis', vis_backends=[dict(type='LocalVisBackend')],
                             save_dir=str(tmp_path))
    img = np.zeros((30, 40, 3), np.uint8)
    vis.set_image(img)
    drawn = vis.draw_track_boxes(pred_boxes=[5, 5, 30, 25], pred_color=RED).get_image()
    vis.add_image('track', drawn, step=3)
    files = list(tmp_path.rglob('track_3.png'))
    assert len(files) == 1
    saved = cv2.cvtColor(cv2.imread(str(files[0])), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(saved, drawn)


def test_box_partly_outside_is_clipped_quietly():
    """A box leaving the frame is clipped by the canvas; the image is not
    rescaled (matplotlib would widen the axes to the box) and no warning."""
    import warnings
    rng = np.random.default_rng(1)
    img = rng.integers(0, 200, (40, 50, 3), dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        vis = _vis(img)
        out = vis.draw_track_boxes(pred_boxes=[30, 10, 80, 30], pred_color=RED,
                                   line_width=1).get_image()
        tracks = vis.draw_point_tracks([[[45., 5.]], [[70., 5.]]], point_radius=1).get_image()
    assert _close(out[20, 30], RED) and _close(out[10, 45], RED)  # the edges inside
    changed = np.any(out != img, axis=-1)
    assert not changed[:8].any() and not changed[:, :28].any() and not changed[33:].any()
    assert not np.any(tracks != out, axis=-1)[20:].any()  # only the trail near the top
