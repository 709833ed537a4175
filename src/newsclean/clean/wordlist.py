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

LOST = "?"  # the placeholder used in accent keys


def _load() -> None:
    global _FREQ, _ACCENTED
    with _LOCK:
        if _FREQ is not None:
            return
        import wordfreq

        freq = wordfreq.get_frequency_dict("en", "large")
        accented: dict[str, tuple[float, str]] = {}
        for word, f in freq.items():
            if word.isascii() or not word.isalpha():
                continue
            key = "".join(c if c.isascii() else LOST for c in word)
            best = accented.get(key)
            if best is None or f > best[0]:
                accented[key] = (f, word)
        _ACCENTED = {k: w for k, (f, w) in accented.items()}
        _FREQ = freq


def zipf(word: str) -> float:
    """Zipf frequency of a lower-cased word in English (0.0 when unknown).

    >>> zipf("the") > 7 and zipf("qzxv") == 0.0
    True
    """
    if _FREQ is None:
        _load()
    f = _FREQ.get(word.lower())  # type: ignore[union-attr]
    return math.log10(f) + 9 if f else 0.0


def accented_word(pattern: str) -> tuple[str, float] | None:
    """The most common word whose non-ASCII letters sit where ``pattern`` has ``?``.

    The case of ``pattern`` is carried over.  Returns the word and its Zipf frequency.

    >>> accented_word("caf?")
    ('café', 3.75)
    >>> accented_word("JOS?")[0]
    'JOSÉ'
    >>> accented_word("Microsoft?s") is None
    True
    """
    if _ACCENTED is None:
        _load()
    word = _ACCENTED.get(pattern.lower())  # type: ignore[union-attr]
    if word is None:
        return None
    out = []
    for i, (p, w) in enumerate(zip(pattern, word)):
        # A lost word-initial letter is a capital in practice (Álvaro, Éric, Óscar).
        upper = p.isupper() or (p == LOST and (pattern.isupper() or i == 0))
        out.append(w.upper() if upper else w)
    restored = "".join(out)
    return restored, round(zipf(word), 2)
