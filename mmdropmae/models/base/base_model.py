"""The base of the task models, pre-training and downstream (mmtracking 1.x /
mmpretrain style): forward-mode dispatch, data samples in and out, and the
pre-trained-encoder loading every downstream task shares."""
import logging
from abc import abstractmethod
from typing import Dict, List, Optional, Union

from mmengine.logging import print_log
from mmengine.model import BaseModel
from torch import Tensor

from mmdropmae.structures.data_sample import DataSample


class BaseTaskModel(BaseModel):
    """Base of every task model (DropMAE, trackers, segmenters, ...).

    ``forward(inputs, data_samples, mode)`` dispatches as MMEngine's runner
    expects: ``'loss'`` -> :meth:`loss` (dict of losses), ``'predict'`` ->
    :meth:`predict` (a list of :class:`DataSample`), ``'tensor'`` ->
    :meth:`_forward` (raw network outputs).

    :meth:`init_weights` skips a backbone ``init_cfg=dict(type='Pretrained')``
    whose ``checkpoint`` is empty with a warning (random encoder), so that
    configs can leave the checkpoint to ``--cfg-options
    model.backbone.init_cfg.checkpoint=...``.
    """

    def forward(self,
                inputs: Union[Tensor, dict, List],
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}": use loss, predict or tensor')

    @abstractmethod
    def loss(self, inputs, data_samples: Optional[List[DataSample]]) -> Dict[str, Tensor]:
        """Losses of a training batch."""

    @abstractmethod
    def predict(self, inputs, data_samples: Optional[List[DataSample]]) -> List[DataSample]:
        """Predictions, one data sample per output item."""

    @abstractmethod
    def _forward(self, inputs, data_samples: Optional[List[DataSample]] = None):
        """Raw network outputs (``mode='tensor'``)."""

    def init_weights(self) -> None:
        backbone = getattr(self, 'backbone', None)
        init = getattr(backbone, 'init_cfg', None)
        if isinstance(init, dict) and init.get('type') == 'Pretrained' \
                and not init.get('checkpoint'):
            print_log(
                f'{type(self).__name__}: no DropMAE checkpoint given '
                '(model.backbone.init_cfg.checkpoint is empty): the encoder '
                'starts from random weights', logger='current', level=logging.WARNING)
            backbone.init_cfg = None
        super().init_weights()
