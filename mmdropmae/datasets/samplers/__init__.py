from .video_sampler import VideoSampler, split_videos  # noqa: F401
