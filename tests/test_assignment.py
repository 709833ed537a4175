"""A deduplicated archive that loses nothing: every removed record is contained in its own
survivor, pages that hold several stories never join them, and the result does not depend
on input order.
"""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsclean import Cleaner
from newsclean.dedup import DedupParams, dedup_records
from newsclean.dedup.features import document_features
from newsclean.dedup.verify import contained_score, shared_count

SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "sa", "vor", "pel", "dan", "qui", "bro", "nef", "zul", "tam", "gir",
             "hox", "wen", "pri", "lud", "cam", "ost", "yar", "fen", "jib"]


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))


def story(rng: random.Random, sentences: int = 12) -> str:
    """A made-up story: sentences of made-up words, in paragraphs of three (two
    stories share a phrase only by chance)."""
    out = []
    for _ in range(sentences):
        words = [word(rng) for _ in range(rng.randint(8, 14))]
        out.append(words[0].capitalize() + " " + " ".join(words[1:]) + ".")
    return "\n\n".join(" ".join(out[i : i + 3]) for i in range(0, len(out), 3))


def lead(text: str, words: int) -> str:
    return " ".join(text.split()[:words])


def by_id(results):
    return {r.id: r for r in results}


def test_related_blocks_do_not_chain_stories():
    """Story A; A + a related block with B's opening; B's opening alone; B; B + a related
    block with C's opening; C's opening alone; C: three stories, nothing lost."""
    rng = random.Random(1)
    a, b, c = story(rng), story(rng), story(rng)
    records = [
        {"id": "A", "text": a},
        {"id": "A+related", "text": a + "\n\nRelated stories\n\n" + lead(b, 50)},
        {"id": "B-lead", "text": lead(b, 40)},
        {"id": "B", "text": b},
        {"id": "B+related", "text": b + "\n\nRelated stories\n\n" + lead(c, 50)},
        {"id": "C-lead", "text": lead(c, 40)},
        {"id": "C", "text": c},
    ]
    res = by_id(dedup_records(records))
    assert res["A+related"].cluster == res["A"].cluster
    assert res["B-lead"].cluster == res["B"].cluster == res["B+related"].cluster
    assert res["C-lead"].cluster == res["C"].cluster
    assert len({res[k].cluster for k in ("A", "B", "C")}) == 3
    assert_removed_records_are_contained(records, res)


def test_page_with_two_whole_stories_is_composite_and_joins_nothing():
    rng = random.Random(2)
    a, b = story(rng), story(rng)
    records = [{"id": "A", "text": a}, {"id": "B", "text": b}, {"id": "page", "text": a + "\n\n" + b},
               {"id": "A-cut", "text": a.split("\n\n")[0] + "\n\n" + a.split("\n\n")[1]}]
    res = by_id(dedup_records(records))
    assert res["A"].duplicate_of is None and res["B"].duplicate_of is None
    assert res["A"].cluster != res["B"].cluster
    assert res["page"].duplicate_of is None and res["page"].composite
    assert res["page"].contains == ["A", "A-cut", "B"]
    assert res["page"].to_dict()["composite"] is True and "composite" not in res["A"].to_dict()
    assert res["A-cut"].cluster == "A"


def test_two_rewrites_of_one_wire_story_do_not_make_its_full_version_composite():
    """Two outlets' shortened rewrites of one agency story (ECB+ 35_5/35_6 against 35_4:
    each 0.75 inside the full story, 0.4 of each other): one story, not a composite page."""
    rng = random.Random(5)
    sentences = story(rng, 10).replace("\n\n", " ").split(". ")
    full = ". ".join(sentences)
    first = ". ".join(sentences[:6]) + ". " + story(rng, 1)
    second = ". ".join(sentences[3:]) + " " + story(rng, 1)
    records = [{"id": "full", "text": full}, {"id": "first", "text": first}, {"id": "second", "text": second}]
    res = by_id(dedup_records(records))
    assert not res["full"].composite
    assert res["first"].duplicate_of == "full" and res["second"].duplicate_of == "full"
    assert_removed_records_are_contained(records, res)


def test_copy_of_a_composite_page_joins_it():
    rng = random.Random(3)
    parts = [story(rng, 6) for _ in range(3)]
    page = "News in brief\n\n" + "\n\n".join(parts)
    records = [{"id": f"s{k}", "text": p} for k, p in enumerate(parts)]
    records += [{"id": "page", "text": page}, {"id": "page-copy", "text": page + "\n\nAll rights reserved."}]
    res = by_id(dedup_records(records))
    assert res["page"].composite and res["page-copy"].composite
    assert res["page-copy"].cluster == res["page"].cluster
    assert len({res[f"s{k}"].cluster for k in range(3)} | {res["page"].cluster}) == 4


def test_story_followed_by_short_openings_of_others_is_a_copy_of_it():
    rng = random.Random(4)
    a, b, c = story(rng, 9), story(rng), story(rng)
    page = a + "\n\nMore stories\n\n" + lead(b, 45) + "\n\n" + lead(c, 45)
    res = by_id(dedup_records([{"id": "A", "text": a}, {"id": "B", "text": b}, {"id": "C", "text": c},
                               {"id": "page", "text": page}]))
    assert res["page"].cluster == res["A"].cluster and not res["page"].composite
    assert res["B"].duplicate_of is None and res["C"].duplicate_of is None


@pytest.mark.parametrize("keep", ["cleanest", "longest", "earliest", "first"])
def test_truncated_copy_never_survives_its_original(keep):
    rng = random.Random(5)
    text = story(rng)
    cut = "\n\n".join(text.split("\n\n")[:3])  # three of four paragraphs: contained both ways
    damaged = text.replace("'", "&#8217;") + " []"  # cleaning edits on the whole original
    records = [{"id": "cut", "text": cut, "date": "2020-01-01"},
               {"id": "whole", "text": damaged, "date": "2020-01-02"}]
    res = by_id(dedup_records(records, keep=keep))
    assert res["cut"].duplicate_of == "whole" and res["cut"].similarity == 1.0


def test_similarity_is_the_verified_score_never_a_fallback():
    rng = random.Random(6)
    a, b = story(rng), story(rng)
    records = [{"id": "A", "text": a}, {"id": "AB", "text": a + "\n\n" + lead(b, 60)}, {"id": "B", "text": b}]
    for r in dedup_records(records):
        if r.duplicate_of is not None:
            assert r.similarity >= DedupParams().threshold


def test_follow_up_report_keeps_its_own_copies():
    """A later report that reuses most of an earlier one does not take the earlier one
    away from its own copy, which holds it better."""
    rng = random.Random(7)
    first = story(rng, 12)
    follow_up = "\n\n".join([story(rng, 3)] + first.split("\n\n")[:3] + [story(rng, 6)])
    edited = " ".join(w for k, w in enumerate(first.split(" ")) if k % 20 != 7)  # one word in 20 dropped
    records = [{"id": "first", "text": first}, {"id": "first-edited", "text": edited},
               {"id": "follow-up", "text": follow_up}]
    res = by_id(dedup_records(records))
    assert res["first-edited"].cluster == res["first"].cluster
    assert res["follow-up"].cluster != res["first"].cluster
    assert_removed_records_are_contained(records, res)


def assert_removed_records_are_contained(records, results, params=DedupParams()):
    """Independent check: each removed record's word shingles (of its cleaned text, which
    is what is compared) are in its own survivor at the threshold, or its skeleton
    shingles at the skeleton rule."""
    cleaner = Cleaner()
    texts = {r["id"]: cleaner.clean_text(r["text"]) for r in records}
    names = list(texts)
    feat = document_features([texts[k] for k in names], params)
    at = {k: i for i, k in enumerate(names)}
    for name, r in results.items():
        if r.duplicate_of is None:
            continue
        m, s = at[name], at[r.duplicate_of]
        if (feat.digest[m] == feat.digest[s]).all():
            continue
        words, skeleton = feat.wset(m), feat.sset(m)
        score = contained_score(shared_count(words, feat.wset(s)), len(words),
                                shared_count(skeleton, feat.sset(s)), len(skeleton), params)
        assert score > 0, (name, r.duplicate_of)
        assert abs(score - r.similarity) < 1e-3, (name, score, r.similarity)


@st.composite
def corpora(draw):
    """Stories, their copies (cut, header, footer), splices of two stories, roundups of
    openings, and related blocks, in any order."""
    rng = random.Random(draw(st.integers(0, 10_000)))
    stories = [story(rng, rng.randint(6, 14)) for _ in range(draw(st.integers(2, 5)))]
    records = [{"id": f"s{k}", "text": t} for k, t in enumerate(stories)]
    for k in range(draw(st.integers(0, 8))):
        kind = rng.choice(["cut", "header", "footer", "splice", "roundup", "related", "lead"])
        a, b = rng.sample(range(len(stories)), 2)
        paragraphs = stories[a].split("\n\n")
        text = {
            "cut": "\n\n".join(paragraphs[: max(1, len(paragraphs) - 1)]),
            "header": "By Staff Reporter\n\n" + stories[a],
            "footer": stories[a] + "\n\nCopyright. All rights reserved.",
            "splice": stories[a] + "\n\n" + stories[b],
            "roundup": "\n\n".join(lead(stories[i], 40) for i in rng.sample(range(len(stories)), 2)),
            "related": stories[a] + "\n\nRelated\n\n" + lead(stories[b], 45),
            "lead": lead(stories[a], rng.randint(25, 60)),
        }[kind]
        records.append({"id": f"x{k}-{kind}", "text": text})
    order = draw(st.permutations(range(len(records))))
    return records, [records[i] for i in order]


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(corpora())
def test_every_removed_record_is_contained_in_its_survivor_and_order_does_not_matter(corpus):
    records, shuffled = corpus
    results = by_id(dedup_records(records))
    assert_removed_records_are_contained(records, results)
    again = by_id(dedup_records(shuffled))
    for name, r in results.items():
        other = again[name]
        assert (r.cluster, r.duplicate_of, r.similarity, r.contains) == (
            other.cluster, other.duplicate_of, other.similarity, other.contains), name


def run_dedup_cli(tmp_path, name, records, *extra):
    import json

    from test_dedup import run_cli, write_input

    source = tmp_path / f"{name}.jsonl"
    write_input(source, records)
    out = tmp_path / name
    result = run_cli(["dedup", str(source), "-o", str(out), "-q", *extra])
    assert result.exit_code == 0, result.output
    return out, {r["id"]: r for r in map(json.loads, (out / "clusters.jsonl").read_text().splitlines())}


def test_against_joins_only_a_survivor_that_contains_the_new_record(tmp_path):
    """The archive holds A and A + a related block with B's opening (one cluster: each
    holds the other); B's opening arrives later: it is in the page with the block, not
    in A's story, so it does not join that cluster."""
    rng = random.Random(8)
    a, b = story(rng, 14), story(rng)
    first, archived = run_dedup_cli(tmp_path, "first", [
        {"id": "A", "text": a}, {"id": "A+related", "text": a + "\n\nRelated\n\n" + lead(b, 40)}])
    assert archived["A+related"]["cluster"] == archived["A"]["cluster"]
    _, new = run_dedup_cli(tmp_path, "second", [{"id": "B-lead", "text": lead(b, 35)}, {"id": "B", "text": b}],
                           "--against", str(first))
    assert new["B-lead"]["cluster"] == "B" and new["B"]["duplicate_of"] is None


def test_against_an_archived_composite_page_takes_no_part_of_it(tmp_path):
    rng = random.Random(9)
    a, b = story(rng), story(rng)
    first, archived = run_dedup_cli(tmp_path, "first", [
        {"id": "page", "text": a + "\n\n" + b}, {"id": "A", "text": a}, {"id": "B", "text": b}])
    assert archived["page"]["composite"] and archived["page"]["contains"] == ["A", "B"]
    _, new = run_dedup_cli(tmp_path, "second", [
        {"id": "A-cut", "text": "\n\n".join(a.split("\n\n")[:3])},
        {"id": "page-copy", "text": "By Staff\n\n" + a + "\n\n" + b}], "--against", str(first))
    assert new["A-cut"]["duplicate_of"] == "A"
    assert new["page-copy"]["duplicate_of"] == "page"


def test_signature_filter_keeps_every_pair_that_verification_links():
    """The cheap filter before exact verification drops pairs that share one story of a
    two-story page, never a pair that would pass (cuts down to a twentieth included)."""
    import numpy as np

    from newsclean.dedup import core
    from newsclean.dedup.verify import measure_pair

    rng = random.Random(10)
    stories = [story(rng, 40) for _ in range(4)]
    texts = list(stories)
    for s in stories:
        words = s.split(" ")
        texts += [" ".join(words[: max(21, int(len(words) * share))]) for share in (0.05, 0.1, 0.3, 0.7)]
    texts += [stories[0] + "\n\n" + stories[1], stories[0] + "\n\n" + stories[2], "UPDATED: " + stories[3]]
    params = DedupParams()
    feat = document_features(texts, params)
    pairs = np.array([(a, b) for a in range(len(texts)) for b in range(a + 1, len(texts))])
    plausible = core._plausible(pairs, core.Sketches.of_features(feat), params)
    linked = np.array([measure_pair(feat.wset(a), feat.wset(b), feat.sset(a), feat.sset(b), params).linked
                       for a, b in pairs.tolist()])
    assert linked.any() and not (linked & ~plausible).any()
    assert (~linked & ~plausible).sum() > 0  # it does drop something
