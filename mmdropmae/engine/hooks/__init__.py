from .temporal_matching_monitor_hook import TemporalMatchingMonitorHook

__all__ = ['TemporalMatchingMonitorHook']
