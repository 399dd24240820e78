"""Pack a frame pair into the model's inputs."""
from typing import Dict, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from mmdropmae.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackPairInputs(BaseTransform):
    """Stack ``results['imgs']`` into a ``uint8`` tensor ``(N, 3, H, W)``
    (``N = 2``: frame ``x`` then frame ``z``) and collect meta information.

    Required keys:

    - imgs (list[np.ndarray]): RGB ``uint8`` frames of one shape ``(H, W, 3)``.

    Returns:
        dict: ``inputs`` (``torch.uint8`` tensor ``(N, 3, H, W)``) and
        ``data_samples`` (:class:`mmengine.structures.BaseDataElement` whose
        metainfo holds the ``meta_keys`` present in ``results``).

    Args:
        meta_keys (Sequence[str]): Keys copied into the data sample's
            metainfo when present.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('filename', 'label', 'frame_inds', 'num_frames',
                                             'ori_shape', 'img_shape', 'crop_bboxes', 'flip')
                 ) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Dict:
        imgs = results['imgs']
        shapes = {tuple(img.shape) for img in imgs}
        if len(shapes) != 1:
            raise ValueError(f'cannot stack frames of different shapes {sorted(shapes)}; '
                             'resize/crop them to one size first')
        stacked = np.stack(imgs)  # (N, H, W, C); also makes flipped views contiguous
        if stacked.ndim == 3:
            stacked = stacked[..., None]
        inputs = torch.from_numpy(np.ascontiguousarray(stacked.transpose(0, 3, 1, 2)))
        metainfo = {k: results[k] for k in self.meta_keys if k in results}
        return dict(inputs=inputs, data_samples=BaseDataElement(metainfo=metainfo))

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
