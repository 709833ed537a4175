"""Exact set measures on sorted unique uint64 shingle arrays (every LSH candidate is verified)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Overlap(NamedTuple):
    """``jaccard = |A∩B| / |A∪B|``; ``containment = |A∩B| / min(|A|, |B|)``."""

    jaccard: float
    containment: float
    intersection: int


def overlap(a: np.ndarray, b: np.ndarray) -> Overlap:
    """Exact overlap of two sorted unique arrays.

    >>> import numpy as np
    >>> overlap(np.array([1, 2, 3, 4]), np.array([3, 4]))
    Overlap(jaccard=0.5, containment=1.0, intersection=2)
    """
    if len(a) == 0 or len(b) == 0:
        return Overlap(0.0, 0.0, 0)
    if len(a) > len(b):
        a, b = b, a
    # searchsorted of the smaller into the larger: O(small * log large)
    pos = np.searchsorted(b, a)
    pos[pos == len(b)] = 0
    inter = int(np.count_nonzero(b[pos] == a))
    union = len(a) + len(b) - inter
    return Overlap(inter / union, inter / len(a), inter)
