"""Stage 1 — encoding: undo mojibake with ftfy, and nothing else.

ftfy is configured the way datatrove and NeMo Curator configure it for corpora:
fix encodings only, keep curly quotes, no Unicode normalisation, no width or
ligature changes, no HTML unescaping (the markup stage does that, carefully).
Lossy mojibake whose bytes are gone becomes U+FFFD, which the lost-characters
stage then restores from context.
"""
from __future__ import annotations

import re

from ..edits import Edit, Replacement, apply_replacements

STAGE = "encoding"

_CONFIG = None



def _config():
    global _CONFIG
    if _CONFIG is None:
        from ftfy import TextFixerConfig

        _CONFIG = TextFixerConfig(
            unescape_html=False,
            remove_terminal_escapes=True,
            fix_encoding=True,
            restore_byte_a0=True,
            replace_lossy_sequences=True,
            decode_inconsistent_utf8=True,
            fix_c1_controls=True,
            fix_latin_ligatures=False,
            fix_character_width=False,
            uncurl_quotes=False,
            fix_line_breaks=False,
            fix_surrogates=True,
            remove_control_chars=True,
            normalization=None,
            explain=False,
        )
    return _CONFIG


# Controls (C0 and C1), escapes, surrogates and U+FFFD-adjacent junk: ftfy's other
# encoding-level fixes need one of these to do anything.
_FTFY_TRIGGERS = re.compile(
    r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\u206a-\u206f\ufeff\ufff9-\ufffc"
    r"\U0001d173-\U0001d17a\U000e0000-\U000e007f]"
)


# UTF-8 read as a single-byte code page always shows a lead byte as one of these:
# Latin-1 and Latin Extended letters (Ã, Â, â, Ă: windows-1252/1250, latin-1,
# MacRoman, cp437), Greek or Cyrillic (windows-1253/1251), math symbols (√:
# MacRoman), box drawing (cp437).  Curly quotes, dashes and £
# alone cannot be mojibake, so clean English text skips ftfy entirely.
_MOJIBAKE_LETTERS = re.compile(r"[\u00c0-\u024f\u0370-\u04ff\u2200-\u22ff\u2500-\u259f]")


# The ASCII bytes that are not triggers: deleting them from ASCII text leaves the triggers
# (bytes.translate runs in C, ~10x faster than a character-class regex scan).
_ASCII_FINE = bytes(b for b in range(128) if not (b <= 0x08 or b == 0x0B or 0x0E <= b <= 0x1F or b == 0x7F))


def _needs_ftfy(text: str) -> bool:
    """Could ftfy change this text?  Cheap checks that skip most clean text."""
    if text.isascii():
        return bool(text.encode("ascii").translate(None, _ASCII_FINE))
    if _FTFY_TRIGGERS.search(text):
        return True
    if not _MOJIBAKE_LETTERS.search(text):
        return False
    from ftfy.badness import is_bad

    # ftfy's own first test: text that does not look like mojibake is left as is.
    return is_bad(text)


def _line_edits(before: str, after: str, offset: int) -> list[Replacement]:
    """Describe a changed line as small replacements (whole line if it is huge)."""
    if len(before) > 100_000:
        return [Replacement(offset, offset + len(before), after, "mojibake")]
    from rapidfuzz.distance import Indel

    out = []
    for op in Indel.opcodes(before, after):
        if op.tag != "equal":
            out.append(
                Replacement(offset + op.src_start, offset + op.src_end, after[op.dest_start : op.dest_end], "mojibake")
            )
    return out


def fix_encoding_and_explain(text: str) -> tuple[str, list[Edit]]:
    """Fix mojibake line by line, reporting each change.

    >>> fix_encoding_and_explain("The cafÃ© is open")[0]
    'The café is open'
    >>> fix_encoding_and_explain("“Curly” quotes stay")
    ('“Curly” quotes stay', [])
    """
    if not _needs_ftfy(text):
        return text, []
    import ftfy

    config = _config()
    fixed = ftfy.fix_text(text, config)
    if fixed == text:
        return text, []
    # Work out where it changed, line by line (ftfy never joins or splits lines here).
    src_lines = text.splitlines(keepends=True)
    dst_lines = fixed.splitlines(keepends=True)
    if len(src_lines) != len(dst_lines):
        return apply_replacements(text, STAGE, [Replacement(0, len(text), fixed, "mojibake")])
    reps: list[Replacement] = []
    offset = 0
    for a, b in zip(src_lines, dst_lines):
        if a != b:
            reps.extend(_line_edits(a, b, offset))
        offset += len(a)
    out, edits = apply_replacements(text, STAGE, reps)
    assert out == fixed
    return out, edits


def fix_encoding(text: str) -> str:
    """Fix mojibake only.

    >>> fix_encoding("Itâ€™s fixed")
    'It’s fixed'
    """
    return fix_encoding_and_explain(text)[0]
