"""Near-duplicate and event clustering (newsclean.dedup) and the ``newsclean dedup`` command.

Fixtures are paragraphs written here; nothing outside the repository is needed.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from newsclean.cli import app
from newsclean.dedup import DedupParams, Document, cluster_documents, dedup_records
from newsclean.dedup.core import unique_names
from newsclean.dedup.minhash import MinHasher, lsh_candidates, shingle_hashes
from newsclean.dedup.text import skeleton, words
from newsclean.dedup.unionfind import UnionFind, connected_components
from newsclean.dedup.verify import overlap

FLOOD = (
    "Heavy rain flooded the centre of Carlisle on Saturday, forcing 3,000 people from their homes. "
    "The River Eden burst its banks shortly after midnight and water reached the first floor of houses "
    "in the Warwick Road area.\n\n"
    "Cumbria police said two elderly residents had been rescued by boat and taken to hospital. "
    "Firefighters from across the north of England worked through the night to pump water away from "
    "the power station, which supplies electricity to most of the city.\n\n"
    "The Environment Agency said the flood defences built in 2005 had been overwhelmed by the volume "
    "of water. A spokesman said 200 millimetres of rain had fallen in 24 hours, more than a month's worth.\n\n"
    "Prime Minister Tony Blair is expected to visit the area on Monday. Local MP Eric Martlew said the "
    "government must explain why the defences failed so soon after they were finished."
)
RUGBY = (
    "Mike Tindall's agent has warned Bath they have until next week to improve their contract offer to the "
    "England centre or risk losing him to a rival club.\n\n"
    "Dipo Alli says he has received an offer which dwarfs Bath's deal and that two other clubs want to talk. "
    "Tindall is out of contract at the end of the season but Bath owner Andrew Brownsword is unwilling to "
    "break the club's wage structure.\n\n"
    "The 26-year-old has won 32 caps for England and was part of the side that won the World Cup in Sydney "
    "in 2003. Bath director of rugby John Connolly said he hoped the player would stay at the Recreation Ground."
)
BANK = (
    "The Bank of England has kept interest rates on hold at 4.75% for the sixth month in a row, as expected "
    "by most economists in the City.\n\n"
    "The Monetary Policy Committee said consumer spending had slowed in the run-up to Christmas while house "
    "prices were flat. Retailers including Marks and Spencer reported weak sales in December.\n\n"
    "Some analysts had argued for a cut to support the high street, but the committee pointed to rising oil "
    "prices and wage growth of 4.5% as reasons for caution. The minutes of the meeting will be published in "
    "two weeks."
)
# a different report of the same flood (same event, not a copy)
FLOOD_OTHER = (
    "Thousands of Carlisle residents spent the night in emergency shelters after the River Eden flooded "
    "large parts of the city. Cumbria police evacuated streets near Warwick Road and rescued pensioners "
    "by boat. The Environment Agency admitted that the flood defences, finished in 2005, had failed. "
    "Tony Blair will tour Carlisle on Monday, and Eric Martlew demanded answers from ministers."
)


def truncated(text: str) -> str:
    return "\n\n".join(text.split("\n\n")[:2])


def boiler(text: str) -> str:
    return "LONDON (Reuters) - " + text + "\n\nCopyright 2005 Associated Press. All rights reserved."


def edited(text: str) -> str:
    ws = text.split(" ")
    return " ".join(w[::-1] if i % 17 == 5 else w for i, w in enumerate(ws) if i % 23 != 7)


def spun(text: str) -> str:
    table = {"warned": "cautioned", "improve": "boost", "offer": "proposal", "received": "obtained",
             "talk": "speak", "season": "year", "unwilling": "reluctant", "break": "breach",
             "hoped": "wished", "stay": "remain", "rival": "competitor", "next": "following"}
    return " ".join(table.get(w, w) for w in text.split(" "))


def damaged(text: str) -> str:
    return text.replace("’", "?").replace("'", "?").replace(". ", ". [] ", 3)


# ------------------------------------------------------------------ text views


def test_words_and_skeleton():
    assert words("The  Bank’s RATE: 4.75%!") == ["the", "bank", "s", "rate", "4", "75"]
    sk = skeleton("Tindall is out of contract at the end of the season")
    assert sk == ["tindall", "is", "out", "of", "at", "the", "of", "the"]
    assert skeleton(RUGBY) == skeleton(spun(RUGBY))  # spinning swaps content words only


# ------------------------------------------------------------------ minhash / lsh


def test_identical_texts_same_signature():
    mh = MinHasher(128)
    a = shingle_hashes(words(FLOOD), 3)
    b = shingle_hashes(words(FLOOD.upper()), 3)
    sig = mh.signatures([a, b, shingle_hashes(words(BANK), 3)])
    assert sig.shape == (3, 128) and sig.dtype == np.uint32
    assert (sig[0] == sig[1]).all()
    assert (sig[0] == sig[2]).mean() < 0.1


def test_signatures_deterministic_and_batch_independent():
    sets = [shingle_hashes(words(t), 3) for t in (FLOOD, RUGBY, BANK, "", "one")]
    s1 = MinHasher(64, seed=3).signatures(sets)
    s2 = MinHasher(64, seed=3, batch_shingles=7).signatures(sets)
    assert (s1 == s2).all()
    assert (s1[3] == np.iinfo(np.uint32).max).all()  # empty set


@pytest.mark.parametrize("jaccard", [0.2, 0.5, 0.8])
def test_jaccard_estimate_close_to_exact(jaccard):
    rng = np.random.default_rng(7)
    mh = MinHasher(256)
    errors = []
    for _ in range(10):
        n = 2000
        inter = int(round(2 * n * jaccard / (1 + jaccard)))
        a = rng.integers(0, 2**63, size=n, dtype=np.uint64)
        b = np.concatenate([a[:inter], rng.integers(0, 2**63, size=n - inter, dtype=np.uint64)])
        a, b = np.unique(a), np.unique(b)
        exact = overlap(a, b).jaccard
        sig = mh.signatures([a, b])
        errors.append(float(np.mean(sig[0] == sig[1])) - exact)
    assert abs(np.mean(errors)) < 0.02
    assert max(abs(e) for e in errors) < 0.1


def test_lsh_candidates_find_similar_and_skip_unrelated():
    texts = [FLOOD, truncated(FLOOD), RUGBY, BANK, edited(BANK)]
    sig = MinHasher(128).signatures([shingle_hashes(words(t), 3) for t in texts])
    pairs = {tuple(p) for p in lsh_candidates(sig, 64, 2).tolist()}
    assert (0, 1) in pairs and (3, 4) in pairs
    assert (0, 2) not in pairs and (2, 3) not in pairs


def test_lsh_large_bucket_stays_linear():
    sig = np.zeros((500, 4), dtype=np.uint32)  # 500 identical signatures
    pairs = lsh_candidates(sig, 2, 2, max_bucket=64)
    assert len(pairs) < 1000
    assert len(connected_components(500, pairs).tolist()) == 500
    assert set(connected_components(500, pairs).tolist()) == {0}


# ------------------------------------------------------------------ verification, union-find


def test_overlap_exact_measures():
    a = np.array([1, 2, 3, 4, 5, 6], dtype=np.uint64)
    b = np.array([4, 5, 6], dtype=np.uint64)
    o = overlap(a, b)
    assert o.jaccard == 0.5 and o.containment == 1.0 and o.intersection == 3
    assert overlap(a, np.array([], dtype=np.uint64)).containment == 0.0
    assert overlap(b, np.array([7, 8], dtype=np.uint64)).jaccard == 0.0


def test_union_find_and_components_agree():
    rng = np.random.default_rng(1)
    pairs = rng.integers(0, 200, size=(150, 2))
    uf = UnionFind(200)
    for a, b in pairs.tolist():
        uf.union(a, b)
    assert (uf.labels() == connected_components(200, pairs)).all()
    assert connected_components(4, np.zeros((0, 2), np.int64)).tolist() == [0, 1, 2, 3]


# ------------------------------------------------------------------ clustering on a fixture


def fixture_records():
    return [
        {"id": "flood", "text": FLOOD},
        {"id": "rugby", "text": RUGBY},
        {"id": "bank", "text": BANK},
        {"id": "flood-trunc", "text": truncated(FLOOD)},
        {"id": "flood-boiler", "text": boiler(FLOOD)},
        {"id": "rugby-edit", "text": edited(RUGBY)},
        {"id": "rugby-spun", "text": spun(RUGBY)},
        {"id": "bank-damaged", "text": damaged(BANK)},
        {"id": "flood-other", "text": FLOOD_OTHER},
    ]


def by_id(results):
    return {r.id: r for r in results}


def test_copies_found_and_unrelated_kept_apart():
    res = by_id(dedup_records(fixture_records()))
    assert res["flood-trunc"].cluster == res["flood-boiler"].cluster == res["flood"].cluster
    assert res["rugby-edit"].cluster == res["rugby-spun"].cluster == res["rugby"].cluster
    assert res["bank-damaged"].cluster == res["bank"].cluster
    clusters = {res[k].cluster for k in ("flood", "rugby", "bank", "flood-other")}
    assert len(clusters) == 4  # same-event report is not a copy
    # cleanest: no copy has cleaning edits; the copy with a header no other copy shares
    # does not beat its original, and each removed copy is contained in the original
    assert res["flood"].duplicate_of is None and res["flood"].similarity == 1.0
    assert res["flood-boiler"].duplicate_of == "flood" and 0.6 <= res["flood-boiler"].similarity < 1.0
    assert res["flood-trunc"].duplicate_of == "flood" and res["flood-trunc"].similarity == 1.0


def test_spun_copy_found_by_skeleton_when_words_fail():
    heavy = RUGBY
    for w, s in (("contract", "agreement"), ("club", "team"), ("deal", "bargain"), ("player", "athlete"),
                 ("week", "7 days"), ("losing", "shedding"), ("wage", "salary"), ("structure", "framework"),
                 ("clubs", "teams"), ("side", "squad"), ("caps", "appearances"), ("won", "gained")):
        heavy = heavy.replace(w, s)
    heavy = spun(heavy)
    params = DedupParams()
    wa, wb = (shingle_hashes(words(t), params.shingle) for t in (RUGBY, heavy))
    assert overlap(wa, wb).containment < params.threshold  # words alone would miss it
    res = dedup_records([{"id": "a", "text": RUGBY}, {"id": "b", "text": heavy}])
    assert res[0].cluster == res[1].cluster
    assert max(r.similarity for r in res) >= params.skeleton_threshold


def test_survivor_policies():
    recs = [
        {"id": "t", "text": truncated(FLOOD), "date": "2005-01-01T10:00:00Z"},
        {"id": "d", "text": damaged(FLOOD), "date": "2005-01-02"},
        {"id": "f", "text": FLOOD, "date": "2005-01-03T00:00:00+00:00"},
        {"id": "b", "text": boiler(FLOOD)},
    ]
    def survivor(keep):
        rs = dedup_records(recs, keep=keep)
        assert len({r.cluster for r in rs}) == 1
        return rs[0].cluster
    # the truncated copy never survives its whole original, whatever the policy; the copy
    # with a header no other copy has does not beat the original either
    assert survivor("cleanest") == "f"  # no edits, no added header
    assert survivor("longest") == "f"
    assert survivor("first") == "d"  # the first that is not a cut of another
    assert survivor("earliest") == "d"
    recs[0]["date"] = "not a date"
    assert survivor("earliest") == "d"
    with pytest.raises(ValueError):
        dedup_records(recs, keep="best")


def test_cleanest_prefers_undamaged_copy():
    rs = dedup_records([{"id": "x", "text": damaged(BANK)}, {"id": "y", "text": BANK}])
    assert [r.duplicate_of for r in rs] == ["y", None]


def test_short_and_empty_documents():
    short = "Rates held at 4.75%."
    recs = [
        {"id": "e1", "text": ""},
        {"id": "e2", "text": "   "},
        {"id": "w1", "text": "Breaking"},
        {"id": "w2", "text": "BREAKING!"},
        {"id": "s1", "text": short},
        {"id": "s2", "text": short + " More soon."},
        {"id": "long", "text": BANK},
        {"id": "s3", "text": BANK.split("\n\n")[0][:60]},
    ]
    res = by_id(dedup_records(recs))
    assert res["e2"].duplicate_of == "e1"  # identical (empty) normalised texts merge
    assert res["w1"].duplicate_of == "w2"  # exact after normalisation; the longer text survives
    assert res["s2"].duplicate_of is None and res["s1"].duplicate_of is None  # short: never on shingles
    assert res["s3"].duplicate_of is None  # a short prefix of a long article is not merged
    assert res["long"].duplicate_of is None


def test_duplicate_ids_are_disambiguated():
    assert unique_names(["a", "b", "a", None, "a"]) == ["a", "b", "a#2", "#4", "a#3"]
    recs = [{"id": "a", "text": FLOOD}, {"id": "a", "text": BANK}, {"id": "a", "text": truncated(BANK)}]
    rs = dedup_records(recs)
    assert [r.id for r in rs] == ["a", "a", "a"]
    assert [r.cluster for r in rs] == ["a", "a#2", "a#2"]
    assert rs[2].duplicate_of == "a#2"


def test_bad_record_raises():
    from newsclean.engine.local import BadRecord

    with pytest.raises(BadRecord):
        dedup_records([{"id": 1, "title": "no text"}])


def test_cluster_documents_requires_unique_names():
    with pytest.raises(ValueError):
        cluster_documents([Document(id=1, text="x", name="n"), Document(id=2, text="y", name="n")])


def test_events_group_same_event_reports():
    recs = fixture_records()
    res = by_id(dedup_records(recs, events=True))
    assert res["flood"].event == res["flood-other"].event == res["flood-trunc"].event
    assert res["flood"].cluster != res["flood-other"].cluster
    assert len({res["flood"].event, res["rugby"].event, res["bank"].event}) == 3
    for r in res.values():  # near-duplicates always share an event
        if r.duplicate_of is not None:
            assert r.event == res[r.duplicate_of].event


def test_average_linkage_respects_threshold():
    from newsclean.dedup.events import average_linkage

    # units 0-1 similar, 2 weakly similar to the pair, 3 alone
    sims = {(0, 1): 0.9, (1, 2): 0.3, (0, 2): 0.0}
    assert average_linkage(4, [1, 1, 1, 1], sims, 0.5) == [0, 0, 2, 3]
    assert average_linkage(4, [1, 1, 1, 1], sims, 0.1) == [0, 0, 0, 3]  # avg (0.3 + 0) / 2 = 0.15


# ------------------------------------------------------------------ CLI


def write_input(path: Path, records, bad_lines=()) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
        for line in bad_lines:
            f.write(line + "\n")


def read_gz(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def run_cli(args):
    result = CliRunner().invoke(app, args)
    return result


def test_cli_outputs_and_accounting(tmp_path):
    inp = tmp_path / "in.jsonl"
    recs = fixture_records()
    write_input(inp, recs, bad_lines=["{not json", '{"id": "nt", "title": "no text"}'])
    out = tmp_path / "out"
    result = run_cli(["dedup", str(inp), "-o", str(out), "--events"])
    assert result.exit_code == 0, result.output
    clusters = [json.loads(line) for line in (out / "clusters.jsonl").read_text().splitlines()]
    assert [c["id"] for c in clusters] == [r["id"] for r in recs]
    assert set(clusters[0]) == {"id", "cluster", "duplicate_of", "similarity", "event"}
    kept, dups = read_gz(out / "kept.jsonl.gz"), read_gz(out / "duplicates.jsonl.gz")
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    stats = json.loads((out / "stats.json").read_text())
    assert len(kept) + len(dups) + len(rejects) == len(recs) + 2
    assert stats["input_records"] == len(recs) + 2 and stats["balanced"]
    assert stats["kept"] == len(kept) == 4 and stats["duplicates"] == len(dups) == 5
    assert sorted(r["line"] for r in rejects) == [len(recs) + 1, len(recs) + 2]
    assert "no text field" in rejects[1]["reason"] and rejects[1]["id"] == "nt"
    assert all(d["duplicate_of"] and "cluster" in d and "event" in d for d in dups)
    original = {r["id"]: r for r in recs}
    assert all(k["text"] == original[k["id"]]["text"] for k in kept)  # records as they came
    assert sum(int(k) * v for k, v in stats["cluster_size_histogram"].items()) == len(recs)
    assert "11 input = 4 kept + 5 duplicates + 2 rejects" in result.output


def test_cli_deterministic(tmp_path):
    inp = tmp_path / "in.jsonl"
    write_input(inp, fixture_records() + [{"id": "flood", "text": FLOOD}])
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert run_cli(["dedup", str(inp), "-o", str(out), "--events", "-q"]).exit_code == 0
        outs.append(out)
    for f in ("clusters.jsonl", "kept.jsonl.gz", "duplicates.jsonl.gz", "rejects.jsonl"):
        assert (outs[0] / f).read_bytes() == (outs[1] / f).read_bytes(), f
    s1, s2 = (json.loads((o / "stats.json").read_text()) for o in outs)
    s1.pop("timings"), s2.pop("timings")
    assert s1 == s2


def test_cli_options_and_errors(tmp_path):
    inp = tmp_path / "in.jsonl"
    write_input(inp, [{"doc_id": 7, "body": FLOOD}, {"doc_id": 8, "body": truncated(FLOOD)}])
    out = tmp_path / "o"
    r = run_cli(["dedup", str(inp), "-o", str(out), "--keep", "first", "--threshold", "0.9"])
    assert r.exit_code == 0, r.output
    clusters = [json.loads(line) for line in (out / "clusters.jsonl").read_text().splitlines()]
    assert clusters == [
        {"id": 7, "cluster": "7", "duplicate_of": None, "similarity": 1.0},
        {"id": 8, "cluster": "7", "duplicate_of": "7", "similarity": 1.0},
    ]
    assert run_cli(["dedup", str(inp), "-o", str(out), "--keep", "best"]).exit_code == 2
    assert run_cli(["dedup", str(inp), "-o", str(out), "--threshold", "1.5"]).exit_code == 2
    assert run_cli(["dedup", str(tmp_path / "missing.jsonl"), "-o", str(out)]).exit_code == 2
    write_input(inp, [{"id": 1, "text": FLOOD}], bad_lines=["[1, 2]"])
    r = run_cli(["dedup", str(inp), "-o", str(tmp_path / "s"), "--strict"])
    assert r.exit_code == 2 and not (tmp_path / "s" / "clusters.jsonl").exists()


def test_help_lists_dedup():
    r = run_cli(["--help"])
    assert r.exit_code == 0 and "dedup" in r.output
    r = run_cli(["dedup", "--help"])
    assert r.exit_code == 0 and "cleanest" in r.output


# ------------------------------------------------------------------ spin and survivors

# a spinner's swaps that make the copy longer than its original, so "longest" alone would
# keep the spun copy
SPINNER = [("cautioned", "warned"), ("legal agreement", "contract"), ("competitor golf club", "rival club"),
           ("period of time", "season"), ("earnings framework", "wage structure")]


def spin_with(text: str, swaps=SPINNER) -> str:
    for spun_form, original in swaps:
        text = text.replace(original, spun_form)
    return text


def spinner_table():
    from newsclean.spin import SpinTable

    return SpinTable.from_pairs([(s, o, 0.9) for s, o in SPINNER], name="learned")


def test_cleanest_keeps_the_original_of_a_spun_copy():
    from newsclean import Cleaner

    recs = [{"id": "spun", "text": spin_with(RUGBY)}, {"id": "wire", "text": RUGBY}]
    assert len(recs[0]["text"]) > len(RUGBY)

    def survivor(cleaner):
        rs = dedup_records(recs, cleaner=cleaner)
        assert rs[0].cluster == rs[1].cluster
        return rs[0].cluster

    assert survivor(Cleaner(unspin="off")) == "spun"            # no spin handling: the longer copy
    assert survivor(Cleaner(spin_table=spinner_table())) == "wire"  # its restorations count as edits
    # scored only: the flag is the spin term of cleanest, before length
    assert survivor(Cleaner(spin_table=spinner_table(), unspin="flag")) == "wire"
    rs = dedup_records(recs, cleaner=Cleaner(spin_table=spinner_table(), unspin="flag"), keep="longest")
    assert rs[0].cluster == "spun"                               # other policies ignore spin


def test_cli_dedup_and_run_with_a_spin_table(tmp_path):
    table = tmp_path / "spinner.tsv"
    table.write_text("".join(f"{s}\t{o}\n" for s, o in SPINNER), encoding="utf-8")
    inp = tmp_path / "in.jsonl"
    spun_text = spin_with(RUGBY)
    write_input(inp, [{"id": "spun", "text": spun_text}, {"id": "wire", "text": RUGBY}])

    def clusters(out):
        return [json.loads(line) for line in (out / "clusters.jsonl").read_text().splitlines()]

    r = run_cli(["dedup", str(inp), "-o", str(tmp_path / "plain"), "--unspin", "off", "-q"])
    assert r.exit_code == 0, r.output
    assert clusters(tmp_path / "plain")[1]["duplicate_of"] == "spun"
    r = run_cli(["dedup", str(inp), "-o", str(tmp_path / "d"), "--spin-table", str(table), "-q"])
    assert r.exit_code == 0, r.output
    assert clusters(tmp_path / "d")[0]["duplicate_of"] == "wire"
    with gzip.open(tmp_path / "d" / "duplicates.jsonl.gz", "rt") as f:
        assert json.loads(f.readline())["text"] == spun_text     # dedup writes records as they came
    r = run_cli(["run", str(inp), "-o", str(tmp_path / "r"), "--spin-table", str(table), "-q"])
    assert r.exit_code == 0, r.output
    with gzip.open(tmp_path / "r" / "duplicates.jsonl.gz", "rt") as f:
        assert json.loads(f.readline())["text"] == RUGBY          # run archives the restored text
    # the table is part of the run: another table's run refuses to mix with it
    table.write_text("cautioned\twarned\n", encoding="utf-8")
    r = run_cli(["run", str(inp), "-o", str(tmp_path / "r"), "--spin-table", str(table), "-q"])
    assert r.exit_code == 2 and "another run" in r.output
    r = run_cli(["dedup", str(inp), "-o", str(tmp_path / "x"), "--unspin", "sometimes"])
    assert r.exit_code == 2 and "--unspin must be one of" in r.output


def test_an_id_with_a_lone_surrogate_can_name_a_cluster(tmp_path):
    # ids are written escaped where orjson refuses them; a surviving one names its cluster
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(b'{"id": "wire\\ud800", "text": ' + json.dumps(RUGBY).encode() + b'}\n'
                    + b'{"id": "copy", "text": ' + json.dumps(truncated(RUGBY)).encode() + b'}\n')
    for command in ("dedup", "run"):
        out = tmp_path / command
        r = run_cli([command, str(inp), "-o", str(out), "-q"])
        assert r.exit_code == 0, r.output
        rows = [json.loads(line) for line in (out / "clusters.jsonl").read_text().splitlines()]
        assert [row["cluster"] for row in rows] == ["wire\ud800", "wire\ud800"]
        assert rows[1]["duplicate_of"] == "wire\ud800"
