"""Exact set measures on sorted unique shingle arrays (every LSH candidate is verified).

Containment is directed: "a is contained in b" when most of *a's own* shingles are
in b.  A record may be removed as a duplicate only of a survivor that contains it
(:mod:`.assign`), so both directions of a pair are measured.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from .params import DedupParams


class Overlap(NamedTuple):
    """``jaccard = |A∩B| / |A∪B|``; ``containment = |A∩B| / min(|A|, |B|)``."""

    jaccard: float
    containment: float
    intersection: int


def shared_count(a: np.ndarray, b: np.ndarray) -> int:
    """``|A∩B|`` of two sorted unique arrays.

    >>> shared_count(np.array([1, 2, 3, 4]), np.array([3, 4, 9]))
    2
    """
    if len(a) == 0 or len(b) == 0:
        return 0
    if len(a) > len(b):
        a, b = b, a
    # searchsorted of the smaller into the larger: O(small * log large)
    pos = np.searchsorted(b, a)
    pos[pos == len(b)] = 0
    return int(np.count_nonzero(b[pos] == a))


def overlap(a: np.ndarray, b: np.ndarray) -> Overlap:
    """Exact overlap of two sorted unique arrays.

    >>> import numpy as np
    >>> overlap(np.array([1, 2, 3, 4]), np.array([3, 4]))
    Overlap(jaccard=0.5, containment=1.0, intersection=2)
    """
    inter = shared_count(a, b)
    if inter == 0:
        return Overlap(0.0, 0.0, 0)
    union = len(a) + len(b) - inter
    return Overlap(inter / union, inter / min(len(a), len(b)), inter)


class PairMeasure(NamedTuple):
    """Both directions of a verified pair: the score of "a in b" and of "b in a" (0 when
    that direction does not pass); the sizes of both and what they share in the view
    that decided (words, or the skeleton when no direction passes by words: a spun
    copy, ``by_skeleton``); the word shingles shared."""

    a_in_b: float
    b_in_a: float
    size_a: int
    size_b: int
    shared: int
    shared_words: int
    by_skeleton: bool = False

    @property
    def linked(self) -> bool:
        return self.a_in_b > 0 or self.b_in_a > 0


def passes_words(shared_words: int, words: int, params: DedupParams) -> bool:
    """The word rule of "m in s": ``shared / |m's word shingles| >= threshold``, with at
    least ``min_shared`` shingles shared."""
    return words > 0 and shared_words / words >= params.threshold and shared_words >= params.min_shared


def needs_skeleton(shared_words: int, words: int, params: DedupParams) -> bool:
    """Whether the skeleton view can decide "m in s" where the word rule did not."""
    return (words > 0 and not passes_words(shared_words, words, params)
            and shared_words / words >= params.skeleton_word_floor)


def contained_score(shared_words: int, words: int, shared_skeleton: int | None, skeleton: int,
                    params: DedupParams) -> float:
    """The verified score of "m is contained in s" from m's side (0 when it does not pass).

    Words: :func:`passes_words`, the score is m's word containment.  Skeleton (spun
    copies: synonyms break word shingles, names, numbers and function words survive):
    ``shared / |m's skeleton shingles| >= skeleton_threshold`` with ``min_shared``
    shingles, while m's word containment is at least ``skeleton_word_floor``; the score
    is m's skeleton containment.  ``shared_skeleton`` None: not measured.

    >>> from newsclean.dedup.params import DedupParams
    >>> p = DedupParams()
    >>> contained_score(90, 100, None, 80, p), contained_score(40, 100, 70, 80, p), contained_score(20, 100, 80, 80, p)
    (0.9, 0.875, 0.0)
    """
    if passes_words(shared_words, words, params):
        return shared_words / words
    if not needs_skeleton(shared_words, words, params) or not shared_skeleton or skeleton == 0:
        return 0.0
    skeleton_share = shared_skeleton / skeleton
    if skeleton_share >= params.skeleton_threshold and shared_skeleton >= params.min_shared:
        return skeleton_share
    return 0.0


def measure_pair(words_a: np.ndarray, words_b: np.ndarray, skeleton_a: np.ndarray, skeleton_b: np.ndarray,
                 params: DedupParams) -> PairMeasure:
    """Verify a candidate pair in both directions (see :func:`contained_score`).

    >>> from newsclean.dedup.params import DedupParams
    >>> big, small = np.arange(100), np.arange(30)
    >>> m = measure_pair(big, small, np.arange(50), np.arange(20), DedupParams())
    >>> m.a_in_b, m.b_in_a, m.size_a, m.size_b, m.shared
    (0.0, 1.0, 100, 30, 30)
    """
    shared = shared_count(words_a, words_b)
    size_a, size_b = len(words_a), len(words_b)
    shared_skeleton = None
    if needs_skeleton(shared, size_a, params) or needs_skeleton(shared, size_b, params):
        shared_skeleton = shared_count(skeleton_a, skeleton_b)
    a_in_b = contained_score(shared, size_a, shared_skeleton, len(skeleton_a), params)
    b_in_a = contained_score(shared, size_b, shared_skeleton, len(skeleton_b), params)
    if shared_skeleton is None or passes_words(shared, size_a, params) or passes_words(shared, size_b, params):
        return PairMeasure(a_in_b, b_in_a, size_a, size_b, shared, shared)
    # linked through the skeleton (or not at all): sizes and sharing measured there
    return PairMeasure(a_in_b, b_in_a, len(skeleton_a), len(skeleton_b), shared_skeleton, shared, True)
