"""Learn a spinner's table inside a deduplication run, from the run's own clusters.

``newsclean run`` (and ``dedup``) cluster spun copies with the originals they were spun
from; the swaps read off those pairs (:func:`.learn.learn_pairs`) are the spinner's
table, which then restores every text the spinner touched, including those whose
originals are not in the corpus (a spinner reuses its table).

Which pairs are read: removed records with their survivor, chosen by the hash of the
record's name up to :data:`MAX_PAIRS` (alignment costs ~2 ms a pair), so the choice does
not depend on input order or on how the run is spread over processes.  They are aligned
only when some of them differ by word substitutions (:func:`differs_by_words`: each side
has real words the other lacks; a cut copy only lacks words, a garbled one gains
non-words): a corpus no spinner touched costs a read of those texts, no alignment.
Learning that finds nothing leaves the run as it was.

A swap seen in one cluster only is usually an edit, not spin; but the corpus itself can
tell: a spinner's form crowds the texts the table already flags as spun and is rare in
the others, a writer's word does not (:func:`confirmed_by_spun_texts`).  A one-cluster
swap whose spun form is :data:`CROWDING` times as common in the flagged texts as in the
others, and found in :data:`MIN_SPUN_TEXTS` of them, joins the table (dev spin set, the
run's recipe corpus: gap closed 0.58 -> 0.62, words changed in never-spun text the same).

The other one-cluster swaps that substitute words join as *weak* entries
(:func:`unconfirmed_substitutions`): never evidence that a text is spun, restored only in
flagged texts where the evidence at the sighting says so, in practice where the language
model of ``--spin-lm`` prefers the original.  A spinner's table is larger than the swaps a
few hundred clusters show twice, and the model tells its one-cluster swaps from a copy's
edits where the corpus cannot (dev recipe: gap closed 0.623 -> 0.626 without the model;
with it, from a table learned from the same clusters with ``clean --spin-table``, 0.727 ->
0.768; never-spun words changed the same).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xxhash

from ..clean import wordlist
from .learn import MIN_CONSISTENCY, learn_pairs, padding, write_table

MAX_PAIRS = 2000  # pairs aligned at most (a spinner's habits recur: a few hundred clusters show them)
MAX_SIMILARITY = 0.98  # a copy closer than this to its survivor has no swaps to show
MIN_NEW_WORDS = 2  # real words each side has that the other lacks
MIN_SUBSTITUTIONS, SUBSTITUTION_SHARE = 3, 0.1  # what a learned table needs to be a spinner's
# pairs that differ by words (this many, and this share of those read) before a run
# aligns its pairs at all: a swap must recur in two clusters to be learned
MIN_SWAPPED_PAIRS, MIN_SWAPPED_SHARE = 2, 0.05
CROWDING = 5.0  # a one-cluster swap's form this much more common in flagged texts than in others ...
MIN_SPUN_TEXTS = 3  # ... and in this many flagged texts, is the spinner's
TABLE_NAME = "spin-table.tsv"  # OUTDIR/spin-table.tsv: what --spin-table OUTDIR reads
# the share written for a one-cluster substitution the spun texts do not confirm: below
# the table's DETECTION_MIN_SHARE (0.1), so the table reads it as a weak entry
UNCONFIRMED_SHARE = 0.09

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
    position order); none when fewer than :data:`MIN_SWAPPED_PAIRS` pairs differ by
    words, or fewer than :data:`MIN_SWAPPED_SHARE` of them (no spinner at work: aligning
    cuts and garbled copies would learn nothing)."""
    pairs = sorted(pairs, key=lambda p: (p[1], p[0]))
    swapped = sum(differs_by_words(texts[m], texts[s]) for m, s in pairs)
    if swapped < max(MIN_SWAPPED_PAIRS, MIN_SWAPPED_SHARE * len(pairs)):
        return []
    members: dict[int, list[int]] = {}
    for member, survivor in pairs:
        members.setdefault(survivor, []).append(member)
    return [[texts[s], *(texts[m] for m in ms)] for s, ms in sorted(members.items())]


def learn_run_pairs(groups: list[list[str]], previous: Path | None = None, *, min_clusters: int = 2,
                    min_consistency: float = MIN_CONSISTENCY
                    ) -> tuple[list[tuple[str, str, int, float]], list[tuple[str, str, int, float]]]:
    """The learned table's lines, starting from a previous run's table (its lines kept
    where this batch learns nothing else for the form; where both have the form, the
    one seen in more clusters), and the swaps seen in fewer clusters than
    ``min_clusters`` (for :func:`confirmed_by_spun_texts`)."""
    every = learn_pairs(groups, min_clusters=1, min_consistency=min_consistency)
    learned = [line for line in every if line[2] >= min_clusters]
    if previous is not None and previous.exists():
        best: dict[str, tuple[str, str, int, float]] = {}
        for line in [*read_learned(previous), *learned]:
            if line[0] not in best or line[2] > best[line[0]][2]:
                best[line[0]] = line
        learned = sorted(best.values(), key=table_order)
    forms = {line[0] for line in learned}
    return learned, [line for line in every if line[2] < min_clusters and line[0] not in forms]


def table_order(line: tuple[str, str, int, float]) -> tuple:
    """A form's most-seen original first: the one a table read from the file keeps."""
    return (line[0], -line[2], -line[3], line[1])


def is_a_spinners_table(lines: list[tuple[str, str, int, float]]) -> bool:
    """Whether learned lines show a spinner at work: at least :data:`MIN_SUBSTITUTIONS`
    word substitutions aligned in a tenth or more of their uses.  Cut and garbled copies
    only leave paddings (a word dropped next to another) and chance pairings."""
    substitutions = sum(1 for spun, original, _, share in lines
                        if share >= SUBSTITUTION_SHARE and padding(spun.split(), original.split()) is None)
    return substitutions >= MIN_SUBSTITUTIONS


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


@dataclass
class FormCounts:
    """In how many texts the table flags, and in how many others, each form occurs;
    shards' counts add up."""

    flagged_texts: int = 0
    other_texts: int = 0
    in_flagged: Counter[str] = field(default_factory=Counter)
    in_others: Counter[str] = field(default_factory=Counter)

    def __add__(self, other: FormCounts) -> FormCounts:
        return FormCounts(self.flagged_texts + other.flagged_texts, self.other_texts + other.other_texts,
                          self.in_flagged + other.in_flagged, self.in_others + other.in_others)


def count_forms(texts: Iterable[str], table, forms: set[str]) -> FormCounts:
    """:class:`FormCounts` of ``forms`` (lowercase, up to four words) in ``texts``, each
    text judged with ``table``."""
    from .restore import spin_report

    counts = FormCounts()
    longest = max((len(f.split()) for f in forms), default=1)
    for text in texts:
        words = _WORDS_AND_HYPHENS.findall(text.lower())
        found = {" ".join(words[i:i + n]) for n in range(1, longest + 1) for i in range(len(words) - n + 1)} & forms
        if spin_report(text, table).flagged:
            counts.flagged_texts += 1
            counts.in_flagged.update(found)
        else:
            counts.other_texts += 1
            counts.in_others.update(found)
    return counts


_WORDS_AND_HYPHENS = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*")


def confirmed_by_spun_texts(singles: list[tuple[str, str, int, float]], counts: FormCounts,
                            crowding: float = CROWDING, min_texts: int = MIN_SPUN_TEXTS
                            ) -> list[tuple[str, str, int, float]]:
    """The one-cluster swaps whose spun form crowds the flagged texts (see the module
    docstring); the share in the other texts counts one text more than seen, so a form
    absent from them still needs ``min_texts`` flagged texts."""
    if not counts.flagged_texts or not counts.other_texts:
        return []
    out = []
    for line in singles:
        flagged, others = counts.in_flagged[line[0]], counts.in_others[line[0]]
        ratio = (flagged / counts.flagged_texts) / ((others + 1) / counts.other_texts)
        if flagged >= min_texts and ratio >= crowding:
            out.append(line)
    return out


def unconfirmed_substitutions(singles: list[tuple[str, str, int, float]],
                              confirmed: list[tuple[str, str, int, float]]) -> list[tuple[str, str, int, float]]:
    """The one-cluster swaps not ``confirmed`` that substitute words, as weak entries
    (share capped at :data:`UNCONFIRMED_SHARE`): neither side holds the other whole.
    "now aims" in one copy and "aims" in the other is a word dropped from a copy, "have
    also" for "have" a word added by an editor; "alter" for "change" is a substitution.

    >>> unconfirmed_substitutions([("alter", "change", 1, 1.0), ("aims", "now aims", 1, 0.5),
    ...                            ("have also", "have", 1, 0.2), ("motor vehicle", "car", 1, 0.5)],
    ...                           [("motor vehicle", "car", 1, 0.5)])
    [('alter', 'change', 1, 0.09)]
    """
    taken = set(confirmed)
    return [(spun, original, clusters, min(share, UNCONFIRMED_SHARE)) for spun, original, clusters, share in singles
            if (spun, original, clusters, share) not in taken
            and padding(spun.split(), original.split()) is None and padding(original.split(), spun.split()) is None]
