from .formatting import PackPairInputs
from .loading import LoadFramePairFromVideo, sample_frame_pair
from .processing import RandomFlip, RandomResizedCrop, random_resized_crop_params

__all__ = [
    'LoadFramePairFromVideo', 'sample_frame_pair', 'RandomResizedCrop', 'RandomFlip',
    'random_resized_crop_params', 'PackPairInputs'
]
from .sot_transforms import (LoadSOTPairImages, LoadTrackingFrame, PackSOTPairInputs,  # noqa: F401
                             PackTrackingFrame, SOTPairBrightnessJitter, SOTPairCrop,
                             SOTPairGrayscale, SOTPairRandomFlip, sample_target)
from .vos_transforms import (LoadVOSClip, LoadVOSSequence, PackVOSClip,  # noqa: F401
                             PackVOSSequence, VOSClipColorJitter, VOSClipRandomFlip,
                             VOSClipRandomResizedCrop)
from .tap_transforms import (LoadTAPVidVideo, PackTAPInputs, TAPClipRandomFlip,  # noqa: F401
                             TAPClipSample, TAPVidSampleQueries, resize_tapvid_video)
from .sot3d_transforms import (LoadSOT3DPoints, PackSOT3DFrame, PackSOT3DInputs,  # noqa: F401
                               SOT3DPairToBEV)
from .flow_transforms import (FlowColorJitter, FlowEraser, FlowRandomCrop,  # noqa: F401
                              FlowRandomFlip, FlowRandomResize, LoadFlowPair, PackFlowInputs)
