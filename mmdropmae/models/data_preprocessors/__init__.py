from .data_preprocessor import (NormalizingDataPreprocessor, PairDataPreprocessor,
                                SequenceDataPreprocessor, TrackingDataPreprocessor,
                                VOSDataPreprocessor)

__all__ = [
    'NormalizingDataPreprocessor', 'PairDataPreprocessor', 'TrackingDataPreprocessor',
    'VOSDataPreprocessor', 'SequenceDataPreprocessor'
]
