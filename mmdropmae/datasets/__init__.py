from .samplers import *  # noqa: F401,F403
from .transforms import (LoadFramePairFromVideo, PackPairInputs, RandomFlip,
                         RandomResizedCrop, random_resized_crop_params, sample_frame_pair)
from .video_pair_dataset import VIDEO_EXTENSIONS, VideoPairDataset
from .video_reader import (VIDEO_READERS, BaseVideoReader, DecordReader, OpenCVReader,
                           PyAVReader, TorchCodecReader, VideoReadError, available_backends,
                           build_video_reader)

__all__ = [
    'VideoPairDataset', 'VIDEO_EXTENSIONS', 'VideoReadError', 'BaseVideoReader', 'PyAVReader',
    'DecordReader', 'TorchCodecReader', 'OpenCVReader', 'VIDEO_READERS', 'available_backends',
    'build_video_reader', 'LoadFramePairFromVideo', 'sample_frame_pair', 'RandomResizedCrop',
    'RandomFlip', 'random_resized_crop_params', 'PackPairInputs'
]
from .sot import *  # noqa: F401,F403,E402
from .sot_pair_dataset import SOTPairDataset  # noqa: F401,E402
from .vos import *  # noqa: F401,F403,E402
from .correspondence import *  # noqa: F401,F403,E402
from .vos_clip_dataset import VOSClipDataset  # noqa: F401,E402
from .prepared_video import (FrameFolderReader, LoadFramePairFromFrames,  # noqa: F401,E402
                             RawframePairDataset)
from .sot3d import *  # noqa: F401,F403,E402
from .tap import *  # noqa: F401,F403,E402
from .flow import *  # noqa: F401,F403,E402
