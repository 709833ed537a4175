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
:data:`CONTEXT_WEIGHT`): "their have pockets" is restored, "they have been" is not;
so does the original used elsewhere in the text (:data:`ORIGINAL_IN_TEXT_NATS`: a
spinner swaps each use on its own and leaves a mix, a writer keeps to one word).
The result is the edit's ``confidence``.

A learned table's *weak* entries (measured share below
:data:`~.table.DETECTION_MIN_SHARE`: "next" for "second") are sighted too, but weigh
nothing for detection; they are restored where the evidence at the sighting lifts them
over the line, in practice where a language model prefers the original.

With a language model, a text the table does not flag but that shows at least
``min_forms`` of its forms is read by the model as well, and taken as spun when the
model confirms swaps of :data:`LM_CONFIRM_FORMS` different forms by
:data:`LM_CONFIRM_NATS`, and of :data:`LM_CONFIRM_SHARE` of the forms it read (the
report says ``lm_confirmed``): spun texts whose spinner left many originals in place sum
too little evidence for the table alone.

Text that is not prose a spinner would produce is left alone and scores 0: other
languages, sentences in capitals or title case (headlines, lists of names), code,
and run-on "sentences" of more than :data:`LONG_SENTENCE_WORDS` words.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

from ..clean import wordlist
from ..edits import Edit, Replacement, apply_replacements
from .context import Bigrams, installed_bigrams, neighbours
from .table import Entry, SpinTable

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
REPLACE_POSTERIOR = 0.5
# a learned table's consistency is measured over originals and spun copies alike,
# so a form the spinner always writes but writers use too ("period") scores low
REPLACE_MEASURED_SHARE = 0.2
# with a language model: sightings whose posterior lies in this band are weighed by the
# model (log-odds + gain >= LM_MARGIN); outside it the posterior decides alone
LM_OPEN = (0.02, 0.95)
LM_MARGIN = 0.0
# ... and in a flagged text, only those whose log-odds with their context (before the
# model) lie in this band: outside it the model seldom overturns the decision (dev spin
# set, 2,201 open sightings: it flipped 2 of the 139 below -4 and 6 of the 544 from +1
# up, against 755 of the 1,518 between), and a third of the swaps it would read go
LM_ODDS_BAND = (-4.0, 1.0)
# characters of the paragraph before a sentence that the model reads with it (dev spin
# set, gap closed with the model: 0.739 without, 0.747 with 150)
LM_CONTEXT_CHARS = 150
# a spinner swaps each use of a word on its own, so a spun text mixes the form with
# what it replaced, where a writer keeps to one word: the original used elsewhere in
# the text adds this to a sighting's log-odds (dev spin set, no model: gap 0.680 ->
# 0.686; 0.5-2.0 alike)
ORIGINAL_IN_TEXT_NATS = 1.0
# with a model, a text the table does not flag is read by it when it shows at least the
# table's ``min_forms`` forms: it is taken as spun when the model confirms, each by this
# margin (log-odds with its gain), swaps of this many different forms.  Spun texts
# whose spinner left many originals in place sum little evidence, clean ones seldom
# have two forms the model wants swapped (dev sets: 16 of the 38 spun paragraphs the
# table misses, 2 of 300 clean ones)
LM_CONFIRM_FORMS = 2
# ... and this share of the different forms the model read: a spinner swaps most of the
# words it has an entry for, so the model confirms many of a spun text's forms (0.42 of
# them in the dev spin set's unflagged paragraphs), while the chance confirmations in a
# writer's text grow with its length (0.09; 197 real articles of fake_or_real_news with
# the dev corpus's learned table and no share: 237 words changed in 33; with a third 35
# in 8; with 0.4 25 in 7, but dev gap with the model 0.797 against 0.808 with a third)
LM_CONFIRM_SHARE = Fraction(1, 3)
LM_CONFIRM_NATS = 3.0
# scale of the neighbours' evidence (.context) added to a swap's log-odds: below 1
# because the two sides and the table's share are not independent (dev: 0.5 best of 0.3-1.0)
CONTEXT_WEIGHT = 0.5
LONG_SENTENCE_WORDS = 80
MIN_ENGLISH_SHARE = 0.7    # of a text's longer words, the share English must know
ENGLISH_SAMPLE_WORDS = 80  # longer words read to tell the language

_SENT_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)|\n+")
_CODE_CHARS = {ord(c): None for c in "{}[]();=<>$#\\|_`"}  # characters of code, deleted to count them
_EDGE = "\"'\u201c\u201d\u2018\u2019([,.;:!?)]"  # punctuation around a word


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
    table: str = ""        # the table (of a merged one, the part) the text was judged against
    # forms a language model confirmed in a text the table alone did not flag (then
    # flagged, its score raised to the flag line 0.5); 0: the table decided
    confirmed: int = 0

    def to_dict(self) -> dict:
        out = {"score": self.score, "flagged": self.flagged, "evidence": self.evidence,
               "sentences": [round(s, 4) for _, _, s in self.sentences], "found": len(self.sightings)}
        if self.confirmed:
            out["lm_confirmed"] = self.confirmed
        return out


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
    words = sentence.split()
    if not words or len(words) > LONG_SENTENCE_WORDS:
        return False
    if len(sentence) - len(sentence.translate(_CODE_CHARS)) >= 3:
        return False
    alpha = [w for w in (w.strip(_EDGE) for w in words) if w[:1].isalpha()]
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
    # the first words are enough to tell a language
    longer = [w for w in text[:4000].lower().split() if len(w) > 3 and w.isalpha()][:ENGLISH_SAMPLE_WORDS]
    if not longer:
        return False
    common = wordlist.common_words()
    known = sum(w in common for w in longer)
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
    if len(table.parts) > 1:
        # one spinner's table at a time; the text is as spun as its best match says
        # (unflagged: the best a model could confirm, one with forms enough to be read,
        # not one that saw nothing while another's sightings summed below zero)
        reports = [spin_report(text, part) for part in table.parts]
        best = max(zip(reports, table.parts), key=lambda rp: (rp[0].flagged, _worth_confirming(*rp), rp[0].evidence))[0]
        return _with_other_parts(best, [r for r in reports if r is not best and r.flagged]) if best.flagged else best
    report = SpinReport(table=table.name)
    if not len(table):
        return report
    # the whole text in one pass (a phrase never spans a sentence end); most clean
    # texts have no sighting, or one, and stop here
    hits = table.find(text, originals=True)
    forms = {e.spun for e, _, _ in hits if e is not None}
    if len(forms) < table.min_forms:
        # too few forms to flag the text: its score from the sightings alone, without
        # reading its sentences (most texts end here)
        return _unflagged_report(report, hits)
    if not looks_english(text):
        return report
    if table.weak is not None:  # only a text that can be flagged has swaps to weigh
        hits = _with_weak(hits, table.weak.find(text))
    total = 0.0
    k = 0
    seen: set[str] = set()
    for a, b in sentence_spans(text):
        first = k
        while k < len(hits) and hits[k][1] < b:
            k += 1
        # (a sentence with originals only just counts them: the check of its prose, the
        # costly part here, is for sentences that could flag a text)
        part = hits[first:k]
        if first == k or (any(h[0] is not None and not h[0].weak for h in part) and not is_prose(text[a:b])):
            report.sentences.append((a, b, 0.0))
            continue
        if any(h[0] is not None for h in part) and not is_prose(text[a:b]):
            part = [h for h in part if h[0] is None]  # no weak swap outside prose; originals count
        nats = _weigh(part, report, seen)
        total += nats
        report.sentences.append((a, b, round(_logistic(nats - SENTENCE_FLAG_NATS), 4) if nats else 0.0))
    report.evidence = round(total, 4)
    report.score = round(_logistic(total - FLAG_NATS), 4) if total else 0.0
    report.flagged = total >= FLAG_NATS and len(seen) >= table.min_forms
    return report


def _with_other_parts(best: SpinReport, others: list[SpinReport]) -> SpinReport:
    """``best`` (a flagged report) with the sightings of ``others`` (the other parts'
    flagged reports) that overlap none of its own: tables overlap, and a text the
    built-in table flags with more evidence than a learned one still holds the learned
    spinner's other swaps to restore."""
    for other in others:
        taken = [(s.start, s.end) for s in best.sightings]
        best.sightings += [s for s in other.sightings if not any(a < s.end and s.start < b for a, b in taken)]
        if len(other.sentences) > len(best.sentences):  # the same spans, or none (a text too short to read)
            best.sentences = other.sentences
    best.sightings.sort(key=lambda s: (s.start, s.end))
    return best


def _weigh(hits: list, report: SpinReport, seen: set[str]) -> float:
    """The nats of ``hits``; their sightings are added to ``report``."""
    nats = 0.0
    for entry, s, e in hits:
        if entry is not None and entry.weak:  # a swap to weigh, no evidence of spinning
            report.sightings.append(Sighting(entry, s, e, 0.0, entry.spun_share))
            continue
        n, post = _evidence(entry)
        if entry is not None:
            report.sightings.append(Sighting(entry, s, e, n, post))
            # a form counts once per text: a writer repeats a topic word ("exploration"
            # five times in a space story), a spinner's swaps are spread over many words
            if entry.spun in seen:
                continue
            seen.add(entry.spun)
        nats += n
    return nats


def _with_weak(hits: list, weak: list) -> list:
    """``hits`` and the weak sightings that overlap no spun form of them, by start."""
    if not weak:
        return hits
    forms = [(a, b) for e, a, b in hits if e is not None]
    kept = [h for h in weak if not any(a < h[2] and h[1] < b for a, b in forms)]
    return sorted(hits + kept, key=lambda h: (h[1], h[2]))


def _unflagged_report(report: SpinReport, hits: list) -> SpinReport:
    total = _weigh(hits, report, set())
    report.evidence = round(total, 4)
    report.score = round(_logistic(total - FLAG_NATS), 4) if report.sightings else 0.0
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


@dataclass(slots=True)
class _Plan:
    """One text's decisions: those made without the model, and the open sightings
    (by sentence) that wait for it."""

    sure: list[tuple[Sighting, float]]
    open_by_sentence: dict[tuple[int, int], list[Sighting]]
    context: dict[int, float]


def original_elsewhere(text: str, start: int, end: int, original: str, low: str | None = None) -> bool:
    """Whether ``original`` is used in ``text`` as a word (or phrase) of its own outside
    ``text[start:end]``, case-blind.

    >>> t = "The team met. A group of fans waited."
    >>> original_elsewhere(t, 4, 8, "group"), original_elsewhere(t, 4, 8, "band")
    (True, False)
    >>> original_elsewhere("It was the very first time.", 11, 21, "first")  # inside the form only
    False
    """
    low = _lower(text) if low is None else low  # (``low``: the caller's, lowered once per text)
    o = original.lower()
    if o not in low:
        return False
    pattern = r"(?<![^\W_])" + re.escape(o) + r"(?![^\W_])"
    return any(m.end() <= start or m.start() >= end for m in re.finditer(pattern, low))


def _lower(text: str) -> str:
    """``text`` in lower case, letter for letter (offsets kept: "İ" lowers to two characters)."""
    low = text.lower()
    return low if len(low) == len(text) else "".join(c.lower()[:1] for c in text)


def _plan(text: str, report: SpinReport, lm_on: bool, bigrams: Bigrams | None) -> _Plan:
    plan = _Plan([], {}, {})
    low = _lower(text)
    for s in report.sightings:
        threshold = REPLACE_POSTERIOR if s.entry.spun_share is None else REPLACE_MEASURED_SHARE
        ctx = 0.0
        if bigrams is not None:
            ctx = CONTEXT_WEIGHT * bigrams.side_nats(*neighbours(text, s.start, s.end), s.entry.original, s.entry.spun)
        if original_elsewhere(text, s.start, s.end, s.entry.original, low):
            ctx += ORIGINAL_IN_TEXT_NATS
        plan.context[s.start] = ctx
        odds = _logit(s.posterior) + ctx
        # the line a sighting decided without the model must reach (None: the model decides)
        if not lm_on or not LM_OPEN[0] <= s.posterior <= LM_OPEN[1]:
            line = _logit(threshold if not lm_on else LM_OPEN[1])
        elif report.flagged and not LM_ODDS_BAND[0] <= odds < LM_ODDS_BAND[1]:
            # the model's line with no gain (an unflagged text waits for its confirmation)
            line = LM_MARGIN
        else:
            line = None
        if line is not None:
            if odds >= line:
                plan.sure.append((s, _logistic(odds)))
            continue
        sentence = next(((a, b) for a, b, _ in report.sentences if a <= s.start and s.end <= b), None)
        if sentence is not None:
            plan.open_by_sentence.setdefault(sentence, []).append(s)
    return plan


def _lm_items(text: str, plan: _Plan) -> list[tuple[str, list[tuple[int, int, str]]]]:
    # the model weighs each open swap against its sentence as it stands, read after what
    # precedes it in its paragraph (up to LM_CONTEXT_CHARS, from a word's start): a
    # sentence's first words are judged badly with nothing before them
    items = []
    for (a, b), sightings in plan.open_by_sentence.items():
        a0 = max(text.rfind("\n", 0, a) + 1, a - LM_CONTEXT_CHARS)
        while a0 < a and a0 > 0 and not text[a0 - 1].isspace():
            a0 += 1
        items.append((text[a0:b], [(s.start - a0, s.end - a0, match_case(s.entry.original, text[s.start:s.end]))
                                   for s in sightings]))
    return items


def _decisions(plan: _Plan, all_gains: list[list[float]]) -> list[tuple[Sighting, float]]:
    """The sightings to restore, each with its confidence."""
    out = list(plan.sure)
    for sightings, gains in zip(plan.open_by_sentence.values(), all_gains):
        for s, gain in zip(sightings, gains):
            odds = _lm_odds(plan, s, gain)
            if odds >= 0.0:
                out.append((s, 1.0 / (1.0 + math.exp(-odds))))
    return sorted(out, key=lambda x: x[0].start)


def _confirmed_forms(plan: _Plan, all_gains: list[list[float]]) -> tuple[int, int]:
    """Different spun forms whose swap the model confirms by :data:`LM_CONFIRM_NATS`,
    the table's sure ones included, and different spun forms the text shows."""
    forms = {s.entry.spun for s, _ in plan.sure}
    shown = forms | {s.entry.spun for sightings in plan.open_by_sentence.values() for s in sightings}
    for sightings, gains in zip(plan.open_by_sentence.values(), all_gains):
        forms.update(s.entry.spun for s, gain in zip(sightings, gains) if _lm_odds(plan, s, gain) >= LM_CONFIRM_NATS)
    return len(forms), len(shown)


def _lm_odds(plan: _Plan, s: Sighting, gain: float) -> float:
    """Log-odds that an open sighting is spun, with the model's gain for its swap."""
    return _logit(s.posterior) + plan.context[s.start] + gain - LM_MARGIN


def _worth_confirming(report: SpinReport, table: SpinTable) -> bool:
    """An unflagged text the model should read: prose in English (its sentences were
    read) with enough different forms to be flagged."""
    forms = {s.entry.spun for s in report.sightings if not s.entry.weak}
    return bool(report.sentences) and len(forms) >= table.min_forms


def unspin_and_explain(text: str, table: SpinTable, mode: str = "restore", lm: GGUFModel | None = None,
                       context: bool | Bigrams = True) -> tuple[str, list[Edit], SpinReport]:
    """Restore the originals of a flagged text's spun forms; say what was done.

    ``mode``: ``restore`` (change flagged texts), ``flag`` (score only) or ``off``
    (nothing, empty report).  Each edit's ``what`` names the table and the
    confidence: ``"spun form (table, confidence 0.93)"``.  With a language model
    (:mod:`.lm`), a sighting whose posterior is open (between :data:`LM_OPEN`; in a
    flagged text, its log-odds also within :data:`LM_ODDS_BAND`) is restored when its
    log-odds plus the model's log-probability gain for the swapped sentence reach
    :data:`LM_MARGIN`; surer ones are decided without it; an unflagged
    text with enough forms is restored when the model confirms it (module docstring).
    ``context``:
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
    return unspin_many_and_explain([text], table, mode, lm, context)[0]


def unspin_many_and_explain(texts: Sequence[str], table: SpinTable, mode: str = "restore",
                            lm: GGUFModel | None = None, context: bool | Bigrams = True
                            ) -> list[tuple[str, list[Edit], SpinReport]]:
    """:func:`unspin_and_explain` for several texts, with the same results one by one.

    With a model, the open swaps of all the texts are weighed in one batch: the
    model's weights are then read twice for the batch instead of twice per text,
    which halves the time of a batch of a dozen texts on a small machine."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if mode == "off":
        return [(text, [], SpinReport()) for text in texts]
    reports = [spin_report(text, table) for text in texts]
    if mode == "flag":
        return [(text, [], report) for text, report in zip(texts, reports)]
    flagged = [i for i, report in enumerate(reports) if report.flagged]
    # with a model, unflagged texts with enough forms are read too (see LM_CONFIRM_FORMS)
    unsure = ([i for i, report in enumerate(reports) if not report.flagged and _worth_confirming(report, table)]
              if lm is not None else [])
    # the word-pair counts take half a second to load: only for a batch with a flagged text
    bigrams = (context if isinstance(context, Bigrams) else installed_bigrams() if context and (flagged or unsure)
               else None)
    plans = {i: _plan(texts[i], reports[i], lm is not None, bigrams) for i in sorted(flagged + unsure)}
    items = {i: _lm_items(texts[i], plan) for i, plan in plans.items()}
    batch = [item for i in plans for item in items[i]]
    gains = lm.swap_gains_many(batch) if batch and lm is not None else []
    out = []
    k = 0
    for i, (text, report) in enumerate(zip(texts, reports)):
        if i not in plans:
            out.append((text, [], report))
            continue
        n = len(items[i])
        if not report.flagged:
            confirmed, shown = _confirmed_forms(plans[i], gains[k:k + n])
            if confirmed < LM_CONFIRM_FORMS or confirmed < LM_CONFIRM_SHARE * shown:
                k += n
                out.append((text, [], report))
                continue
            report.flagged, report.confirmed, report.score = True, confirmed, max(report.score, 0.5)
        replacements = [Replacement(s.start, s.end, match_case(s.entry.original, text[s.start:s.end]),
                                    f"spun form ({report.table}{', lm' if lm is not None else ''}, "
                                    f"confidence {conf:.2f})")
                        for s, conf in _decisions(plans[i], gains[k:k + n])]
        k += n
        new, edits = apply_replacements(text, STAGE, replacements)
        out.append((new, edits, report))
    return out


def unspin(text: str, table: SpinTable, lm: GGUFModel | None = None, context: bool | Bigrams = True) -> str:
    """The restored text (unchanged unless it is flagged as spun).

    >>> t = SpinTable.from_pairs([("gamers", "players"), ("thirty day period", "month")])
    >>> unspin("Gamers wait a thirty day period.", t)
    'Players wait a month.'
    >>> unspin("Gamers wait.", t)  # one odd word is not enough
    'Gamers wait.'
    """
    return unspin_and_explain(text, table, lm=lm, context=context)[0]
