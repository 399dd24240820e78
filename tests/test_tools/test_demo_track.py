"""demo/track.py on a tiny mp4 (and a frame folder) with a tiny DropTrack."""
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from tests.utils import load_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'droptrack', 'droptrack_tiny_synthetic.py')


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    from mmengine.config import Config

    from mmdropmae.datasets.synthetic.sot import render_sot_sequence
    from mmdropmae.datasets.synthetic.writer import write_video
    from mmdropmae.registry import MODELS
    from mmdropmae.utils import register_all_modules
    register_all_modules()
    root = tmp_path_factory.mktemp('demo_track')
    seq = render_sot_sequence(12, (96, 64), seed=2)
    video = str(root / 'clip.mp4')
    write_video(video, seq.frames, fps=10)
    frames_dir = root / 'frames'
    frames_dir.mkdir()
    for i, f in enumerate(seq.frames[:5]):
        cv2.imwrite(str(frames_dir / f'{i + 1}.jpg'),
                    cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = str(root / 'tiny_droptrack.pth')
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, ckpt)
    box = ','.join(str(int(v)) for v in seq.boxes[0])
    return dict(root=root, video=video, frames=str(frames_dir), ckpt=ckpt,
                box=box, num_frames=12)


def _count_frames(path):
    import av
    with av.open(path) as c:
        return sum(1 for _ in c.decode(video=0))


def test_demo_mp4_writes_outputs(assets, capsys):
    demo = load_script('demo/track.py')
    out = str(assets['root'] / 'out' / 'tracked.mp4')
    txt = str(assets['root'] / 'out' / 'boxes.txt')
    rc = demo.main([assets['video'], '--config', CONFIG, '--checkpoint',
                    assets['ckpt'], '--init-bbox', assets['box'], '--out',
                    out, '--out-txt', txt, '--device', 'cpu'])
    assert rc == 0
    printed = capsys.readouterr()
    assert 'FPS' in printed.out
    assert _count_frames(out) == assets['num_frames']
    rows = [list(map(float, ln.split(','))) for ln in open(txt)]
    assert len(rows) == assets['num_frames']
    assert all(len(r) == 4 and np.isfinite(r).all() for r in rows)
    np.testing.assert_allclose(rows[0], [float(v) for v in
                                         assets['box'].split(',')])
    for x, y, w, h in rows[1:]:
        assert x >= 0 and y >= 0 and x + w <= 96.01 and y + h <= 64.01


def test_demo_frame_folder(assets):
    demo = load_script('demo/track.py')
    txt = str(assets['root'] / 'folder_boxes.txt')
    rc = demo.main([assets['frames'], '--config', CONFIG, '--checkpoint',
                    assets['ckpt'], '--init-bbox', assets['box'],
                    '--out-txt', txt, '--no-progress'])
    assert rc == 0
    assert len(open(txt).read().splitlines()) == 5


@pytest.mark.parametrize('box,message', [
    ('10,10,0,20', 'degenerate'),
    ('10,10,20,-3', 'degenerate'),
    ('500,10,20,20', 'outside'),
    ('-50,-50,20,20', 'outside'),
    ('1,2,3', '4 numbers'),
    ('a,b,c,d', 'non-numeric'),
])
def test_demo_rejects_bad_init_box(assets, capsys, box, message):
    demo = load_script('demo/track.py')
    out = str(assets['root'] / f'bad_{abs(hash(box))}.mp4')
    # (a box starting with '-' must be given as --init-bbox=-50,...)
    rc = demo.main([assets['video'], '--config', CONFIG, '--checkpoint',
                    assets['ckpt'], f'--init-bbox={box}', '--out', out])
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err and 'error' in err
    assert not osp.exists(out)  # nothing written


@pytest.mark.slow
def test_demo_command_line(assets):
    """The script runs as a command (argument parsing, exit code)."""
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'demo', 'track.py'), assets['video'],
         '--config', CONFIG, '--checkpoint', assets['ckpt'], '--init-bbox',
         '0,0,0,0', '--no-progress'],
        capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 2
    assert 'degenerate init box' in proc.stderr


def test_demo_draws_with_the_visualizer():
    """The annotated frames are drawn by TrackingVisualizer: the box in the
    prediction colour at its place, the frame index at the top-left."""
    from mmdropmae.visualization import TrackingVisualizer
    demo = load_script('demo/track.py')
    vis = TrackingVisualizer(name='test_demo_draw')
    frame = np.full((64, 96, 3), 30, np.uint8)
    out = demo.draw_box(vis, frame, [40., 20., 30., 24.], 0.5, 7)  # x, y, w, h
    assert out.shape == frame.shape and out.dtype == np.uint8
    color = np.array(vis.pred_color)
    for y in (28, 36):  # the left and right edges, x = 40 and x = 70
        assert np.abs(out[y, 40].astype(int) - color).max() <= 8
        assert np.abs(out[y, 70].astype(int) - color).max() <= 8
    assert (out[30:40, 50:60] == 30).all()  # inside the box: untouched
    assert (out[:14, :20] != 30).any()  # the frame index
    assert (out[50:, :30] == 30).all()  # elsewhere: untouched
