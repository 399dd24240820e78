"""Argument parsers shared by the synthetic data generators' command lines
(``tools/dataset_converters/make_synthetic_*.py``)."""
import argparse
from typing import Tuple, Union


def parse_size(text: str, min_side: int = 16, even: bool = False) -> Tuple[int, int]:
    """``'WIDTHxHEIGHT'`` -> ``(w, h)``; both sides ``>= min_side`` (and even
    when ``even``: H.264 with yuv420p needs it)."""
    try:
        w, h = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'size must be WIDTHxHEIGHT, got {text!r}')
    if w < min_side or h < min_side or (even and (w % 2 or h % 2)):
        raise argparse.ArgumentTypeError(
            f'size must be {"even and " if even else ""}>= {min_side}x{min_side}, '
            f'got {text!r}')
    return w, h


def parse_int_or_range(text: str) -> Union[int, Tuple[int, int]]:
    """``'40'`` -> 40, ``'40-80'`` -> ``(40, 80)`` (inclusive range)."""
    if '-' in text:
        lo, hi = (int(v) for v in text.split('-'))
        if lo > hi:
            raise argparse.ArgumentTypeError(f'empty range {text!r}')
        return lo, hi
    return int(text)
