"""No stage may take super-linear time on adversarial input.

Each pathological string is cleaned at two sizes; the bigger one is 4x longer and
must not take more than ~12x the time (quadratic behaviour would be 16x, and the
absolute bound catches a hang).  Timings are coarse on purpose: this guards
against catastrophic backtracking, it is not a speed benchmark.
"""
from __future__ import annotations

import time

import pytest

from newsclean import clean_text
from newsclean.clean.pipeline import STAGES

PATTERNS = {
    "question marks": "?",
    "question in words": "a?",
    "fffd": "\ufffd",
    "empty links": "[]",
    "empty links spaced": "[] ",
    "open brackets": "[",
    "markdown-ish": "[a](",
    "at signs": "@",
    "handles": "(@",
    "quote markers": ">",
    "quote lines": "> \n",
    "unclosed tags": "<p",
    "open angle": "<",
    "unclosed script": "<script>",
    "comment openers": "<!--",
    "ampersands": "&",
    "entity chains": "&amp;",
    "one letter": "a",
    "case changes": "aA",
    "spaces": " ",
    "newlines": "\n",
    "wrapped lines": "word " * 15 + "\n",
    "shortcodes": "[caption ",
    "commas": "a,B",
    "dashes": "\u2014 ",
    "dates": "(@x) June 1, 2020 ",
}


def _time(text: str) -> float:
    t = time.perf_counter()
    clean_text(text)
    return time.perf_counter() - t


@pytest.mark.parametrize("name", list(PATTERNS))
def test_linear_time_on_pathological_input(name):
    unit = PATTERNS[name]
    small = unit * (25_000 // len(unit))
    big = unit * (100_000 // len(unit))
    _time(small)  # warm up (word list, ftfy)
    t_small = max(_time(small), 1e-3)
    t_big = _time(big)
    assert t_big < 20, f"{name}: {t_big:.1f}s for {len(big)} chars"
    assert t_big < 12 * t_small + 0.5, f"{name}: {t_small:.3f}s -> {t_big:.3f}s for 4x input"


def test_a_megabyte_of_one_character_per_stage():
    text = "x" * 1_000_000
    for name, fn in STAGES.items():
        t = time.perf_counter()
        out, _ = fn(text)
        assert out == text
        assert time.perf_counter() - t < 10, name


def test_long_line_without_spaces():
    text = ("abc?def[]ghi&amp;" * 60_000)[:1_000_000]
    t = time.perf_counter()
    out = clean_text(text)
    assert isinstance(out, str)
    assert time.perf_counter() - t < 30
