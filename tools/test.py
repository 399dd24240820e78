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

from mmengine.evaluator import DumpResults
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
        help='tracking: skip the sequences whose result files under the SOT '
        "evaluator's outfile_prefix are complete (continue an interrupted "
        'evaluation), then score all sequences from the result folder')
    add_runner_args(parser)
    return parse_runner_args(parser)


SOT_METRICS = ('OPEMetric', 'GOT10kMetric')


def setup_sot_resume(cfg):
    """Make the test dataset skip sequences with complete result files.

    Returns the config of the SOT metric that writes them.
    """
    evaluators = cfg.test_evaluator
    if not isinstance(evaluators, (list, tuple)):
        evaluators = [evaluators]
    for metric in evaluators:
        if metric.get('type') in SOT_METRICS and metric.get('outfile_prefix'):
            layout = metric.get('result_layout') or (
                'got10k' if metric['type'] == 'GOT10kMetric' else
                metric.get('dataset', 'pytracking'))
            cfg.test_dataloader.dataset.skip_finished = dict(
                root=metric['outfile_prefix'], layout=layout)
            return metric
    raise ValueError('--resume-results needs a test_evaluator of type '
                     f'{" or ".join(SOT_METRICS)} with outfile_prefix set')


def report_sot_resume(runner, metric) -> None:
    """After a resumed run, score every sequence from the result folder."""
    from mmdropmae.evaluation.functional.sot_eval import (evaluate_result_dir,
                                                          load_sequences_gt)
    dataset = runner.test_dataloader.dataset
    if not dataset.skipped_videos or metric.get('format_only'):
        return
    name = 'got10k' if metric['type'] == 'GOT10kMetric' else metric.get(
        'dataset', 'default')
    seqs = load_sequences_gt(dataset)
    result = evaluate_result_dir(seqs, metric['outfile_prefix'], name,
                                 dataset.skip_finished['layout'])
    table = '  '.join(f'{k}: {v:.4f}' for k, v in result['metrics'].items())
    print_log(
        f'all {len(seqs)} sequences ({len(dataset.skipped_videos)} from '
        f'earlier runs) scored from {metric["outfile_prefix"]}: {table}',
        logger=runner.logger)


def main():
    args = parse_args()

    cfg = load_config(args)

    cfg.load_from = args.checkpoint
    cfg.resume = False
    sot_metric = setup_sot_resume(cfg) if args.resume_results else None

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
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))

    runner.test()
    if sot_metric is not None:
        report_sot_resume(runner, sot_metric)
    shutdown_distributed()


if __name__ == '__main__':
    main()
