"""Word frequencies from the installed ``wordfreq`` package, loaded once and lazily.

Two views are used by the stages:

* :func:`zipf` — how common an English word is (0 = unknown, 3 = a common word);
* :func:`accented_word` — the most common word that has non-ASCII letters exactly
  where a lossy re-encoding left ``?`` (``caf?`` -> ``café``, ``Weizs?cker`` ->
  ``Weizsäcker``).
"""
from __future__ import annotations

import math
import threading

_LOCK = threading.Lock()
_FREQ: dict[str, float] | None = None
_ACCENTED: dict[str, str] | None = None
_FOREIGN: dict[str, dict[str, str]] = {}  # language -> accent index, for non-English texts

LOST = "?"  # the placeholder used in accent keys


def _load() -> None:
    global _FREQ
    with _LOCK:
        if _FREQ is None:
            import wordfreq

            _FREQ = wordfreq.get_frequency_dict("en", "large")


def _accent_index(freq: dict[str, float]) -> dict[str, str]:
    best: dict[str, tuple[float, str]] = {}
    for word, f in freq.items():
        if word.isascii() or not word.isalpha():
            continue
        key = "".join(c if c.isascii() else LOST for c in word)
        seen = best.get(key)
        if seen is None or f > seen[0]:
            best[key] = (f, word)
    return {k: w for k, (f, w) in best.items()}


def _load_accented() -> None:
    # Built on first need only: most texts never need an accented letter restored.
    global _ACCENTED
    if _FREQ is None:
        _load()
    with _LOCK:
        if _ACCENTED is not None:
            return
        _ACCENTED = _accent_index(_FREQ)  # type: ignore[arg-type]


def zipf(word: str) -> float:
    """Zipf frequency of a lower-cased word in English (0.0 when unknown).

    >>> zipf("the") > 7 and zipf("qzxv") == 0.0
    True
    """
    if _FREQ is None:
        _load()
    f = _FREQ.get(word.lower())  # type: ignore[union-attr]
    return math.log10(f) + 9 if f else 0.0


_COMMON: frozenset[str] | None = None


def common_words() -> frozenset[str]:
    """The lower-cased English words of Zipf frequency 3 or more (a set, built once:
    telling many words apart by membership is cheaper than by :func:`zipf`).

    >>> "committee" in common_words(), "comité" in common_words()
    (True, False)
    """
    global _COMMON
    if _COMMON is None:
        if _FREQ is None:
            _load()
        with _LOCK:
            if _COMMON is None:
                _COMMON = frozenset(w for w, f in _FREQ.items() if f >= 1e-6)  # type: ignore[union-attr]
    return _COMMON


_FOREIGN_FREQ: dict[str, dict[str, float]] = {}


def _foreign_freq(lang: str) -> dict[str, float]:
    with _LOCK:
        freq = _FOREIGN_FREQ.get(lang)
        if freq is None:
            import wordfreq

            freq = _FOREIGN_FREQ[lang] = wordfreq.get_frequency_dict(lang, "large")
        return freq


def _foreign_index(lang: str) -> dict[str, str]:
    freq = _foreign_freq(lang)
    with _LOCK:
        index = _FOREIGN.get(lang)
        if index is None:
            index = _FOREIGN[lang] = _accent_index(freq)
        return index


def zipf_in(word: str, lang: str) -> float:
    """Zipf frequency of a word in the word list of ``lang`` (0.0 when unknown)."""
    if lang == "en":
        return zipf(word)
    f = _foreign_freq(lang).get(word.lower())
    return math.log10(f) + 9 if f else 0.0


def accented_word(pattern: str, lang: str = "en") -> tuple[str, float] | None:
    """The most common word whose non-ASCII letters sit where ``pattern`` has ``?``.

    The case of ``pattern`` is carried over.  Returns the word and its Zipf
    frequency in the list it came from: for ``lang`` other than English that
    language's list is asked first, then the English one.

    >>> accented_word("caf?")
    ('café', 3.75)
    >>> accented_word("JOS?")[0]
    'JOSÉ'
    >>> accented_word("Microsoft?s") is None
    True
    >>> accented_word("n?o", "pt")[0]
    'não'
    """
    key = pattern.lower()
    word = None
    z = 0.0
    if lang != "en":
        word = _foreign_index(lang).get(key)
        if word is not None:
            z = round(zipf_in(word, lang), 2)
    if word is None:
        if _ACCENTED is None:
            _load_accented()
        word = _ACCENTED.get(key)  # type: ignore[union-attr]
        if word is None:
            return None
        z = round(zipf(word), 2)
    out = []
    for i, (p, w) in enumerate(zip(pattern, word)):
        # A lost word-initial letter in English is a capital in practice (Álvaro,
        # Éric, Óscar); in other languages it is as often a common word (único).
        upper = p.isupper() or (p == LOST and (pattern.isupper() or (i == 0 and lang == "en")))
        out.append(w.upper() if upper else w)
    return "".join(out), z
