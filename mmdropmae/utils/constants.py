"""Constants shared by data sets, models and evaluation.

This module imports nothing, so every package may use it without creating an
import dependency between ``mmdropmae.datasets``, ``mmdropmae.models`` and
``mmdropmae.evaluation``.
"""
__all__ = ['IMAGENET_MEAN', 'IMAGENET_STD', 'IMG_EXTENSIONS']

#: ImageNet channel means of RGB images in ``[0, 255]`` (the torchvision
#: ``(0.485, 0.456, 0.406)`` times 255), as used by MAE / DropMAE / OSTrack.
IMAGENET_MEAN = (123.675, 116.28, 103.53)

#: ImageNet channel standard deviations of RGB images in ``[0, 255]`` (the
#: torchvision ``(0.229, 0.224, 0.225)`` times 255).
IMAGENET_STD = (58.395, 57.12, 57.375)

#: Lower-case file endings of the frame images the data set loaders list
#: (SOT benchmarks ship ``.jpg``; some converted sets use ``.png``, ``.bmp``
#: or ``.webp``). A tuple, so that ``str.endswith`` accepts it.
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')
