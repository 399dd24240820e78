"""Data of the label-propagation correspondence evaluation: JHMDB pose and
VIP parts (DAVIS uses :class:`mmdropmae.datasets.vos.DAVISDataset` in
``mode='sequence'``), and the ``PackSequence`` transform."""
from .jhmdb import JHMDBDataset, load_jhmdb_joints, read_jhmdb_split
from .pack import PackSequence
from .vip import VIPDataset, read_vip_list

__all__ = ['JHMDBDataset', 'load_jhmdb_joints', 'read_jhmdb_split', 'VIPDataset',
           'read_vip_list', 'PackSequence']
