"""A toy model and dataset for the tool-script tests (no mmdropmae model).

Imported through ``custom_imports`` of ``toy_config.py``; the tests put this
folder on ``PYTHONPATH``. A linear regression on fixed random data: the loss
falls quickly, so a short run shows that training really happens.
"""
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from mmdropmae.registry import DATASETS, METRICS, MODELS


@MODELS.register_module()
class ToyRegressor(BaseModel):

    def __init__(self, in_dim=8, data_preprocessor=None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.linear = torch.nn.Linear(in_dim, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        inputs = torch.stack(inputs) if isinstance(inputs, list) else inputs
        pred = self.linear(inputs).squeeze(-1)
        if mode == 'tensor':
            return pred
        targets = torch.stack(targets) if isinstance(targets, list) \
            else targets
        if mode == 'loss':
            return dict(loss=((pred.float() - targets) ** 2).mean())
        # mode == 'predict'
        return [dict(pred=p, target=t) for p, t in zip(pred, targets)]


@DATASETS.register_module()
class ToyRegressionDataset(Dataset):

    def __init__(self, length=64, in_dim=8, seed=0, pipeline=None):
        # the same true weights for every split; inputs differ by seed
        w = torch.randn(in_dim, generator=torch.Generator().manual_seed(1234))
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(length, in_dim, generator=g)
        self.y = self.x @ w + 0.5
        self.metainfo = dict(name='toy')

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return dict(inputs=self.x[idx], targets=self.y[idx])


@METRICS.register_module()
class ToyMSEMetric(BaseMetric):

    def process(self, data_batch, data_samples):
        for s in data_samples:
            self.results.append(float((s['pred'] - s['target']) ** 2))

    def compute_metrics(self, results):
        return dict(mse=sum(results) / max(len(results), 1))
