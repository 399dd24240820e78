"""Data of the label-propagation correspondence evaluation: JHMDB pose and
VIP parts (DAVIS uses :class:`mmdropmae.datasets.vos.DAVISDataset` in
``mode='sequence'``), and the ``LoadSequenceFrames`` / ``PackSequence``
transforms."""
from .jhmdb import JHMDBDataset, load_jhmdb_joints, read_jhmdb_split
from .loading import LoadSequenceFrames, protocol_size
from .pack import PackSequence
from .vip import VIPDataset, read_vip_list

__all__ = ['JHMDBDataset', 'load_jhmdb_joints', 'read_jhmdb_split', 'VIPDataset',
           'read_vip_list', 'LoadSequenceFrames', 'protocol_size', 'PackSequence']
