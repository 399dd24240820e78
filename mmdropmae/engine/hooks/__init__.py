from .random_state_hook import EpochWorkerSeeder, RandomStateHook, seed_all
from .temporal_matching_monitor_hook import TemporalMatchingMonitorHook

__all__ = ['EpochWorkerSeeder', 'RandomStateHook', 'TemporalMatchingMonitorHook', 'seed_all']
