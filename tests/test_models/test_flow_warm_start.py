"""RAFT's Sintel warm start: forward interpolation of the low-resolution flow
(RAFT ``forward_interpolate``) and its use across the pairs of a sequence."""
import numpy as np
import pytest
import torch

from mmdropmae.models.flow.warm_start import WarmStartState, forward_interpolate
from mmdropmae.structures import DataSample
from .test_flow_model import _tiny as tiny_dropflow


def _nearest_reference(flow: np.ndarray) -> np.ndarray:
    """Brute force: every grid pixel takes the flow of the nearest forward-moved
    pixel among those landing strictly inside the grid."""
    _, h, w = flow.shape
    ys, xs = np.mgrid[0:h, 0:w]
    x1, y1 = (xs + flow[0]).ravel(), (ys + flow[1]).ravel()
    keep = (x1 > 0) & (x1 < w) & (y1 > 0) & (y1 < h)
    px, py = x1[keep], y1[keep]
    fx, fy = flow[0].ravel()[keep], flow[1].ravel()[keep]
    out = np.zeros_like(flow)
    for y in range(h):
        for x in range(w):
            k = np.argmin((px - x)**2 + (py - y)**2)
            out[:, y, x] = fx[k], fy[k]
    return out


def test_forward_interpolate_matches_brute_force_nearest():
    rng = np.random.default_rng(0)
    flow = rng.uniform(-2.5, 2.5, (2, 7, 9)).astype(np.float32)
    out = forward_interpolate(torch.from_numpy(flow))
    assert out.dtype == torch.float32 and out.shape == (2, 7, 9)
    np.testing.assert_allclose(out.numpy(), _nearest_reference(flow), atol=1e-6)
    # not the identity: pixels take the flow of whatever lands nearest them
    assert not np.allclose(out.numpy(), flow)


def test_forward_interpolate_hand_cases():
    # a translation is carried unchanged everywhere
    flow = torch.zeros(2, 4, 5)
    flow[0], flow[1] = 1.25, 0.5
    torch.testing.assert_close(forward_interpolate(flow), flow)
    # RAFT's strict bounds: x = 0 / y = 0 are outside; nothing inside -> zeros
    out = forward_interpolate(torch.full((2, 3, 3), -10.0))
    torch.testing.assert_close(out, torch.zeros(2, 3, 3))
    with pytest.raises(ValueError, match=r'\(2, H, W\)'):
        forward_interpolate(torch.zeros(1, 2, 3, 3))


def test_warm_start_state_resets_on_a_new_sequence_or_gap():
    state = WarmStartState()
    low = torch.zeros(2, 3, 4)
    low[0] = 1.5
    assert state.take('clean/alley_1', 1) is None
    state.put('clean/alley_1', 1, low)
    torch.testing.assert_close(state.take('clean/alley_1', 2), forward_interpolate(low)[None])
    assert state.take('clean/alley_1', 3) is None  # a pair was skipped
    assert state.take('clean/ambush_2', 2) is None  # another sequence


def _tiny(**test_cfg):
    model = tiny_dropflow(**test_cfg)
    # the zero-initialised last layers would make every flow zero: perturb them
    with torch.no_grad():
        for p in model.head.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model


def test_dropflow_warm_start_carries_the_previous_low_flow():
    model = _tiny(warm_start=True)
    calls = []
    head_forward = model.head.forward

    def spy(*args, **kwargs):
        out = head_forward(*args, **kwargs)
        calls.append((kwargs.get('flow_init'), out[1].clone()))
        return out

    model.head.forward = spy
    names = ['clean/alley_1/frame0001', 'clean/alley_1/frame0002', 'clean/bamboo_1/frame0001']
    torch.manual_seed(1)
    pairs = torch.randint(0, 255, (3, 2, 3, 48, 80), dtype=torch.uint8)
    flows = []
    for name, pair in zip(names, pairs):
        data = model.data_preprocessor(dict(inputs=[pair], data_samples=None))
        sample = DataSample(metainfo=dict(out_name=name))
        flows.append(model.predict(data['inputs'], [sample])[0].pred_flow)
    assert calls[0][0] is None and calls[2][0] is None  # cold at each sequence start
    torch.testing.assert_close(calls[1][0], forward_interpolate(calls[0][1][0])[None])
    # the second pair's prediction depends on the carried flow
    cold = _tiny()
    data = cold.data_preprocessor(dict(inputs=[pairs[1]], data_samples=None))
    cold_flow = cold.predict(data['inputs'], [DataSample(metainfo=dict(out_name=names[1]))])
    assert not torch.allclose(cold_flow[0].pred_flow, flows[1])
    # same weights, cold start: the first pair of a sequence is the same
    data = cold.data_preprocessor(dict(inputs=[pairs[0]], data_samples=None))
    torch.testing.assert_close(
        cold.predict(data['inputs'], [DataSample(metainfo=dict(out_name=names[0]))])[0]
        .pred_flow, flows[0])


def test_dropflow_warm_start_config_errors():
    with pytest.raises(ValueError, match='untiled'):
        _tiny(warm_start=True, tile_size=32)
    with pytest.raises(ValueError, match='refinement'):
        _tiny(warm_start=True, num_iters=0)
    model = _tiny(warm_start=True)
    data = model.data_preprocessor(dict(inputs=[torch.zeros(2, 3, 32, 32, dtype=torch.uint8)],
                                        data_samples=None))
    with pytest.raises(ValueError, match='out_name'):
        model.predict(data['inputs'], [DataSample(metainfo=dict(out_name='no_frame'))])
