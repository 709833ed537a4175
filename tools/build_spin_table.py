#!/usr/bin/env python3
"""Build newsclean's built-in spin table from the swaps read off the seed article.

    pip install lemminflect && python tools/build_spin_table.py [--check]

Reads ``src/newsclean/spin/data/seed_swaps.tsv`` (hand-written: spun form, original,
share, part of speech to inflect, where the seed shows it) and writes
``src/newsclean/spin/data/builtin.tsv``: every swap as written, plus, for the swaps
marked ``noun`` or ``verb``, the same swap in the word's other inflections
("labored" -> "worked" also gives "laboring" -> "working" and "labors" -> "works"),
inflected with lemminflect (a build-time tool only; newsclean does not need it to run).
In a phrase, the noun inflected is the last word, the verb the first.  A verb's bare
form is added only when that form is no noun ("utilise", not "labor": the noun
"labor" is no spun form).

``--check`` rebuilds in memory and exits 1 if the file on disk differs (the test
suite runs this when lemminflect is installed).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "src" / "newsclean" / "spin" / "data"
SOURCE = DATA / "seed_swaps.tsv"
TARGET = DATA / "builtin.tsv"
TAGS = {"noun": ("NNS",), "verb": ("VB", "VBD", "VBG", "VBN", "VBZ")}
HEADER = ("# newsclean's built-in spin table, written by tools/build_spin_table.py from seed_swaps.tsv:\n"
          "# do not edit by hand.\n"
          "spun\toriginal\tconsistency\tsource\n")


def _is_share(value: str) -> bool:
    try:
        return value == "-" or 0.0 <= float(value) <= 1.0
    except ValueError:
        return False


def read_source(path: Path = SOURCE) -> list[tuple[str, str, float, str, str]]:
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 5 or parts[3] not in ("-", *TAGS) or not _is_share(parts[2]):
            raise SystemExit(f"{path}:{lineno}: expected spun, original, share (0-1 or -), -|noun|verb, context")
        rows.append((parts[0], parts[1], parts[2], parts[3], parts[4]))
    return rows


def _inflect_phrase(phrase: str, tag: str, pos: str) -> str | None:
    from lemminflect import getAllLemmas, getInflection

    words = phrase.split()
    i = 0 if pos == "verb" else len(words) - 1
    lemmas = getAllLemmas(words[i]).get("VERB" if pos == "verb" else "NOUN")
    if not lemmas:
        return None
    if tag == "VB" and getAllLemmas(lemmas[0]).get("NOUN"):
        return None  # the bare form is also a noun ("labor")
    forms = getInflection(lemmas[0], tag)
    if not forms:
        return None
    words[i] = forms[0]
    return " ".join(words)


def build(rows) -> str:
    out: dict[str, tuple[str, str, str]] = {}
    for spun, original, share, pos, _context in rows:
        out.setdefault(spun.lower(), (original, share, "seed"))
        if pos == "-":
            continue
        for tag in TAGS[pos]:
            s, o = _inflect_phrase(spun, tag, pos), _inflect_phrase(original, tag, pos)
            if s and o and s.lower() != spun.lower():
                out.setdefault(s.lower(), (o, share, f"seed, {tag}"))
    # an empty consistency: estimated from frequencies when the table is read
    body = "".join(f"{s}\t{o}\t{'' if share == '-' else share}\t{src}\n" for s, (o, share, src) in sorted(out.items()))
    return HEADER + body


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 if builtin.tsv is not what the source builds")
    a = ap.parse_args()
    text = build(read_source())
    if a.check:
        same = TARGET.exists() and TARGET.read_text(encoding="utf-8") == text
        print("builtin.tsv is up to date" if same else "builtin.tsv differs from what seed_swaps.tsv builds")
        return 0 if same else 1
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET} ({text.count(chr(10)) - 3} swaps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
