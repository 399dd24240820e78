import torch
from torch import nn

from mmdropmae.engine.optimizers import CPUAmpOptimWrapper
from mmdropmae.registry import OPTIM_WRAPPERS


def test_cpu_amp_autocasts_to_bfloat16_and_steps():
    model = nn.Linear(4, 2)
    wrapper = OPTIM_WRAPPERS.build(
        dict(
            type='CPUAmpOptimWrapper',
            loss_scale='dynamic',  # accepted (GPU configs) and ignored
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    assert isinstance(wrapper, CPUAmpOptimWrapper)
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().pow(2).sum())
    assert not torch.equal(before, model.weight)
    assert model.weight.dtype == torch.float32  # master weights stay fp32
