"""Pack a whole-video entry so that MMEngine's ``pseudo_collate`` keeps it
intact (a plain nested dict would be collated key by key)."""
import torch

from mmdropmae.registry import TRANSFORMS
from mmdropmae.structures.data_sample import DataSample


@TRANSFORMS.register_module()
class PackSequence:
    """``entry -> dict(inputs=(T, 3, H, W) uint8 frames, data_samples=
    DataSample(metainfo=the rest))``.

    One data item is one whole video (label propagation); ``frames`` come
    from :class:`LoadSequenceFrames`. Without them only the data sample is
    packed.
    """

    def __call__(self, results: dict) -> dict:
        results = dict(results)
        frames = results.pop('frames', None)
        packed = dict(data_samples=DataSample(metainfo=results))
        if frames is not None:
            packed['inputs'] = torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()
        return packed

    def __repr__(self) -> str:
        return 'PackSequence()'
