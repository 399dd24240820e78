"""Optical-flow files (``.flo``, KITTI PNG): :mod:`mmdropmae.utils.flow_io`,
shared with the data sets and the synthetic generator."""
from mmdropmae.utils.flow_io import *  # noqa: F401,F403
from mmdropmae.utils.flow_io import __all__  # noqa: F401
