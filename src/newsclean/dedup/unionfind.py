"""Connected components on numpy arrays (min-label propagation with pointer jumping).

Deterministic: every component is labelled with its smallest member index.
"""
from __future__ import annotations

import numpy as np


def connected_components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Label ``n`` nodes by component given edges ``pairs`` ``(m, 2)``.

    >>> connected_components(5, np.array([[3, 4], [1, 3]])).tolist()
    [0, 1, 2, 1, 1]
    """
    labels = np.arange(n, dtype=np.int64)
    if n == 0 or len(pairs) == 0:
        return labels
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    a, b = pairs[:, 0], pairs[:, 1]
    while True:
        la, lb = labels[a], labels[b]
        low = np.minimum(la, lb)
        before = labels.copy()
        np.minimum.at(labels, la, low)  # hook the roots of both ends to the lower label
        np.minimum.at(labels, lb, low)
        while True:  # pointer jumping until every node points at a root
            nxt = labels[labels]
            if np.array_equal(nxt, labels):
                break
            labels = nxt
        if np.array_equal(labels, before):
            break
    return labels


class UnionFind:
    """Incremental union-find over ``0..n-1`` on a numpy parent array (union by min index)."""

    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)

    def find(self, x: int) -> int:
        p = self.parent
        root = x
        while p[root] != root:
            root = int(p[root])
        while p[x] != root:  # path compression
            p[x], x = root, int(p[x])
        return root

    def union(self, x: int, y: int) -> int:
        rx, ry = self.find(x), self.find(y)
        if rx == ry:
            return rx
        lo, hi = (rx, ry) if rx < ry else (ry, rx)
        self.parent[hi] = lo
        return lo

    def labels(self) -> np.ndarray:
        return np.array([self.find(i) for i in range(len(self.parent))], dtype=np.int64)
