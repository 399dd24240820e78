"""Sampler that gives every rank whole videos, in order (SOT testing)."""
from typing import Iterator, List, Sized

import numpy as np
from mmengine.dist import get_dist_info
from torch.utils.data import Sampler

from mmdropmae.registry import DATA_SAMPLERS


def split_videos(lengths: List[int], world_size: int) -> List[List[int]]:
    """Split videos into ``world_size`` contiguous chunks of about equal
    total frame counts (videos are never cut; order is kept).

    Args:
        lengths (list[int]): Frames per video.
        world_size (int): Number of ranks.

    Returns:
        list[list[int]]: Video indices of each rank (some may be empty).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    cum = np.cumsum(lengths) - lengths / 2.0  # centre of each video
    chunks: List[List[int]] = [[] for _ in range(world_size)]
    for v, c in enumerate(cum):
        r = min(world_size - 1, int(c * world_size / max(total, 1)))
        chunks[r].append(v)
    return chunks


@DATA_SAMPLERS.register_module()
class VideoSampler(Sampler):
    """Yield the flat frame indices of whole videos, video after video and
    frame after frame, each video on one rank only.

    Works with any dataset that has ``num_videos``, ``get_len_per_video`` and
    ``video_frame_range`` (``BaseSOTDataset`` in ``test_mode``). Rank ``r``
    gets a contiguous block of videos with about ``1/world_size`` of the
    frames; no padding (use a metric that gathers uneven parts, as
    ``OPEMetric`` does).

    Args:
        dataset (Sized): The dataset.
        seed (int, optional): Unused (for the MMEngine sampler signature).
    """

    def __init__(self, dataset: Sized, seed=None, round_up: bool = False) -> None:
        self.dataset = dataset
        self.rank, self.world_size = get_dist_info()
        if not hasattr(dataset, 'get_len_per_video'):
            raise TypeError(f'{type(dataset).__name__} has no get_len_per_video(); '
                            'VideoSampler needs a video dataset such as BaseSOTDataset')
        lengths = [dataset.get_len_per_video(i) for i in range(dataset.num_videos)]
        self.video_indices = split_videos(lengths, self.world_size)[self.rank]
        self.indices: List[int] = []
        for v in self.video_indices:
            self.indices.extend(dataset.video_frame_range(v))

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)

    def set_epoch(self, epoch: int) -> None:
        """Not shuffled: nothing to do."""
