"""Tracking any point: TAP-Vid pickle readers (DAVIS, RGB-Stacking,
Kinetics) and the query sampling of the TAP-Vid protocol."""
from .query_sampling import sample_queries, sample_queries_first, sample_queries_strided
from .tapvid import (TAPVID_SUBSETS, TAPVidDataset, TAPVidFormatError, decode_tapvid_frames,
                     get_tapvid_entry, load_tapvid_pickle, read_tapvid_entries)

__all__ = ['sample_queries', 'sample_queries_first', 'sample_queries_strided',
           'TAPVID_SUBSETS', 'TAPVidDataset', 'TAPVidFormatError', 'decode_tapvid_frames',
           'get_tapvid_entry', 'load_tapvid_pickle', 'read_tapvid_entries']
