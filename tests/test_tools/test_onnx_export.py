"""ONNX export of the DropTrack network (candidate elimination included) and
the onnxruntime backend of the tracker, on a tiny model."""
import os.path as osp

import numpy as np
import pytest
import torch

from tests.utils import REPO, load_script

pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')

CONFIG = osp.join(REPO, 'configs', 'droptrack', 'droptrack_tiny_synthetic.py')


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    exporter = load_script('tools/deployment/pytorch2onnx.py')
    torch.manual_seed(0)
    model = exporter.build_model(CONFIG, 'none')
    path = str(tmp_path_factory.mktemp('onnx') / 'tiny.onnx')
    info = exporter.export_onnx(model, path)
    return exporter, model, path, info


def test_export_graph(exported):
    import onnx
    exporter, model, path, info = exported
    proto = onnx.load(path)
    assert max(o.version for o in proto.opset_import if o.domain in ('', 'ai.onnx')) >= 17
    assert [i.name for i in proto.graph.input] == ['template', 'search']
    assert [o.name for o in proto.graph.output] == list(exporter.ALL_OUTPUTS)
    # candidate elimination: sort (TopK), gather of the kept, scatter back
    assert {'TopK', 'GatherElements', 'ScatterElements'} <= set(info['ops'])
    # 8x8 search tokens: ceil(0.7 * 64) = 45, ceil(0.7 * 45) = 32, ceil(0.7 * 32) = 23
    assert info['kept_tokens'] == [45, 32, 23]
    dims = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim]
            for i in proto.graph.input}
    assert dims == dict(template=[1, 3, 64, 64], search=[1, 3, 128, 128])
    assert not model.training  # the exporter leaves the model in eval mode


def test_random_inputs_match_pytorch(exported):
    exporter, model, path, _ = exported
    diffs = exporter.verify_random(model, path, trials=3)
    assert set(diffs) == set(exporter.ALL_OUTPUTS)
    assert max(diffs.values()) < 1e-4, diffs


def test_sequence_boxes_match_pytorch(exported):
    """A synthetic sequence tracked with the network in PyTorch and in
    onnxruntime: the same boxes (well within 0.5 px)."""
    exporter, model, path, _ = exported
    res = exporter.verify_sequence(model, path, num_frames=15)
    assert res['max_px'] < 0.05, res['max_px']
    assert np.ptp(res['torch_boxes'][:, 0]) > 1  # the boxes move: a real check


def test_ort_network_checks_shapes(exported):
    _, model, path, _ = exported
    ort_backend = load_script('tools/deployment/ort_backend.py')
    net = ort_backend.ORTNetwork(path)
    out = net(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 128, 128))
    assert out['score_map'].shape == (1, 1, 8, 8) and out['size_map'].shape == (1, 2, 8, 8)
    with pytest.raises(ValueError, match='exported for search'):
        net(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 256, 256))


@pytest.mark.slow
def test_cli(exported, tmp_path, capsys):
    exporter = exported[0]
    out = str(tmp_path / 'cli.onnx')
    assert exporter.main([CONFIG, 'none', out, '--frames', '6']) == 0
    printed = capsys.readouterr().out
    assert 'opset 17' in printed and 'max abs difference' in printed
    assert 'boxes differ by at most' in printed
    assert exporter.main([CONFIG, 'none', out, '--opset', '13']) == 1


@pytest.mark.slow
def test_demo_and_benchmark_backend(exported, tmp_path, capsys):
    from mmdropmae.datasets.synthetic.sot import render_sot_sequence
    from mmdropmae.datasets.synthetic.writer import write_video
    _, model, path, _ = exported
    seq = render_sot_sequence(6, (96, 64), seed=2)
    video = str(tmp_path / 'clip.mp4')
    write_video(video, seq.frames, fps=10)
    ckpt = str(tmp_path / 'tiny.pth')
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, ckpt)
    box = ','.join(str(int(v)) for v in seq.boxes[0])
    demo = load_script('demo/track.py')
    txt = str(tmp_path / 'boxes.txt')
    assert demo.main([video, '--config', CONFIG, '--checkpoint', ckpt, '--init-bbox', box,
                      '--backend', 'onnxruntime', '--onnx', path, '--compare', '--out-txt', txt,
                      '--no-progress']) == 0
    printed = capsys.readouterr().out
    assert '(onnxruntime)' in printed and 'onnxruntime / PyTorch' in printed
    assert len(open(txt).read().splitlines()) == 6
    bench = load_script('tools/benchmarks/tracker_speed.py')
    res = bench.main(['--config', CONFIG, '--frames', '3', '--warmup', '1', '--size', '160x120',
                      '--backend', 'onnxruntime'])
    printed = capsys.readouterr().out
    assert 'onnxruntime / pytorch =' in printed and 'cores' in printed
    assert res['fps_ratio'] > 0 and res['max_box_diff_px'] < 0.05
