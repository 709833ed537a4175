"""The seed article the project was designed from comes out as the clean article."""
from __future__ import annotations

import re
from pathlib import Path

import newsclean

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
NBSP = "\u00a0"


def _clean_seed():
    return newsclean.clean((SAMPLES / "scraped-article.txt").read_text(encoding="utf-8"))


def test_seed_damage_is_gone():
    text = _clean_seed().text
    assert "?" not in text  # the article has no real question mark: every ? was a lost character
    assert "[]" not in text
    assert "@postlive" not in text and "@BradSmi" not in text and "#postlive" not in text
    assert "Washington Post Live" not in text
    assert not re.search(r"^>", text, re.MULTILINE)


def test_seed_typography_restored():
    text = _clean_seed().text
    assert (
        "“We will not sell facial-recognition technology to police departments in the United States "
        "until we have a national law in place, grounded in human rights, that will govern this "
        "technology,” Smith said."
    ) in text
    assert "Microsoft’s announcement follows similar statements from Amazon and IBM." in text
    assert "what’s happening" in text and "doesn’t already" in text and "hasn’t surfaced" in text
    assert "the tech’s potential" in text
    assert "regulations “grounded in human rights.” However" in text
    assert f"which it has{NBSP}vehemently defended{NBSP}as just" in text
    assert f"pointing out the{NBSP}inherent bias against minorities{NBSP}often built" in text
    assert f"A{NBSP}February 2020 report{NBSP}indicated" in text
    assert "Microsoft and Amazon have previously called on Congress" in text


def test_seed_paragraphs_reflowed():
    text = _clean_seed().text
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == 9
    assert all("\n" not in p for p in paragraphs)
    assert paragraphs[0].startswith(
        "Microsoft President Brad Smith announced in a livestreamed conversation with the "
        "Washington Post Thursday that the company does not"
    )
    assert paragraphs[4].startswith("IBM, on the other hand, committed")
    assert paragraphs[-1].endswith("Building racial equality\u00a0in tech itself\u00a0would be another.")


def test_seed_edits_cover_every_stage_that_had_work():
    stages = _clean_seed().edits_by_stage()
    assert set(stages) >= {"markup", "lost_chars", "embeds", "glued", "layout"}
    assert "encoding" not in stages  # no mojibake in this one


def test_spun_seed_is_clean_text_and_unchanged():
    # its typography is intact: no repair stage has work; only the spin stage does
    text = (SAMPLES / "spun-article.txt").read_text(encoding="utf-8")
    assert newsclean.Cleaner(unspin="off").clean(text).edits == []
    assert {e.stage for e in newsclean.clean(text).edits} == {"unspin"}


def test_seed_cleaning_is_idempotent():
    once = _clean_seed().text
    again = newsclean.clean(once)
    assert again.text == once and again.edits == []


def test_hard_wrapped_text_with_short_paragraph_ends_is_idempotent():
    wrapped = (
        "Want to share your expertise with the world but you are secretly terrified of\n"
        "being seen? Then this is the place to learn what you are about to learn.\n"
        "There is a way to do this that feels good, and it starts with a single and very\n"
        "small step that anyone can take today.\n"
        "Short line.\n"
        "Another paragraph that is long enough to be folded at the usual width of the\n"
        "text, and then it ends.\n"
    )
    once = newsclean.clean_text(wrapped)
    assert newsclean.clean_text(once) == once
    assert "\n\nShort line.\n\nAnother paragraph" in once
