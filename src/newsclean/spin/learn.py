"""Learn a spinner's table from a corpus that holds spun copies next to their originals.

Content farms spin wire stories, and an archive usually holds the wire story too:
near-duplicate clustering puts the two in one cluster.  Aligning the words of two
members of a cluster shows what was swapped ("thirty day period" where the other
copy has "month"); over many clusters the spinner's habits recur while one-off
edits do not.  The learned table then restores spun articles whose originals are
*not* in the corpus.

A pair is kept when

* both sides are short (1-4 words on the spun side, 1-2 on the original side) and
  made of words English knows, and not the same letters reordered (typos and scrape
  damage are not spinning);
* it was seen in at least ``min_clusters`` different clusters;
* it is *consistent*: of the times the spun form appears in the aligned copies, it
  was aligned to this original in at least ``min_consistency`` of them ("of the"
  aligned to "the" once, and to "of the" a thousand times, is an edit, not spin).
  That share is the entry's ``consistency``; below the table's
  :data:`~.table.DETECTION_MIN_SHARE` the entry is *weak*: a swap the spinner makes in
  few uses of a common word ("next" for "second"), restored only where the evidence at
  the sighting says so and never counted as evidence that a text is spun.

Which copy of a pair is the spun one is read from the frequencies: a spinner writes
rarer words than the ones it replaces, so the copy whose changed words are rarer on
average is taken as spun.  The learned pairs are a :class:`~.table.SpinTable` whose
per-entry evidence is computed as for any table.
"""
from __future__ import annotations

import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from ..clean import wordlist
from ..config import DEFAULT_MAX_BYTES
from .table import LEARNED_HEADER, SpinTable, end_line, phrase_zipf

_WORD = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*|[^\w\s]")
MAX_SPUN_WORDS = 4  # "in the course of" (during)
MAX_ORIGINAL_WORDS = 2
# words a spinner never pads ("the" -> "the very"): an inserted word is not attached to
# them.  Few on purpose: "own" ("very own") and "up" ("right up") are padded.
NOT_PADDED = frozenset(
    "a an the of to in on at by for with from into and or but nor as if than that this these those "
    "is are was were be been being am it its it's he she we they i you his her their our your my me "
    "him them us who which what not no".split())
# pairs aligned in fewer of their form's uses are edits, not spin (one dropped "of" in 30
# uses); those below the table's DETECTION_MIN_SHARE (0.1) are kept as weak entries:
# restored where the model or the context says so, never evidence of spinning ("next"
# for "second": 6 % of the uses of "next" in the dev corpus's aligned copies).  Dev spin
# set with the model: gap 0.789 without weak entries, 0.811 with 0.05, 0.813 with 0.03.
MIN_CONSISTENCY = 0.05
MAX_ALIGN_WORDS = 5000  # longer texts are aligned on their first words only (cost is quadratic at worst)


def _tokens(text: str) -> list[str]:
    return [t.lower().replace("\u2019", "'") for t in _WORD.findall(text[:60_000])][:MAX_ALIGN_WORDS]


def _is_word(token: str) -> bool:
    """A word English knows, a number, or words joined by hyphens ("know-how")."""
    if not token[0].isalnum():
        return False
    return token.isdigit() or wordlist.zipf(token) > 0.0 or (
        "-" in token and all(p and wordlist.zipf(p) > 0.0 for p in token.split("-")))


def _is_words(tokens: Sequence[str]) -> bool:
    return bool(tokens) and all(_is_word(t) for t in tokens)


def _is_typo(spun: str, original: str) -> bool:
    """Same letters in another order ("dias" for "said", "form" for "from"): a typo or
    a garbled copy, not a synonym.

    >>> _is_typo("dias", "said"), _is_typo("gamers", "players")
    (True, False)
    """
    return sorted(spun.replace(" ", "")) == sorted(original.replace(" ", ""))


def changed_spans(a: Sequence[str], b: Sequence[str]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Short word substitutions between token lists ``a`` and ``b``: ``(a words, b words)``.

    An inserted word is attached to a neighbour that is no stop word ("very first" /
    "first"), both ways when both qualify, and the consistency filter of
    :func:`learn_pairs` keeps the side that recurs.

    >>> changed_spans("it was the very first time".split(), "it was the first time".split())
    [(('very', 'first'), ('first',))]
    >>> changed_spans("a thirty day period ago".split(), "a month ago".split())
    [(('thirty', 'day', 'period'), ('month',))]
    """
    return [(x, y) for _, _, x, y in _changed_spans_at(a, b)]


def _changed_spans_at(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int, tuple[str, ...], tuple[str, ...]]]:
    """:func:`changed_spans` with where each span starts in ``a`` and in ``b``."""
    out = []
    sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "replace":
            out.append((i1, j1, tuple(a[i1:i2]), tuple(b[j1:j2])))
        elif op in ("insert", "delete") and (i2 - i1) + (j2 - j1) <= 2:
            # one or two words more on one side: spinners pad a content word
            # ("very first", "very own"); "the" is no word a spinner pads
            if i1 > 0 and j1 > 0 and a[i1 - 1] not in NOT_PADDED:
                out.append((i1 - 1, j1 - 1, tuple(a[i1 - 1:i2]), tuple(b[j1 - 1:j2])))
            if i2 < len(a) and j2 < len(b) and a[i2] not in NOT_PADDED:
                out.append((i1, j1, tuple(a[i1:i2 + 1]), tuple(b[j1:j2 + 1])))
    return [(i, j, x, y) for i, j, x, y in out if x != y]


def padding(spun: Sequence[str], original: Sequence[str]) -> tuple[str, ...] | None:
    """The words ``spun`` adds around ``original`` when it holds it whole ("very first"
    for "first" adds "very"); None for a substitution.

    >>> padding(("very", "first"), ("first",)), padding(("gamers",), ("players",))
    (('very',), None)
    """
    n = len(original)
    for i in range(len(spun) - n + 1):
        if tuple(spun[i:i + n]) == tuple(original) and len(spun) > n:
            return tuple(spun[:i]) + tuple(spun[i + n:])
    return None


def function_padding(spun: Sequence[str], original: Sequence[str]) -> bool:
    """A word dropped from a copy, not a spinner's padding: the added words are all
    function words ("the ball" for "ball", "been nominated" for "nominated"); a spinner
    pads with content ("very first", "entire world", "car or truck").

    >>> function_padding(("the", "ball"), ("ball",)), function_padding(("very", "first"), ("first",))
    (True, False)
    """
    added = padding(spun, original)
    return added is not None and all(word in NOT_PADDED for word in added)


def _mean_zipf(spans: Sequence[tuple[str, ...]]) -> float:
    zs = [phrase_zipf(" ".join(s)) for s in spans if s]
    return sum(zs) / len(zs) if zs else 0.0


def learn_pairs(
    groups: Iterable[Sequence[str]], *, min_clusters: int = 2, min_consistency: float = MIN_CONSISTENCY
) -> list[tuple[str, str, int, float]]:
    """``(spun form, original, clusters, consistency)`` learned from groups of texts
    that are copies of one story (each group: a near-duplicate cluster), sorted by
    spun form, then by clusters (most first)."""
    seen: dict[tuple[str, str], set[int]] = defaultdict(set)
    # each use of a spun form counts once, however many copies it was aligned with
    aligned: dict[tuple[str, str], set[tuple[int, int, int]]] = defaultdict(set)
    aligned_texts: list[list[str]] = []
    for g, group in enumerate(groups):
        if len(group) < 2:
            continue
        base = _tokens(group[0])
        base_counted = False
        for k, other in enumerate(group[1:], 1):
            toks = _tokens(other)
            spans = [(i, j, x, y) for i, j, x, y in _changed_spans_at(toks, base)
                     if len(x) <= MAX_SPUN_WORDS + 1 and len(y) <= MAX_SPUN_WORDS + 1]
            if not spans:
                continue
            # the copy whose changed words are rarer is the spun one
            if _mean_zipf([x for _, _, x, _ in spans]) <= _mean_zipf([y for _, _, _, y in spans]):
                pairs = [(k, i, x, y) for i, _, x, y in spans]
            else:
                pairs = [(0, j, y, x) for _, j, x, y in spans]
            kept = False
            for copy, at, x, y in pairs:
                if len(x) > MAX_SPUN_WORDS or len(y) > MAX_ORIGINAL_WORDS or not (_is_words(x) and _is_words(y)):
                    continue
                key = (" ".join(x), " ".join(y))
                if _is_typo(*key) or function_padding(x, y):
                    continue
                seen[key].add(g)
                aligned[key].add((g, copy, at))
                kept = True
            if kept:  # the form's uses are counted in every aligned copy, each once
                aligned_texts.append(toks)
                if not base_counted:
                    aligned_texts.append(base)
                    base_counted = True
    candidates = {k for k, gs in seen.items() if len(gs) >= min_clusters}
    if not candidates:
        return []
    occurrences = _occurrences({s for s, _ in candidates}, aligned_texts)
    out = []
    for s, o in sorted(candidates):
        consistency = min(1.0, len(aligned[(s, o)]) / max(1, occurrences[s]))
        if consistency >= min_consistency:
            out.append((s, o, len(seen[(s, o)]), round(consistency, 3)))
    # a form's most-seen original first: the one a table read from the file keeps
    out.sort(key=lambda p: (p[0], -p[2], -p[3], p[1]))
    return out


def _occurrences(forms: set[str], texts: Iterable[list[str]]) -> Counter[str]:
    """How often each form (words joined by spaces) occurs in the token lists: only
    positions whose token starts some form are looked at."""
    lengths: dict[str, set[int]] = defaultdict(set)
    for form in forms:
        words = form.split()
        lengths[words[0]].add(len(words))
    found: Counter[str] = Counter()
    for toks in texts:
        for i, tok in enumerate(toks):
            for n in lengths.get(tok, ()):
                phrase = tok if n == 1 else " ".join(toks[i:i + n])
                if phrase in forms:
                    found[phrase] += 1
    return found


def learn_table(groups: Iterable[Sequence[str]], *, min_clusters: int = 2, min_consistency: float = MIN_CONSISTENCY,
                name: str = "learned") -> SpinTable:
    """A :class:`SpinTable` from :func:`learn_pairs` (for a form with several learned
    originals, the one seen in most clusters wins).

    >>> story = "The players met for the first time in a month at the court on {}."
    >>> spun = "The gamers met for the very first time in a thirty day period at the courtroom on {}."
    >>> days = ["Monday", "Tuesday", "Friday"]
    >>> t = learn_table([[story.format(d), spun.format(d)] for d in days])
    >>> sorted((e.spun, e.original) for e in t.entries())
    [('courtroom', 'court'), ('gamers', 'players'), ('thirty day period', 'month'), ('very first', 'first')]
    """
    pairs = learn_pairs(groups, min_clusters=min_clusters, min_consistency=min_consistency)
    return SpinTable.from_pairs([(s, o, c) for s, o, _, c in pairs], name=name)


def write_table(pairs: Iterable[tuple[str, str, int, float]], path: str | Path) -> int:
    """Write learned pairs as a TSV spin table (with the evidence as extra columns,
    which :func:`~.table.read_table` ignores); returns the number of entries.

    The table opens with :data:`~.table.LEARNED_HEADER` and ends with an end line
    (``# end: N entries``) that :func:`~.table.read_table` checks, so a table cut short
    is refused, never read as a shorter one; it is written to a temporary file and
    renamed into place, so a failed write (a full disk) leaves the old table as it was.
    """
    from ..io.atomic import open_output

    lines = [f"{s}\t{o}\t{c}\t{r}\n" for s, o, c, r in pairs]
    with open_output(path, compress=False) as out:
        out.write(f"{LEARNED_HEADER}\nspun\toriginal\tclusters\tconsistency\n".encode("utf-8"))
        for line in lines:
            out.write(line.encode("utf-8", "backslashreplace"))
        out.write(end_line(len(lines)).encode("utf-8"))
    return len(lines)


def cluster_groups(outdir: str | Path, text_field: str | None = None, max_groups: int | None = None, *,
                   max_bytes: int = DEFAULT_MAX_BYTES, on_skip: Callable[[str], None] | None = None
                   ) -> list[list[str]]:
    """The texts of every near-duplicate cluster with two or more members, read from a
    finished ``newsclean dedup``/``run`` OUTDIR (survivor first, then its duplicates in
    file order).  Texts are cleaned with the default pipeline (a no-op on the cleaned
    archive of ``run``).  ``max_groups`` keeps the first clusters met (memory bound).

    The archives are read as ``dedup`` wrote them (NaN, lone surrogates: the stdlib's
    JSON), in bounded memory: a line over ``max_bytes`` streams past without being
    held; it, and any line that cannot be read, is skipped and told to
    ``on_skip(reason)``.
    """
    from ..clean.pipeline import default_cleaner
    from ..engine.local import BadRecord, find_text
    from ..io.base import InputFile
    from ..io.readers import read_file

    outdir = Path(outdir)
    cleaner = default_cleaner()

    def records(name: str) -> Iterator[dict]:
        path = outdir / name
        for item in read_file(InputFile(path, str(path), "jsonl", "gzip"), max_bytes=max_bytes):
            if item.record is not None:
                yield item.record
            elif on_skip is not None:
                on_skip(f"{name} line {item.line}: {item.error}")

    def text_of(record: dict) -> str | None:
        try:
            return cleaner.clean(find_text(record, text_field)[1]).text
        except (BadRecord, TypeError):
            return None

    members: dict[str, list[str]] = {}
    for r in records("duplicates.jsonl.gz"):
        c = r.get("cluster")
        if not isinstance(c, str) or (max_groups is not None and c not in members and len(members) >= max_groups):
            continue
        t = text_of(r)
        if t is not None:
            members.setdefault(c, []).append(t)
    survivors: dict[str, str] = {}
    for r in records("kept.jsonl.gz"):
        c = r.get("cluster")
        if isinstance(c, str) and c in members and c not in survivors:
            t = text_of(r)
            if t is not None:
                survivors[c] = t
    return [[survivors[c], *members[c]] for c in members if c in survivors]
