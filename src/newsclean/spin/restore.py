"""Spin detection and reversal with a spin table.

Detection weighs each table form found in a text as evidence, a likelihood ratio
between "a spinner wrote this" and "a writer wrote this":

* under spinning, the form appears where its original would have been, in
  ``RATE / choices`` of those places, on top of its ordinary uses: per word,
  ``RATE * f(original) / choices + f(form)``;
* in ordinary text it appears at its ordinary frequency ``f(form)``.

So one sighting is worth ``ln(1 + RATE * f(original) / (choices * f(form)))`` nats:
"gamers" (for "players") much, "only" (for "just") almost nothing.  A text is
*flagged* as spun when the sum over its sightings reaches :data:`FLAG_NATS`; its
score is that sum through a logistic centred on the threshold (0.5 = the flag
line).  Sentences get the same score from their own sightings, centred on
:data:`SENTENCE_FLAG_NATS`.

Restoration happens in flagged texts only (a clean text is never touched because of
a lone odd word) and replaces a sighting when the posterior that *this* occurrence
is spun reaches :data:`REPLACE_POSTERIOR` (:data:`REPLACE_MEASURED_SHARE` for a
measured one).  A learned table measured that share
for each form (its ``consistency``: "period" stood for "time" in 46 % of its uses
in the aligned copies of the dev corpus, "gamers" for "players" in 37 %); otherwise it is estimated from
frequencies as ``A / (1 + A)`` with ``A = RATE * f(original) / (choices * f(form))``.
The neighbours then move its log-odds (:mod:`.context`, scaled by
:data:`CONTEXT_WEIGHT`): "their have pockets" is restored, "they have been" is not.
The result is the edit's ``confidence``.

Text that is not prose a spinner would produce is left alone and scores 0: other
languages, sentences in capitals or title case (headlines, lists of names), code,
and run-on "sentences" of more than :data:`LONG_SENTENCE_WORDS` words.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..clean import wordlist
from ..edits import Edit, Replacement, apply_replacements
from .context import Bigrams, installed_bigrams, neighbours
from .table import WORD_RE, Entry, SpinTable

if TYPE_CHECKING:
    from .lm import GGUFModel

STAGE = "unspin"
MODES = ("off", "flag", "restore")

RATE = 0.8                 # share of the words a spinner has an entry for that it swaps
# Summed evidence that flags a text.  Low on purpose: the originals a text uses count
# against it (a writer keeps "players", a spinner swaps 80 % of them), so clean text
# sums well below 0.  Dev sets, table learned from the dev corpus: 267/300 spun
# paragraphs flagged, 6/300 clean ones (ROC AUC 0.987).
FLAG_NATS = 1.0
SENTENCE_FLAG_NATS = 1.0
MIN_FORMS = 2              # a lone odd word ("gamers" in a games review) flags nothing
REPLACE_POSTERIOR = 0.5
# a learned table's consistency is measured over originals and spun copies alike,
# so a form the spinner always writes but writers use too ("period") scores low
REPLACE_MEASURED_SHARE = 0.2
# with a language model: sightings whose posterior lies in this band are weighed by the
# model (log-odds + gain >= LM_MARGIN); outside it the posterior decides alone
LM_OPEN = (0.02, 0.9)
LM_MARGIN = 0.0
# scale of the neighbours' evidence (.context) added to a swap's log-odds: below 1
# because the two sides and the table's share are not independent (dev: 0.5 best of 0.3-1.0)
CONTEXT_WEIGHT = 0.5
LONG_SENTENCE_WORDS = 80
MIN_ENGLISH_SHARE = 0.7    # of a text's longer words, the share English must know

_SENT_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)|\n+")
_CODE = re.compile(r"[{}\[\]();=<>$#\\|_`]")


@dataclass(frozen=True, slots=True)
class Sighting:
    """A table form found in a text, with the evidence it carries."""

    entry: Entry
    start: int
    end: int
    nats: float         # log-likelihood ratio of this sighting
    posterior: float    # chance this occurrence is spun, if the text is spun


@dataclass(slots=True)
class SpinReport:
    """How spun a text looks: the document score, whether it is flagged, the sentence
    scores (in text order) and what was found."""

    score: float = 0.0
    flagged: bool = False
    sentences: list[tuple[int, int, float]] = field(default_factory=list)
    sightings: list[Sighting] = field(default_factory=list)
    evidence: float = 0.0  # summed nats: finer than the score, which saturates at 0 and 1

    def to_dict(self) -> dict:
        return {"score": self.score, "flagged": self.flagged, "evidence": self.evidence,
                "sentences": [round(s, 4) for _, _, s in self.sentences], "found": len(self.sightings)}


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (surrounding space excluded).

    >>> t = "It rained. Then it stopped!\\nNew line"
    >>> [t[a:b] for a, b in sentence_spans(t)]
    ['It rained.', 'Then it stopped!', 'New line']
    """
    out: list[tuple[int, int]] = []
    pos = 0
    for m in _SENT_END.finditer(text):
        end = m.end() if m.group()[0] != "\n" else m.start()
        _add_span(text, pos, end, out)
        pos = m.end()
    _add_span(text, pos, len(text), out)
    return out


def _add_span(text: str, a: int, b: int, out: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        out.append((a, b))


def is_prose(sentence: str) -> bool:
    """Whether a sentence is running prose a spinner could have written: not too long,
    no code, not in capitals or title case.

    >>> is_prose("The company said it would wait for a law.")
    True
    >>> is_prose("THE COMPANY SAID IT WOULD WAIT"), is_prose("x = f(a[0]); return x;")
    (False, False)
    >>> is_prose("Alan Smith, Mary Jones, Peter Brown, Anne Green")
    False
    """
    words = WORD_RE.findall(sentence)
    if not words or len(words) > LONG_SENTENCE_WORDS:
        return False
    if len(_CODE.findall(sentence)) >= 3:
        return False
    alpha = [w for w in words if w[0].isalpha()]
    if len(alpha) >= 3:
        upper = sum(1 for w in alpha if w.isupper() and len(w) > 1)
        capital = sum(1 for w in alpha if w[0].isupper())
        if upper * 2 > len(alpha) or capital * 10 > len(alpha) * 6:
            return False
    return True


def looks_english(text: str) -> bool:
    """Most longer words are English words (a spin table is English).

    >>> looks_english("The committee met on Tuesday to discuss the budget.")
    True
    >>> looks_english("Le comité s'est réuni mardi pour discuter du budget de l'année.")
    False
    """
    longer = [w.lower() for w in WORD_RE.findall(text) if len(w) > 3 and w.isalpha()]
    if not longer:
        return False
    known = sum(1 for w in longer if wordlist.zipf(w) >= 3.0)
    return known >= MIN_ENGLISH_SHARE * len(longer)


def _evidence(e: Entry | None) -> tuple[float, float]:
    """(nats, posterior) of one sighting: of a spun form (``e``) or of an original (``None``)."""
    if e is None:  # a spinner leaves only 1 - RATE of its originals in place
        return math.log(1.0 - RATE), 0.0
    # 10 ** lift = f(original) / f(form)
    a = RATE * 10.0 ** e.lift / max(1, e.choices)
    kept = 1.0 - RATE if e.is_original else 1.0
    posterior = a / (kept + a) if e.spun_share is None else e.spun_share
    return math.log(kept + a), posterior


def spin_report(text: str, table: SpinTable) -> SpinReport:
    """Score ``text`` against ``table`` (nothing is changed).

    >>> t = SpinTable.from_pairs([("thirty day period", "month"), ("gamers", "players"),
    ...                           ("very first", "first"), ("law enforcement", "police")])
    >>> r = spin_report("The gamers met a thirty day period later. It was the very first time.", t)
    >>> r.flagged, [s.entry.original for s in r.sightings]
    (True, ['players', 'month', 'first'])
    >>> r = spin_report("The players met a month later.", t)
    >>> r.flagged, r.score < 0.05, r.sightings
    (False, True, [])
    """
    report = SpinReport()
    if not len(table) or not looks_english(text):
        return report
    total = 0.0
    for a, b in sentence_spans(text):
        if not is_prose(text[a:b]):
            report.sentences.append((a, b, 0.0))
            continue
        nats = 0.0
        for entry, s, e in table.find(text, a, b, originals=True):
            n, post = _evidence(entry)
            if entry is not None:
                report.sightings.append(Sighting(entry, s, e, n, post))
            nats += n
        total += nats
        report.sentences.append((a, b, round(_logistic(nats - SENTENCE_FLAG_NATS), 4) if nats else 0.0))
    report.evidence = round(total, 4)
    report.score = round(_logistic(total - FLAG_NATS), 4) if total else 0.0
    report.flagged = total >= FLAG_NATS and len({s.entry.spun for s in report.sightings}) >= MIN_FORMS
    return report


def match_case(original: str, spun: str) -> str:
    """Give ``original`` the capitalisation of the spun words it replaces.

    >>> match_case("post", "Put up"), match_case("first", "very first"), match_case("BBC", "bbc")
    ('Post', 'first', 'BBC')
    >>> match_case("month", "THIRTY DAY PERIOD")
    'MONTH'
    """
    if spun.isupper() and len(spun) > 1:
        return original.upper()
    if spun[:1].isupper() and original[:1].islower():
        return original[:1].upper() + original[1:]
    return original


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


def _decide(text: str, report: SpinReport, lm: GGUFModel | None, bigrams: Bigrams | None
            ) -> list[tuple[Sighting, float]]:
    """The sightings to restore, each with its confidence."""
    out = []
    open_by_sentence: dict[tuple[int, int], list[Sighting]] = {}
    context: dict[int, float] = {}
    for s in report.sightings:
        threshold = REPLACE_POSTERIOR if s.entry.spun_share is None else REPLACE_MEASURED_SHARE
        ctx = 0.0
        if bigrams is not None:
            ctx = CONTEXT_WEIGHT * bigrams.side_nats(*neighbours(text, s.start, s.end), s.entry.original, s.entry.spun)
        context[s.start] = ctx
        odds = _logit(s.posterior) + ctx
        if lm is None or not LM_OPEN[0] <= s.posterior <= LM_OPEN[1]:
            if odds >= _logit(threshold if lm is None else LM_OPEN[1]):
                out.append((s, _logistic(odds)))
            continue
        sentence = next(((a, b) for a, b, _ in report.sentences if a <= s.start and s.end <= b), None)
        if sentence is not None:
            open_by_sentence.setdefault(sentence, []).append(s)
    # the model weighs each open swap against its sentence as it stands (all of the
    # text's sentences in one batch)
    batch = [(text[a:b], [(s.start - a, s.end - a, match_case(s.entry.original, text[s.start:s.end]))
                          for s in sightings]) for (a, b), sightings in open_by_sentence.items()]
    all_gains = lm.swap_gains_many(batch) if batch else []
    for sightings, gains in zip(open_by_sentence.values(), all_gains):
        for s, gain in zip(sightings, gains):
            odds = _logit(s.posterior) + context[s.start] + gain - LM_MARGIN
            if odds >= 0.0:
                out.append((s, 1.0 / (1.0 + math.exp(-odds))))
    return sorted(out, key=lambda x: x[0].start)


def unspin_and_explain(text: str, table: SpinTable, mode: str = "restore", lm: GGUFModel | None = None,
                       context: bool | Bigrams = True) -> tuple[str, list[Edit], SpinReport]:
    """Restore the originals of a flagged text's spun forms; say what was done.

    ``mode``: ``restore`` (change flagged texts), ``flag`` (score only) or ``off``
    (nothing, empty report).  Each edit's ``what`` names the table and the
    confidence: ``"spun form (table, confidence 0.93)"``.  With a language model
    (:mod:`.lm`), a sighting whose posterior is open (between :data:`LM_OPEN`) is
    restored when its log-odds plus the model's log-probability gain for the swapped
    sentence reach :data:`LM_MARGIN`; surer ones are decided without it.  ``context``:
    add the evidence of each swap's neighbours from the installed word-pair counts
    (:mod:`.context`; nothing without them), or from the given
    :class:`~.context.Bigrams`; False: none.

    >>> t = SpinTable.from_pairs([("put up", "Post"), ("very first", "first"), ("noted", "reported"),
    ...                           ("thirty day period", "month")])
    >>> text = "The Washington Put up very first noted the news a thirty day period ago."
    >>> new, edits, report = unspin_and_explain(text, t)
    >>> new
    'The Washington Post first reported the news a month ago.'
    >>> edits[0].before, edits[0].after, report.flagged
    ('Put up', 'Post', True)
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if mode == "off":
        return text, [], SpinReport()
    report = spin_report(text, table)
    if mode == "flag" or not report.flagged:
        return text, [], report
    bigrams = context if isinstance(context, Bigrams) else installed_bigrams() if context else None
    plans = [Replacement(s.start, s.end, match_case(s.entry.original, text[s.start:s.end]),
                         f"spun form ({table.name}{', lm' if lm is not None else ''}, confidence {conf:.2f})")
             for s, conf in _decide(text, report, lm, bigrams)]
    new, edits = apply_replacements(text, STAGE, plans)
    return new, edits, report


def unspin(text: str, table: SpinTable, lm: GGUFModel | None = None, context: bool | Bigrams = True) -> str:
    """The restored text (unchanged unless it is flagged as spun).

    >>> t = SpinTable.from_pairs([("gamers", "players"), ("thirty day period", "month")])
    >>> unspin("Gamers wait a thirty day period.", t)
    'Players wait a month.'
    >>> unspin("Gamers wait.", t)  # one odd word is not enough
    'Gamers wait.'
    """
    return unspin_and_explain(text, table, lm=lm, context=context)[0]
