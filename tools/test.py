# Copyright (c) mmdropmae contributors. All rights reserved.
"""Test (evaluate) a checkpoint with MMEngine's ``Runner``.

Examples::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --out results.pkl
    bash tools/dist_test.sh CONFIG CHECKPOINT 8

On a machine without CUDA, distributed runs use the gloo backend (see
``tools/train.py``).
"""
import argparse
import logging
import os.path as osp
import sys

from mmengine.logging import print_log
from mmengine.runner import Runner

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from train import (add_runner_args, allow_full_checkpoint_load,  # noqa: E402
                   load_config, parse_runner_args, setup_cpu_distributed,
                   shutdown_distributed)


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--out',
        type=str,
        help='dump the raw predictions to this pickle file (.pkl) for offline '
        'evaluation')
    parser.add_argument(
        '--resume-results',
        action='store_true',
        help='continue an interrupted evaluation: skip the videos whose result '
        "files under the test metric's outfile_prefix are complete, then score all "
        'videos from the result folder (metrics that write per-video results, e.g. '
        'the tracking metrics)')
    add_runner_args(parser)
    return parse_runner_args(parser)


def setup_resume(cfg):
    """``--resume-results``: let the first test metric that can resume from
    its result files (a ``resume_dataset_cfg`` class method, e.g. the
    tracking metrics) make the test dataset skip the finished videos.

    Returns ``(metric class, metric config)``.
    """
    from mmdropmae.registry import METRICS
    evaluators = cfg.test_evaluator
    if not isinstance(evaluators, (list, tuple)):
        evaluators = [evaluators]
    for metric in evaluators:
        metric_cls = METRICS.get(metric.get('type'))
        if hasattr(metric_cls, 'resume_dataset_cfg'):
            cfg.test_dataloader.dataset.update(metric_cls.resume_dataset_cfg(metric))
            return metric_cls, metric
    raise ValueError('--resume-results needs a test_evaluator metric that resumes from its '
                     'per-video result files (a metric class with resume_dataset_cfg, e.g. the '
                     'tracking metrics, with outfile_prefix set); got '
                     f'{[m.get("type") for m in evaluators]}')


def main():
    args = parse_args()

    cfg = load_config(args)

    cfg.load_from = args.checkpoint
    cfg.resume = False
    resumed = setup_resume(cfg) if args.resume_results else None

    notes = []
    allow_full_checkpoint_load(notes)
    setup_cpu_distributed(cfg, args.launcher, notes)

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        from mmdropmae.registry import RUNNERS
        runner = RUNNERS.build(cfg)

    for note in notes:
        print_log(note, logger=runner.logger, level=logging.WARNING)

    if args.out is not None:
        assert args.out.endswith(('.pkl', '.pickle')), \
            'The dump file (--out) must be a .pkl file.'
        # ours keeps every frame of whole-video items (MMEngine's the first)
        from mmdropmae.evaluation.metrics import DumpResults
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))

    runner.test()
    if resumed is not None:
        metric_cls, metric_cfg = resumed
        metric_cls.report_resumed(runner, metric_cfg)
    shutdown_distributed()


if __name__ == '__main__':
    main()
