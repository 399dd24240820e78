"""Log during pre-training whether the decoder learns temporal matching."""
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmdropmae.apis import probe_temporal_matching, reconstruction_grid
from mmdropmae.registry import HOOKS


@HOOKS.register_module()
class TemporalMatchingMonitorHook(Hook):
    """Every ``interval`` iterations, probe the decoder on the current batch.

    Logs, to the log and to every visualizer backend (local files,
    TensorBoard, ...):

    - ``attn/within_l{i}`` and ``attn/between_l{i}``: the mean attention
      mass that decoder layer ``i`` puts on the query's own frame and on the
      other frame (eval mode: ASAD off). A rising ``between`` means the model
      learns to match across frames (the paper's Fig. 4);
    - ``attn/between_mean``: its mean over layers;
    - image ``reconstruction``: frame x / masked / reconstructed, then the
      same for frame z (the paper's Fig. 2).

    Args:
        interval (int): Iterations between probes. Defaults to 1000.
        max_samples (int): Pairs of the batch used. Defaults to 4.
    """
    priority = 'LOW'

    def __init__(self, interval: int = 1000, max_samples: int = 4):
        if interval <= 0:
            raise ValueError(f'interval must be positive, got {interval}')
        self.interval = interval
        self.max_samples = max_samples

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[Sequence] = None) -> None:
        if not self.every_n_train_iters(runner, self.interval) or \
                data_batch is None:
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        data = model.data_preprocessor(data_batch, False)
        inputs = data['inputs'][:self.max_samples]
        out = probe_temporal_matching(model, inputs)
        step = runner.iter + 1
        scalars = {}
        for i, (w, b) in enumerate(zip(out['within'], out['between'])):
            scalars[f'attn/within_l{i}'] = w
            scalars[f'attn/between_l{i}'] = b
        scalars['attn/between_mean'] = sum(out['between']) / len(
            out['between'])
        runner.visualizer.add_scalars(scalars, step=step)
        pre = model.data_preprocessor
        grid = reconstruction_grid(inputs, out, pre.mean.flatten(),
                                   pre.std.flatten(), self.max_samples)
        runner.visualizer.add_image('reconstruction', grid, step=step)
        runner.logger.info(
            'decoder attention between frames per layer: ' + ', '.join(
                f'{b:.3f}' for b in out['between']) +
            f' (mean {scalars["attn/between_mean"]:.3f})')
