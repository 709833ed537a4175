"""Text views used for comparison: normalised words, a spin-robust skeleton, stop words.

All views are computed from the *cleaned* text (see :mod:`newsclean.dedup.core`).

* :func:`words` — lowercase, punctuation stripped, whitespace folded: the list of
  ``\\w+`` tokens of the NFKC-normalised text.
* :func:`skeleton` — what a synonym spinner keeps: capitalised words (names), tokens
  with digits (numbers, dates) and function words, in order; every other word is
  dropped (a spinner replaces content words, sometimes by several words, so dropping
  them is steadier than a placeholder).
"""
from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")

# English function words (closed classes: articles, pronouns, prepositions, conjunctions,
# auxiliaries, determiners, common adverbs).  Written here on purpose: no download.
FUNCTION_WORDS: frozenset[str] = frozenset(
    """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    either else ever few for from further had has have having he her here hers herself him
    himself his how i if in into is it its itself just may me might more most must my
    myself neither no nor not now of off on once only or other ought our ours ourselves
    out over own same shall she should since so some such than that the their theirs them
    themselves then there these they this those though through till to too under until up
    upon us very was we were what when where whether which while who whom whose why will
    with within without would yet you your yours yourself yourselves s t d ll m re ve
    """.split()
)

# Stop words for TF-IDF: the function words plus reporting verbs and news filler that
# every article has.
STOP_WORDS: frozenset[str] = FUNCTION_WORDS | frozenset(
    """
    said says say saying told tell according added adding also one two three new like
    get got go going went make made many much well back still even way us mr mrs ms dr
    year years time times last first week month today yesterday people could would
    however although including around per cent percent since already another every
    whose via told reported report reports reporting news story thing things see
    """.split()
)


def normalise(text: str) -> str:
    """NFKC + lowercase; the base of every view."""
    return unicodedata.normalize("NFKC", text).lower()


def words(text: str) -> list[str]:
    """Normalised word tokens: lowercase, punctuation stripped, whitespace folded.

    >>> words("Smith’s  plan: 10% CUT!")
    ['smith', 's', 'plan', '10', 'cut']
    """
    return _WORD.findall(normalise(text))


_SKELETON_FORMS: dict[str, str] = {}  # token -> its skeleton form ("" when dropped)
_CACHE_LIMIT = 500_000


def _skeleton_form(tok: str) -> str:
    low = tok.lower()
    if tok[0].isupper() or low in FUNCTION_WORDS or (not tok.isalpha() and any(c.isdigit() for c in tok)):
        return low
    return ""


def skeleton(text: str) -> list[str]:
    """Spin-robust token sequence: names, numbers and function words, lowercased.

    >>> skeleton("Tindall is out of contract at the end of the season, Bath said in 2005.")
    ['tindall', 'is', 'out', 'of', 'at', 'the', 'of', 'the', 'bath', 'in', '2005']
    """
    return skeleton_of_tokens(tokens(text))


def tokens(text: str) -> list[str]:
    """Word tokens of the NFKC text, case kept (what :func:`words` and :func:`skeleton` share).

    >>> tokens("Smith’s  plan: 10% CUT!")
    ['Smith', 's', 'plan', '10', 'CUT']
    """
    return _WORD.findall(unicodedata.normalize("NFKC", text))


def skeleton_of_tokens(toks: list[str]) -> list[str]:
    """:func:`skeleton` of already split :func:`tokens`."""
    forms = _SKELETON_FORMS
    if len(forms) > _CACHE_LIMIT:  # a corpus's vocabulary is large but repeats: bound the memo
        forms.clear()
    # lookups in C (map); only tokens never seen before go through Python
    found = list(map(forms.get, toks))
    if None in found:
        for k, form in enumerate(found):
            if form is None:
                found[k] = forms[toks[k]] = _skeleton_form(toks[k])
    return [f for f in found if f]
