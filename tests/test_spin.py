"""Spin tables, detection, restoration, learning from clusters, and the CLI around them."""
from __future__ import annotations

import gzip
import json
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import newsclean
from newsclean.clean.pipeline import Cleaner
from newsclean.spin import (
    SpinReport,
    SpinTable,
    TableError,
    read_table,
    spin_report,
    unspin,
    unspin_and_explain,
)
from newsclean.spin.context import Bigrams, installed_bigrams
from newsclean.spin.learn import changed_spans, cluster_groups, learn_pairs, learn_table

ROOT = Path(__file__).resolve().parents[1]

# the swaps of the seed article (samples/spun-article.txt), as a user would write them
# a spinner's habits in news, written for these tests
NEWS_PAIRS = [
    ("thirty day period", "month"), ("gamers", "players"), ("very first", "first"),
    ("courtroom", "court"), ("men and women", "people"), ("economic climate", "economy"),
    ("technological innovation", "technology"), ("period", "time"), ("past 7 days", "last week"),
    ("law enforcement", "police"), ("perfectly", "well"), ("entire world", "world"),
]

CLEAN = ("The players met for the first time in a month. Police said the court would rule "
         "on the economy last week, and people across the world watched the technology firm "
         "closely as well.")
SPUN = ("The gamers met for the very first period in a thirty day period. Law enforcement said the "
        "courtroom would rule on the economic climate past 7 days, and men and women across the "
        "entire world watched the technological innovation firm closely as perfectly.")


@pytest.fixture()
def news_table() -> SpinTable:
    return SpinTable.from_pairs(NEWS_PAIRS, "news")


# ------------------------------------------------------------------ tables


def test_read_table_formats(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_text("# a comment\nspun\toriginal\tnote\n\nthirty day period|30 day period\tmonth\n"
                 "gamers\tplayers\textra column\nsmart (devices)\tclever\n", encoding="utf-8")
    t = read_table(p)
    assert len(t) == 4 and t.get("30 day period").original == "month"
    assert t.get("smart").original == "clever" and t.get("Gamers").spun == "gamers"
    assert t.get("spun") is None  # the header is no entry


def test_read_table_consistency_column(tmp_path):
    p = tmp_path / "learned.tsv"
    p.write_text("spun\toriginal\tclusters\tconsistency\nperiod\ttime\t47\t0.54\n", encoding="utf-8")
    assert read_table(p).get("period").spun_share == 0.54
    p.write_text("spun\toriginal\tclusters\tconsistency\nperiod\ttime\t47\tmany\n", encoding="utf-8")
    with pytest.raises(TableError, match=r"learned.tsv:2: consistency 'many'"):
        read_table(p)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"gamers players\n", r"t.tsv:1: expected 'spun<TAB>original'"),
        (b"\xff\xfe\x00bad", r"not UTF-8"),
        (b"# only a comment\n\n", r"no usable"),
        (b"same\tsame\n", r"no usable"),
    ],
)
def test_read_table_errors(tmp_path, content, message):
    p = tmp_path / "t.tsv"
    p.write_bytes(content)
    with pytest.raises(TableError, match=message):
        read_table(p)


def test_read_table_missing_file(tmp_path):
    with pytest.raises(TableError, match="cannot read spin table"):
        read_table(tmp_path / "nope.tsv")


def test_find_is_word_based_and_longest_first(news_table):
    text = "A thirty day period. Then a period, then thirty day\nperiod and 'gamers'."
    found = [(e.spun if e else None, text[a:b]) for e, a, b in news_table.find(text)]
    # "thirty day\nperiod" spans a line break: only "period" is a form there
    assert found == [("thirty day period", "thirty day period"), ("period", "period"), ("period", "period"),
                     ("gamers", "gamers")]


def test_lift_and_choices():
    t = SpinTable.from_pairs([("gamers", "players"), ("only", "just"), ("folks", "people"),
                              ("men and women", "people")])
    assert t.get("gamers").lift > 0.5 > t.get("only").lift
    assert t.get("folks").choices == 2 and t.get("gamers").choices == 1
    merged = t.merged(SpinTable.from_pairs([("gamers", "competitors"), ("hrs", "hours")]))
    assert merged.get("gamers").original == "players" and merged.get("hrs").original == "hours"


# ------------------------------------------------------------------ detection and restoration


def test_spun_text_is_flagged_and_restored(news_table):
    new, edits, report = unspin_and_explain(SPUN, news_table)
    assert report.flagged and report.score > 0.9
    assert new == CLEAN
    assert all(e.stage == "unspin" and "confidence" in e.what for e in edits)
    assert {e.before.lower() for e in edits} >= {"gamers", "thirty day period", "courtroom"}


def test_clean_text_is_not_flagged(news_table):
    report = spin_report(CLEAN, news_table)
    assert not report.flagged and report.score < 0.05 and report.sightings == []
    assert unspin(CLEAN, news_table) == CLEAN


def test_sentence_scores(news_table):
    text = CLEAN + " " + SPUN
    report = spin_report(text, news_table)
    scores = [s for _, _, s in report.sentences]
    assert len(scores) == 4
    assert max(scores[:2]) < 0.2 and min(scores[2:]) > 0.8
    assert report.to_dict()["sentences"] == [round(s, 4) for s in scores]


def test_flag_mode_scores_without_changing(news_table):
    new, edits, report = unspin_and_explain(SPUN, news_table, mode="flag")
    assert new == SPUN and edits == [] and report.flagged
    assert unspin_and_explain(SPUN, news_table, mode="off") == (SPUN, [], SpinReport())
    with pytest.raises(ValueError, match="mode must be one of"):
        unspin_and_explain(SPUN, news_table, mode="fix")


def test_one_odd_word_flags_nothing(news_table):
    text = "The gamers queued all night for the console launch in Tokyo."
    assert not spin_report(text, news_table).flagged
    assert unspin(text, news_table) == text


def test_ambiguous_form_needs_evidence():
    # "only" is not much rarer than "just": even in a spun text, frequencies alone keep
    # it unless a learned table measured that its uses are mostly spun
    t = SpinTable.from_pairs([("only", "just"), ("simply", "just"), ("gamers", "players"),
                              ("thirty day period", "month")])
    text = "The gamers only waited a thirty day period."
    assert unspin(text, t, context=False) == "The players only waited a month."
    measured = SpinTable.from_pairs([("only", "just", 0.9), ("gamers", "players", 0.9),
                                     ("thirty day period", "month", 0.9)])
    assert unspin(text, measured, context=False) == "The players just waited a month."


# word-pair counts written for these tests, shaped like symspellpy's list
PAIR_COUNTS = Bigrams.from_lines([
    "their own 4000", "own pockets 300", "have been 9000", "they have 8000", "have to 7000", "own way 900",
    "their money 500", "have pockets 1", "the own 1", "x own 9000", "x have 40000", "own x 9000", "have x 40000",
])


def test_context_decides_what_the_table_cannot():
    # "have" for "own": most uses of "have" are the writer's, so the table's share is low;
    # the neighbours tell "their have pockets" (spun) from "they have been" (not)
    table = SpinTable.from_pairs([("have", "own", 0.05), ("gamers", "players", 0.9),
                                  ("thirty day period", "month", 0.9)])
    text = "The gamers dipped into their have pockets a thirty day period ago, and they have been paid."
    restored = "The players dipped into their own pockets a month ago, and they have been paid."
    assert unspin(text, table, context=PAIR_COUNTS) == restored
    assert unspin(text, table, context=False) == restored.replace("their own", "their have")
    new, edits, _ = unspin_and_explain(text, table, context=PAIR_COUNTS)
    own = next(e for e in edits if e.after == "own")
    assert own.before == "have" and "confidence" in own.what


def test_context_never_touches_unflagged_text():
    table = SpinTable.from_pairs([("have", "own", 0.05), ("gamers", "players", 0.9)])
    text = "They dipped into their have pockets."  # odd, but nothing else says spun
    assert unspin(text, table, context=PAIR_COUNTS) == text


def test_installed_pair_counts_are_read_once():
    pytest.importorskip("symspellpy")
    first = installed_bigrams()
    assert first is installed_bigrams() and len(first.pairs) > 200_000
    assert first.side_nats("their", "pockets", "own", "have") > 2.0


# every swap in samples/spun-article.txt, checked by reading it against the wire story:
# an edit outside this list would be damage
SEED_SWAPS = {
    ("law enforcement", "police"), ("most recent", "latest"), ("back absent", "back away"),
    ("business enterprise", "business"), ("pursuing", "following"), ("versus", "against"),
    ("working day", "day"), ("right after", "after"), ("declared", "announced"), ("a 12 months", "a year"),
    ("whilst", "while"), ("claimed", "said"), ("no for a longer period", "no longer"), ("giving", "offering"), ("usually giving", "offering"),
    ("computer software", "software"), ("technological innovation", "technology"), ("encourage", "promote"),
    ("centered", "based"), ("extended", "long"), ("labored", "worked"), ("concepts", "principles"),
    ("legislation", "laws"), ("engineering", "technology"), ("nowadays", "today"), ("right up until", "until"),
    ("potent", "strong"), ("legislation", "law"), ("human legal rights", "human rights"), ("market", "sell"),
    ("know-how", "technology"), ("stated", "said"), ("assertion", "statement"),
    ("washington put up", "washington post"), ("very first", "first"), ("noted", "reported"),
    ("evaluation", "review"), ("hunting to", "looking to"), ("extensively", "broadly"), ("as perfectly", "as well"),
    ("explained", "said"), ("demise", "death"), ("past", "last"), ("almost", "nearly"), ("globally", "worldwide"),
    ("in opposition to", "against"), ("issues", "concerns"), ("utilised", "used"), ("exploration", "research"),
    ("discovered", "found"), ("encounter", "face"), ("investigation", "analysis"), ("normally", "often"),
    ("much less", "less"), ("exact", "accurate"), ("persons", "people"), ("incorporating to", "adding to"),
    ("fake", "false"), ("guide", "lead"), ("due to the fact", "because"), ("risky", "dangerous"),
    ("no more time", "no longer"), ("legal rights", "rights"), ("attainable", "possible"), ("even now", "still"),
    ("do the job", "work"), ("suppliers", "vendors"), ("these types of as", "such as"), ("a ask for", "a request"),
    ("remark", "comment"), ("regardless of whether", "whether"), ("provided", "included"),
    ("these kinds of as", "such as"), ("supply", "provide"), ("program", "software"),
}


def test_seed_article_restored_and_nothing_else():
    # the default cleaning, with the built-in table: no table written for this test
    text = (ROOT / "samples" / "spun-article.txt").read_text(encoding="utf-8")
    result = newsclean.clean(text)
    new, edits, report = result.text, result.edits, result.spin
    assert report.flagged and report.table == "builtin"
    # the six examples of issue 3
    assert "The Washington Post first reported the news." in new
    assert "it no longer is offering the software" in new
    assert "a request for comment on whether their bans" in new
    assert "Research found that face analysis and identification" in new
    assert "other suppliers such as Idemia" in new
    assert "roll out the technology as well, it said" in new
    wrong = [(e.before, e.after) for e in edits if (e.before.lower(), e.after.lower()) not in SEED_SWAPS]
    assert wrong == []
    assert len(edits) >= 40 and {e.stage for e in edits} == {"unspin"}
    # everything outside the edits is byte for byte the input
    pos, rebuilt = 0, []
    for e in edits:
        rebuilt.append(text[pos:e.start])
        rebuilt.append(e.after)
        pos = e.end
    assert "".join(rebuilt) + text[pos:] == new


def test_seed_is_restored_by_the_cli(tmp_path, cli):
    out = tmp_path / "out.jsonl"
    r = cli("clean", str(ROOT / "samples" / "spun-article.txt"), "-o", str(out), "-q")
    assert r.exit_code == 0, r.output
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert "The Washington Post first reported the news." in record["text"]
    assert record["spin"]["flagged"] and record["spin"]["score"] > 0.99


# text a spinner does not produce: never flagged, never changed, even with every word in the table
BAD_INPUT = {
    "non-english": "Les gamers ont attendu une période de thirty day period devant le courtroom de Paris.",
    "all-caps": "THE GAMERS MET FOR THE VERY FIRST PERIOD IN A THIRTY DAY PERIOD AT THE COURTROOM.",
    "names": "Period Gamers, Courtroom Smith, Thirty Day Period Jones, Perfectly Brown, Entire World Green.",
    "code": "if (gamers[period] == courtroom) { thirty_day_period = perfectly; return entire_world; }",
    "long-sentence": " ".join(["the gamers waited a thirty day period in the courtroom"] * 12) + ".",
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUT))
def test_bad_input_unchanged(news_table, kind):
    text = BAD_INPUT[kind]
    report = spin_report(text, news_table)
    assert not report.flagged and report.score == 0.0
    assert unspin(text, news_table) == text
    assert Cleaner(spin_table=news_table).clean(text).text == Cleaner().clean(text).text


# the same kinds of text made of the built-in table's forms: the default cleaning
# leaves them as the repair stages leave them
BUILTIN_BAD_INPUT = {
    "non-english": "Le comité a parlé de technological innovation et de working day, whilst les persons "
                   "du conseil municipal attendaient la décision.",
    "all-caps": "THE WASHINGTON PUT UP VERY FIRST NOTED THE NEWS WHILST A WORKING DAY RIGHT AFTER THE VOTE.",
    "names": "Working Day, Put Up Jones, Whilst Brown, Persons Green, Technological Innovation Ltd, Potent Smith.",
    "code": "if (whilst[persons] == working_day) { no_for_a_longer_period = potent; return technological; }",
    "long-sentence": " ".join(["the persons worked a working day whilst the technological innovation grew"] * 12) + ".",
}


@pytest.mark.parametrize("kind", sorted(BUILTIN_BAD_INPUT))
def test_bad_input_unchanged_by_default(kind):
    text = BUILTIN_BAD_INPUT[kind]
    result = newsclean.clean(text)
    assert not result.spin.flagged and result.spin.score == 0.0
    assert result.text == Cleaner(unspin="off").clean_text(text)


def test_empty_table_and_empty_text(news_table):
    assert spin_report("", news_table).score == 0.0
    assert spin_report(SPUN, SpinTable([])).score == 0.0


# ------------------------------------------------------------------ pipeline


def test_cleaner_runs_unspin_last_and_reports(news_table):
    damaged = SPUN.replace("The gamers", "The gamers []")
    result = Cleaner(spin_table=news_table).clean(damaged)
    assert result.text == CLEAN and result.spin.flagged
    assert [e.stage for e in result.edits][0] == "markup" and result.edits[-1].stage == "unspin"
    assert Cleaner(spin_table=news_table, unspin="flag").clean(SPUN).text == SPUN
    assert Cleaner(spin_table=news_table, unspin="off").clean(SPUN).spin is None
    assert Cleaner(spin_table=None).clean(SPUN).spin is None
    # by default the built-in table judges the text
    assert Cleaner().clean(SPUN).spin.table == "builtin"
    with pytest.raises(ValueError, match="spin_table must be"):
        Cleaner(spin_table="mine")
    with pytest.raises(ValueError, match="unspin must be one of"):
        Cleaner(unspin="yes")


def test_clean_many_is_clean_one_by_one(news_table):
    texts = [SPUN, CLEAN, SPUN.replace("gamers", "gamers []"), "", "Fine."]
    for cleaner in (Cleaner(), Cleaner(spin_table=news_table), Cleaner(spin_table=news_table, unspin="flag")):
        assert [(r.text, r.edits) for r in cleaner.clean_many(texts)] == [
            (r.text, r.edits) for r in map(cleaner.clean, texts)]


def test_cleaner_with_table_pickles(news_table):
    # worker processes receive the cleaner by pickle
    again = pickle.loads(pickle.dumps(Cleaner(spin_table=news_table)))
    assert again.clean(SPUN).text == CLEAN


# ------------------------------------------------------------------ learning


def test_changed_spans_attach_padding_to_content_words():
    assert changed_spans("we open up today".split(), "we open today".split()) == [(("open", "up"), ("open",)),
                                                                                  (("up", "today"), ("today",))]
    # "own" is padded ("very own"); "their" and "the" never are
    assert changed_spans("in their very own half".split(), "in their own half".split()) == [
        (("very", "own"), ("own",))]


def test_learn_pairs_long_forms_and_hyphenated_words():
    stories = [f"{t}. In the course of the year the firm bought technological know-how, it said." for t in _TOPICS[:3]]
    groups = [[s.replace("In the course of", "During").replace("technological know-how", "technology"), s]
              for s in stories]
    assert {(s, o) for s, o, _, _ in learn_pairs(groups)} == {("in the course of", "during"),
                                                              ("technological know-how", "technology")}


_TOPICS = [
    "The council approved new funding for schools and roads after a long debate about taxes and housing",
    "Heavy rain flooded several villages overnight and rescue teams moved families from their homes",
    "The bank raised interest rates again as inflation climbed faster than analysts had expected",
    "A new museum exhibition shows ancient pottery and jewellery found by farmers near the river",
    "The airline cancelled dozens of flights because engineers found cracks in two engines",
    "Scientists reported that the glacier lost more ice this summer than in any recorded year",
    "The orchestra announced a winter tour with concerts in seven cities across the country",
    "Voters queued for hours at polling stations as turnout reached its highest level in decades",
]


def _clusters(n: int = 4) -> list[list[str]]:
    """``n`` near-duplicate clusters, each a different story told twice: plainly and
    through a spinner (plus, in odd clusters, a copy with a garbled word)."""
    groups = []
    for i in range(n):
        topic = _TOPICS[i % len(_TOPICS)]
        # the story around the swaps is long enough for the copies to be near-duplicates
        # by word containment (the threshold is 0.7)
        tail = f"{topic.split(' ', 1)[1]}, officials said. The council will meet again on Friday evening."
        original = f"{topic}. The players met the court for the first time in a month, the club said. {tail}"
        spun = (f"{topic}. The gamers met the courtroom for the very first time in a thirty day period, the "
                f"club said. {tail}")
        typo = original.replace("club said", "club dias")  # a garbled copy, not spin
        # survivor first: sometimes the original, sometimes the spun copy
        groups.append([original, spun, typo] if i % 2 else [spun, original])
    return groups


def test_learn_pairs_from_clusters():
    pairs = learn_pairs(_clusters())
    learned = {(s, o) for s, o, _, _ in pairs}
    assert learned == {("gamers", "players"), ("courtroom", "court"), ("very first", "first"),
                       ("thirty day period", "month")}
    assert all(c >= 2 and 0.3 <= r <= 1.0 for _, _, c, r in pairs)
    assert learn_pairs(_clusters(1)) == []  # seen in one cluster only
    assert learn_pairs([["just one text"]]) == []


def test_learned_table_restores_unseen_article():
    table = learn_table(_clusters())
    unseen = "The gamers saw the courtroom for the very first time in a thirty day period."
    assert unspin(unseen, table) == "The players saw the court for the first time in a month."


def test_edits_are_not_learned_as_spin():
    # copies that each drop one "of": every drop recurs (4 times), but each phrase is
    # kept intact in nearly all of its uses, so none is consistent enough to be spin
    heads = ["members", "part", "head", "rest", "end", "some", "lots", "most", "each", "both", "half", "side",
             "front", "top", "back", "middle"]
    sentence = " ".join(f"{h} of the {k}th group," for k, h in enumerate(heads))
    groups = []
    for i in range(64):
        original = f"{_TOPICS[i % len(_TOPICS)]} ({i}). {sentence.capitalize()} they said."
        dropped = f" {heads[i % len(heads)]} of the"
        groups.append([original, original.replace(dropped, dropped.replace(" of", ""), 1)])
    assert learn_pairs(groups) == []


def _write_outdir(tmp_path: Path, groups: list[list[str]]) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    kept, dups = [], []
    for g, texts in enumerate(groups):
        name = f"doc{g}-0"
        kept.append({"id": name, "text": texts[0], "cluster": name})
        dups.extend({"id": f"doc{g}-{k}", "text": t, "cluster": name, "duplicate_of": name}
                    for k, t in enumerate(texts[1:], 1))
    for fname, rows in (("kept.jsonl.gz", kept), ("duplicates.jsonl.gz", dups)):
        with gzip.open(out / fname, "wt", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    return out


def test_cluster_groups_reads_outdir(tmp_path):
    groups = _clusters()
    out = _write_outdir(tmp_path, groups)
    read = cluster_groups(out)
    assert [len(g) for g in read] == [len(g) for g in groups]
    assert read[0][0] == groups[0][0]
    assert len(cluster_groups(out, max_groups=2)) == 2


# ------------------------------------------------------------------ CLI


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _table_file(tmp_path: Path) -> Path:
    p = tmp_path / "table.tsv"
    p.write_text("".join(f"{s}\t{o}\n" for s, o in NEWS_PAIRS), encoding="utf-8")
    return p


def test_cli_clean_with_spin_table(tmp_path, cli):
    src = _jsonl(tmp_path / "in.jsonl", [{"id": "s", "text": SPUN}, {"id": "c", "text": CLEAN}])
    out = tmp_path / "out.jsonl"
    r = cli("clean", str(src), "-o", str(out), "--spin-table", str(_table_file(tmp_path)))
    assert r.exit_code == 0, r.output
    spun, clean = [json.loads(line) for line in out.read_text().splitlines()]
    assert spun["text"] == CLEAN and spun["spin"]["flagged"] and spun["spin"]["found"] >= 8
    # a record in which no spun form was found passes through without a spin field (score 0)
    assert clean == {"id": "c", "text": CLEAN}
    assert "flagged as spun" in r.output
    r = cli("clean", str(src), "-o", str(out), "--spin-table", str(_table_file(tmp_path)), "--unspin", "flag")
    assert r.exit_code == 0 and json.loads(out.read_text().splitlines()[0])["text"] == SPUN
    # without --spin-table the built-in table judges the texts; --unspin off skips spin
    r = cli("clean", str(src), "-o", str(out))
    assert json.loads(out.read_text().splitlines()[0])["spin"]["found"] >= 3
    r = cli("clean", str(src), "-o", str(out), "--unspin", "off")
    assert "spin" not in json.loads(out.read_text().splitlines()[0])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--spin-table", "missing.tsv"], "cannot read spin table"),
        (["--unspin", "maybe"], "--unspin must be one of"),
    ],
)
def test_cli_spin_errors(tmp_path, cli, args, message):
    src = _jsonl(tmp_path / "in.jsonl", [{"id": "s", "text": SPUN}])
    r = cli("clean", str(src), "-o", str(tmp_path / "o.jsonl"), *args)
    assert r.exit_code == 2 and message in r.output


def test_cli_spin_table_learns_from_outdir(tmp_path, cli):
    out = _write_outdir(tmp_path, _clusters())
    table = tmp_path / "learned.tsv"
    r = cli("spin-table", str(out), "-o", str(table))
    assert r.exit_code == 0, r.output
    learned = read_table(table)
    assert learned.get("gamers").original == "players" and learned.get("gamers").spun_share is not None
    r = cli("spin-table", str(tmp_path), "-o", str(table))
    assert r.exit_code == 2 and "not a finished dedup/run output folder" in r.output


def test_cli_dedup_then_learn_then_clean(tmp_path, cli):
    """The whole workflow on a small corpus: dedup clusters spun copies with their
    originals, spin-table learns the swaps, clean restores an article never seen."""
    records = []
    for g, texts in enumerate(_clusters(6)):
        records.extend({"id": f"{g}-{k}", "text": t} for k, t in enumerate(texts))
    corpus = _jsonl(tmp_path / "corpus.jsonl", records)
    new = _jsonl(tmp_path / "new.jsonl", [{"id": "n", "text": "The gamers saw the courtroom for the very first "
                                           "time in a thirty day period."}])
    # the three commands (dedup without learning, spin-table, clean --spin-table FILE) ...
    assert cli("dedup", str(corpus), "-o", str(tmp_path / "dd"), "-q", "--no-learn-spin").exit_code == 0
    assert cli("spin-table", str(tmp_path / "dd"), "-o", str(tmp_path / "t.tsv"), "-q").exit_code == 0
    # ... and dedup learning by itself, its OUTDIR named as the table
    assert cli("dedup", str(corpus), "-o", str(tmp_path / "learned"), "-q").exit_code == 0
    for table in (tmp_path / "t.tsv", tmp_path / "learned"):
        r = cli("clean", str(new), "-o", str(tmp_path / "n.jsonl"), "--spin-table", str(table), "-q")
        assert r.exit_code == 0
        assert json.loads((tmp_path / "n.jsonl").read_text())["text"] == \
            "The players saw the court for the first time in a month."


def test_builtin_table_is_what_its_source_builds():
    # data/builtin.tsv is generated: it must be what tools/build_spin_table.py makes of
    # data/seed_swaps.tsv
    pytest.importorskip("lemminflect")
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_spin_table", ROOT / "tools" / "build_spin_table.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert build.TARGET.read_text(encoding="utf-8") == build.build(build.read_source())
    from newsclean.spin import builtin_table

    table = builtin_table()
    assert table.get("laboring").original == "working" and table.min_forms == 3


# derandomized and without a deadline: the same examples every run, none failing on a slow machine
@settings(deadline=None, derandomize=True, max_examples=300)
@given(st.text(alphabet=st.sampled_from("ab é-'’—“”\u00a0\u2013…«»·.,İ\ud800x1"), max_size=60))
def test_word_set_is_the_tokens_as_utf8(text):
    # detection's fast word set (bytes) holds exactly the words the str tokenizer finds
    from newsclean.spin.table import _tokens, _word_set

    low = text.lower()
    assert _word_set(low) == {w.encode("utf-8", "surrogatepass") for w in _tokens(low)}


# --- weak entries and the model's confirmation of unflagged texts -------------------------

class _FixedGains:
    """Stands in for the language model: every swap gains ``gain`` nats."""

    def __init__(self, gain: float):
        self.gain = gain
        self.calls = 0

    def swap_gains_many(self, items):
        self.calls += 1
        return [[self.gain] * len(swaps) for _, swaps in items]


STRONG = [("gamers", "players", 0.97), ("thirty day period", "month", 0.97), ("very first", "first", 0.97)]  # sure
WITH_WEAK = SpinTable.from_pairs([*STRONG, ("next", "second", 0.06), ("major", "top", 0.07)])
SPUN_WITH_WEAK = ("The gamers met for the very first time in a thirty day period. "
                  "It was the next time the major team had played.")


def test_weak_entries_are_no_evidence_of_spinning():
    from newsclean.spin.restore import spin_report

    strong = SpinTable.from_pairs(STRONG)
    assert WITH_WEAK.weak is not None and len(WITH_WEAK) == len(strong) + 2
    assert WITH_WEAK.get("next").weak and not WITH_WEAK.get("gamers").weak
    for text in (SPUN_WITH_WEAK, "The second and the top players came next.", "A major next step for top players."):
        a, b = spin_report(text, strong), spin_report(text, WITH_WEAK)
        assert (a.flagged, a.evidence, a.score, a.sentences) == (b.flagged, b.evidence, b.score, b.sentences)
    weak = [s for s in spin_report(SPUN_WITH_WEAK, WITH_WEAK).sightings if s.entry.weak]
    assert [s.entry.spun for s in weak] == ["next", "major"] and all(s.nats == 0.0 for s in weak)
    # weak forms alone flag nothing, however many
    assert not spin_report("The next major step, the next major deal, the next major law.", WITH_WEAK).flagged


def test_weak_entries_are_restored_only_on_evidence():
    kept = SPUN_WITH_WEAK.replace("gamers", "players").replace("very first", "first").replace(
        "thirty day period", "month")
    assert unspin(SPUN_WITH_WEAK, WITH_WEAK, context=False) == kept      # a 6 % share alone: kept
    assert unspin(SPUN_WITH_WEAK, WITH_WEAK, lm=_FixedGains(-2.0), context=False) == kept
    assert unspin(SPUN_WITH_WEAK, WITH_WEAK, lm=_FixedGains(6.0), context=False) == kept.replace(
        "next time the major", "second time the top")


def test_a_weak_pair_gives_way_to_a_strong_one_and_counts_as_no_choice():
    t = SpinTable.from_pairs([("perfectly", "nicely", 0.06), ("perfectly", "well", 0.7), ("nicely", "well", 0.8)])
    assert t.get("perfectly").original == "well" and not t.get("perfectly").weak
    t = SpinTable.from_pairs([("next", "second", 0.06), ("2nd", "second", 0.6)])
    assert t.get("2nd").choices == 1   # "next" is seldom written for "second"


def test_learned_weak_pairs_are_the_ones_below_the_detection_share():
    from newsclean.spin.table import DETECTION_MIN_SHARE

    pairs = learn_pairs(_clusters(), min_consistency=0.0)
    assert learn_pairs(_clusters(), min_consistency=DETECTION_MIN_SHARE) == [p for p in pairs if p[3] >= DETECTION_MIN_SHARE]
    assert pairs == sorted(pairs, key=lambda p: (p[0], -p[2], -p[3], p[1]))


# strong forms ("team", "only") in a text whose originals ("players", "group") sum it
# below the flag line
UNFLAGGED_TABLE = SpinTable.from_pairs([("team", "group", 0.3), ("only", "just", 0.3), ("gamers", "players", 0.9)])
UNFLAGGED = "The team said only a few players came. The players and the group left early."


def test_model_confirms_an_unflagged_text_with_two_forms():
    from newsclean.spin.restore import LM_CONFIRM_FORMS, spin_report

    assert LM_CONFIRM_FORMS == 2 and not spin_report(UNFLAGGED, UNFLAGGED_TABLE).flagged
    assert unspin(UNFLAGGED, UNFLAGGED_TABLE) == UNFLAGGED
    new, edits, report = unspin_and_explain(UNFLAGGED, UNFLAGGED_TABLE, lm=_FixedGains(1.0))
    assert new == UNFLAGGED and not report.flagged and "lm_confirmed" not in report.to_dict()
    new, edits, report = unspin_and_explain(UNFLAGGED, UNFLAGGED_TABLE, lm=_FixedGains(6.0))
    assert new == "The group said just a few players came. The players and the group left early."
    assert report.flagged and report.confirmed == 2 and report.score >= 0.5
    assert report.to_dict()["lm_confirmed"] == 2 and all("lm" in e.what for e in edits)
    # one form is not enough, however sure the model is
    one = "The team said a few players came. The players and the group left early."
    lm = _FixedGains(9.0)
    assert unspin(one, UNFLAGGED_TABLE, lm=lm) == one and lm.calls == 0


def test_the_original_used_elsewhere_in_a_text_counts_for_a_swap():
    from newsclean.spin import restore

    # a 15 % share alone is kept (below REPLACE_MEASURED_SHARE); with "group" used
    # elsewhere in the text the swap reaches it
    table = SpinTable.from_pairs([("gamers", "players", 0.9), ("thirty day period", "month", 0.9),
                                  ("team", "group", 0.15)])
    text = "The gamers waited a thirty day period. The team met. A group of fans waited."
    assert restore._logit(0.15) < restore._logit(restore.REPLACE_MEASURED_SHARE) <= (
        restore._logit(0.15) + restore.ORIGINAL_IN_TEXT_NATS)
    assert "The group met" in unspin(text, table, context=False)
    assert "The team met" in unspin(text.replace("A group of", "Many"), table, context=False)


def test_a_text_two_spinners_flag_is_restored_with_both_tables():
    # several tables (learned + built-in) judge a text one at a time; the one with more
    # evidence decides, but the other's swaps that it flagged too are restored as well
    one = SpinTable.from_pairs([("gamers", "players", 0.9), ("thirty day period", "month", 0.9)], "learned")
    other = SpinTable.from_pairs([("courtroom", "court", 0.9), ("law enforcement", "police", 0.9),
                                  ("technological innovation", "technology", 0.9)], "builtin")
    text = "The gamers waited a thirty day period. Law enforcement said the courtroom would study the technological innovation."
    assert spin_report(text, one).flagged and spin_report(text, other).evidence > spin_report(text, one).evidence
    assert unspin(text, one.merged(other), context=False) == (
        "The players waited a month. Police said the court would study the technology.")


def test_an_unflagged_text_is_read_by_the_model_with_the_table_that_saw_its_forms():
    # a second table that sees nothing in the text (evidence 0) must not hide the first
    # one's sightings, whose originals summed below zero, from the model
    from newsclean.spin.restore import spin_report as report_of

    assert report_of(UNFLAGGED, UNFLAGGED_TABLE).evidence < 0
    merged = UNFLAGGED_TABLE.merged(SpinTable.from_pairs([("hrs", "hours"), ("courtroom", "court")], "builtin"))
    new, _, report = unspin_and_explain(UNFLAGGED, merged, lm=_FixedGains(6.0))
    assert new == "The group said just a few players came. The players and the group left early."
    assert report.confirmed == 2


class _GainsFor(_FixedGains):
    """Stands in for the language model: a swap to one of ``originals`` gains ``gain``
    nats, any other loses as much."""

    def __init__(self, gain: float, originals: set[str]):
        super().__init__(gain)
        self.originals = originals

    def swap_gains_many(self, items):
        self.calls += 1
        return [[self.gain if rep.lower() in self.originals else -self.gain for _, _, rep in swaps]
                for _, swaps in items]


def test_the_model_confirms_a_long_unflagged_text_only_with_a_share_of_its_forms():
    # a writer's long article shows many forms of a large learned table, and the model
    # wants a couple of them swapped by chance: two of seven forms is no spun text
    table = SpinTable.from_pairs([("team", "group", 0.3), ("only", "just", 0.3), ("gamers", "players", 0.9),
                                  ("rate", "price", 0.3), ("several", "many", 0.3), ("large", "big", 0.3),
                                  ("position", "job", 0.3), ("town", "city", 0.3)])
    text = ("The team said only a few players came. The players and the group left early. The rate rose "
            "in several places. A large crowd took a position near the town. The players waited.")
    assert not spin_report(text, table).flagged
    assert unspin(text, table, lm=_GainsFor(6.0, {"group", "just"}), context=False) == text
    # the two forms of a short text are a share enough
    assert unspin(UNFLAGGED, UNFLAGGED_TABLE, lm=_GainsFor(6.0, {"group", "just"}), context=False) == (
        "The group said just a few players came. The players and the group left early.")
