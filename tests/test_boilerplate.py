"""Site boilerplate learned from a corpus of pages from a few invented sites."""
from __future__ import annotations

import random

import numpy as np

from newsclean.clean.boilerplate import (
    BoilerplateStats,
    LineCounts,
    learn_boilerplate,
    remove_boilerplate,
    remove_boilerplate_and_explain,
    site_of,
)

TOPICS = [
    "the river flooded the lower town", "the council voted on the new budget", "a fire closed the old mill",
    "the school opened a second campus", "the bridge reopened after repairs", "farmers reported a late harvest",
    "the museum bought a rare painting", "a storm cut power to the valley", "the mayor named a new police chief",
    "the hospital added twenty beds", "the team won the regional final", "the library extended its hours",
]
FACT_POLL = "% of readers think this story is Fact. Add your two cents."
SUBSCRIBE = "Subscribe to The Valley Daily for FREE"
AD_HEADLINE = "This Simple Trick Cuts Your Power Bill In Half"
B_FOOTER = "Comments are moderated by the Harbor Post team."
SHARED_SENTENCE = "No one was injured."


def _article(topic: str, n: int) -> list[str]:
    return [
        f"Officials said on Monday that {topic}, and that more details would follow later in the week "
        f"after a review by the county, the state and the people who live there ({n}).",
        f"Residents told reporters that {topic} was the talk of the town, item {n}.",
        f"A spokesman added that a public meeting about it would be held on day {n + 3}.",
    ]


def _site_a() -> list[tuple[str, str]]:
    pages = []
    for n, topic in enumerate(TOPICS):
        lines = [FACT_POLL] + _article(topic, n) + [SUBSCRIBE]
        if n % 3:
            lines.insert(2, AD_HEADLINE)  # on 8 of the 12 pages
        if n < 3:
            lines.insert(3, SHARED_SENTENCE)
        pages.append(("valleydaily.example", "\n".join(lines)))
    return pages


def _site_b() -> list[tuple[str, str]]:
    pages = []
    for n, topic in enumerate(TOPICS[:10]):
        lines = _article(topic, 100 + n) + [B_FOOTER]
        if n < 3:
            lines.insert(1, SHARED_SENTENCE)
        pages.append(("harborpost.example", "\n".join(lines)))
    return pages


def _copies_on_site_c() -> list[tuple[str, str]]:
    # one wire story printed on six pages of a site (updates, sections): its short
    # lines recur, but in one article only
    story = _article("the dam was declared safe", 7) + ["Short quote line from the engineer."]
    return [("copies.example", "\n".join(story)) for _ in range(6)] + [
        ("copies.example", "\n".join(_article(t, 50 + k))) for k, t in enumerate(TOPICS[:4])
    ]


CORPUS = _site_a() + _site_b() + _copies_on_site_c()


def test_site_boilerplate_removed_and_article_text_kept():
    table = learn_boilerplate(CORPUS)
    for site, text in CORPUS:
        out, edits = remove_boilerplate_and_explain(text, table, site)
        for line in (FACT_POLL, SUBSCRIBE, AD_HEADLINE, B_FOOTER):
            assert line not in out
        assert all(e.stage == "boilerplate" and e.what == "site boilerplate" for e in edits)
        for line in text.split("\n"):
            if line not in (FACT_POLL, SUBSCRIBE, AD_HEADLINE, B_FOOTER):
                assert line in out  # every article line stays


def test_a_sentence_many_sites_share_is_not_boilerplate():
    table = learn_boilerplate(CORPUS)
    assert SHARED_SENTENCE in remove_boilerplate(f"Fire at the mill.\n{SHARED_SENTENCE}", table, "valleydaily.example")


def test_copies_of_one_article_are_not_taken_for_furniture():
    table = learn_boilerplate(CORPUS)
    site, text = _copies_on_site_c()[0]
    assert remove_boilerplate(text, table, site) == text


def test_lines_of_one_site_are_not_removed_from_another():
    table = learn_boilerplate(CORPUS)
    text = f"A story.\n{SUBSCRIBE}"
    assert remove_boilerplate(text, table, "harborpost.example") == text
    assert remove_boilerplate(text, table, "valleydaily.example") == "A story."


def test_edits_undo_the_removal():
    table = learn_boilerplate(CORPUS)
    site, text = CORPUS[1]
    out, edits = remove_boilerplate_and_explain(text, table, site)
    assert edits
    restored = out
    # every edit's offsets refer to the input text: rebuild it from the output
    pieces, pos_in, pos_out = [], 0, 0
    for e in edits:
        keep = e.start - pos_in
        pieces.append(restored[pos_out : pos_out + keep] + e.before)
        pos_out += keep + len(e.after)
        pos_in = e.end
    assert "".join(pieces) + restored[pos_out:] == text


def test_a_page_of_nothing_but_boilerplate_is_not_emptied():
    table = learn_boilerplate(CORPUS)
    text = f"{FACT_POLL}\n{SUBSCRIBE}"
    assert remove_boilerplate_and_explain(text, table, "valleydaily.example") == (text, [])


def test_counting_in_shards_gives_the_same_table():
    whole = learn_boilerplate(CORPUS)
    pages = list(CORPUS)
    random.Random(4).shuffle(pages)
    shards = [pages[k::3] for k in range(3)]
    counts = []
    for shard in shards:
        c = LineCounts()
        for site, text in shard:
            c.add(site, text)
        counts.append(c)
    merged = sum(counts, LineCounts())
    assert merged.boilerplate().pages == whole.pages
    # one key range at a time, tables put back together
    parts = [sum((c.key_range(k, 4) for c in counts), LineCounts()).boilerplate() for k in range(4)]
    table = parts[0]
    for part in parts[1:]:
        table = table.merged(part)
    assert table.pages == whole.pages


def test_counts_are_hashes_and_survive_saving(tmp_path):
    counts = LineCounts()
    for site, text in CORPUS:
        counts.add(site, text)
    counts.save(tmp_path / "shard.npz")
    again = LineCounts.load(tmp_path / "shard.npz")
    assert again.boilerplate().pages == counts.boilerplate().pages
    assert again.site_pages == counts.site_pages
    assert all(again.pairs.dtype[name] == np.uint64 for name in again.pairs.dtype.names)  # no line text is held
    table = counts.boilerplate()
    table.save(tmp_path / "table.npz")
    assert type(table).load(tmp_path / "table.npz") == table


def test_stats_count_the_lines_removed():
    table = learn_boilerplate(CORPUS)
    stats = BoilerplateStats()
    for site, text in CORPUS:
        stats.add(remove_boilerplate_and_explain(text, table, site)[1])
    assert stats[SUBSCRIBE] == 12 and stats[FACT_POLL] == 12 and stats[AD_HEADLINE] == 8 and stats[B_FOOTER] == 10
    assert (stats + stats)[SUBSCRIBE] == 24


def test_thresholds():
    few = [("tiny.example", f"Story {n} here.\nJoin us") for n in range(3)]
    assert len(learn_boilerplate(few)) == 0
    assert len(learn_boilerplate(few, min_pages=3)) == 1
    # a line on 5 of 200 pages is under 5 % of the site
    many = [("big.example", f"Story {n} here." + ("\nJoin us" if n < 5 else "")) for n in range(200)]
    assert len(learn_boilerplate(many)) == 0


def test_site_of():
    assert site_of({"domain": "WWW.Example.com"}) == "example.com"
    assert site_of({"url": "https://news.example.org/a/b?c=1"}) == "news.example.org"
    assert site_of({"url": "not a url"}, source="f.jsonl") == "f.jsonl"
    assert site_of({}) == ""
