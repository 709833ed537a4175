"""Learn a spinner's table inside a deduplication run, from the run's own clusters.

``newsclean run`` (and ``dedup``) cluster spun copies with the originals they were spun
from; the swaps read off those pairs (:func:`.learn.learn_pairs`) are the spinner's
table, which then restores every text the spinner touched, including those whose
originals are not in the corpus (a spinner reuses its table).

Which pairs are read: removed records with their survivor, where the two differ by
word substitutions (:func:`differs_by_words`: each side has real words the other lacks;
a cut copy only lacks words, a garbled one gains non-words), chosen by the hash of the
record's name up to :data:`MAX_PAIRS` (alignment costs ~2 ms a pair), so the choice does
not depend on input order or on how the run is spread over processes.  Learning that
finds nothing leaves the run as it was.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import xxhash

from ..clean import wordlist
from .learn import MIN_CONSISTENCY, learn_pairs, write_table

MAX_PAIRS = 2000  # pairs aligned at most (a spinner's habits recur: a few hundred clusters show them)
MAX_SIMILARITY = 0.98  # a copy closer than this to its survivor has no swaps to show
MIN_NEW_WORDS = 2  # real words each side has that the other lacks
TABLE_NAME = "spin-table.tsv"  # OUTDIR/spin-table.tsv: what --spin-table OUTDIR reads

_WORD = re.compile(r"[^\W\d_]+")


def candidate_pairs(names: Sequence[str], survivor: np.ndarray, similarity: np.ndarray, n_prev: int,
                    max_pairs: int = MAX_PAIRS) -> list[tuple[int, int]]:
    """``(member, survivor)`` batch positions worth aligning: records removed into a
    survivor of this batch with a similarity below :data:`MAX_SIMILARITY`, the
    ``max_pairs`` with the smallest hash of their name."""
    local = survivor - n_prev
    own = np.arange(len(names))
    chosen = np.flatnonzero((local >= 0) & (local != own) & (similarity < MAX_SIMILARITY))
    keys = sorted((xxhash.xxh3_64_intdigest(names[i].encode("utf-8", "surrogatepass")), i) for i in chosen.tolist())
    return [(i, int(local[i])) for _, i in keys[:max_pairs]]


def _new_words(text: str, other: set[str]) -> set[str]:
    return {w for w in set(_WORD.findall(text.lower())) - other if len(w) > 2 and wordlist.zipf(w) > 0.0}


def differs_by_words(a: str, b: str) -> bool:
    """Whether each text has at least :data:`MIN_NEW_WORDS` real words the other lacks:
    what swapping words leaves (a cut or a header adds words to one side only, a
    garbled copy adds non-words).

    >>> differs_by_words("the players met the court for the first time", "the gamers met the courtroom for a time")
    True
    >>> differs_by_words("the players met the court today", "the players met the court")
    False
    """
    words_a, words_b = set(_WORD.findall(a.lower())), set(_WORD.findall(b.lower()))
    return len(_new_words(a, words_b)) >= MIN_NEW_WORDS and len(_new_words(b, words_a)) >= MIN_NEW_WORDS


def groups_of(pairs: Iterable[tuple[int, int]], texts: dict[int, str]) -> list[list[str]]:
    """The texts to align, grouped by survivor (survivor first, then its members in
    position order), keeping only the pairs that differ by words."""
    members: dict[int, list[int]] = {}
    for member, survivor in sorted(pairs, key=lambda p: (p[1], p[0])):
        if differs_by_words(texts[member], texts[survivor]):
            members.setdefault(survivor, []).append(member)
    return [[texts[s], *(texts[m] for m in ms)] for s, ms in sorted(members.items())]


def learn_run_pairs(groups: list[list[str]], previous: Path | None = None, *, min_clusters: int = 2,
                    min_consistency: float = MIN_CONSISTENCY) -> list[tuple[str, str, int, float]]:
    """The learned table's lines, starting from a previous run's table (its lines kept
    where this batch learns nothing else for the form; where both have the form, the
    one seen in more clusters)."""
    learned = learn_pairs(groups, min_clusters=min_clusters, min_consistency=min_consistency)
    if previous is None or not previous.exists():
        return learned
    best: dict[str, tuple[str, str, int, float]] = {}
    for line in [*read_learned(previous), *learned]:
        if line[0] not in best or line[2] > best[line[0]][2]:
            best[line[0]] = line
    return sorted(best.values(), key=lambda p: (p[0], -p[2], -p[3], p[1]))


def read_learned(path: Path) -> list[tuple[str, str, int, float]]:
    """The lines of a learned table (:func:`.learn.write_table`'s format)."""
    out = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        fields = raw.split("\t")
        if raw.startswith("#") or len(fields) != 4 or fields[0] == "spun":
            continue
        out.append((fields[0], fields[1], int(fields[2]), float(fields[3])))
    return out


def write_learned(lines: list[tuple[str, str, int, float]], path: Path) -> int:
    """Write the table atomically (a run that stops never leaves half a table)."""
    tmp = path.with_name(f".{path.name}.tmp")
    n = write_table(lines, tmp)
    tmp.replace(path)
    return n
