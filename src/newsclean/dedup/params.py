"""Parameters of near-duplicate clustering, and the record fields it reads (dates).

Kept apart from :mod:`.core` so that the features, the index and the run driver can
import them without importing the clustering.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

KEEP_POLICIES = ("cleanest", "earliest", "longest", "first")
DATE_FIELDS = ("date", "published", "published_at", "publish_date", "timestamp")


@dataclass(frozen=True)
class DedupParams:
    """Tuned on the dev set (see benchmarks/eval_dedup.py)."""

    shingle: int = 3  # words per shingle
    skeleton_shingle: int = 5  # skeleton tokens per shingle
    num_perm: int = 128
    bands: int = 64
    rows: int = 2  # 64 x 2: a pair with Jaccard 0.2 is a candidate with p = 0.93
    # Word-shingle containment of a removed record in its survivor.  The BBC corpus's own
    # revised versions of a story hold >= 0.76 of each other; its follow-up reports that
    # reuse an earlier one hold up to 0.73 (bench/bbc_near_duplicates.json, word 3-grams).
    threshold: float = 0.7
    min_shared: int = 8  # shared shingles needed besides the ratio
    skeleton_threshold: float = 0.75
    skeleton_word_floor: float = 0.3
    min_words: int = 20
    seed: int = 1

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {self.threshold}")
        if self.bands * self.rows > self.num_perm:
            raise ValueError("bands * rows must not exceed num_perm")


MILLISECONDS_FROM = 1e11  # a number this large is epoch milliseconds (1e11 s is the year 5138)


def parse_date(value: Any) -> float | None:
    """Epoch seconds from an ISO 8601 string or a number (seconds, or milliseconds as
    JavaScript and many feeds write them); None when unreadable.

    >>> parse_date("2005-01-02T00:00:00Z"), parse_date(1104624000), parse_date(1104624000000)
    (1104624000.0, 1104624000.0, 1104624000.0)
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return None
        return float(value) / 1000 if abs(value) >= MILLISECONDS_FROM else float(value)
    if not isinstance(value, str):
        return None
    s = value.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def record_date(record: dict[str, Any]) -> float | None:
    for f in DATE_FIELDS:
        if f in record:
            d = parse_date(record[f])
            if d is not None:
                return d
    return None
