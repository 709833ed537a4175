"""``newsclean run`` learns the spinner's table from its own clusters and restores every
spun text with it, originals in the corpus or not; learning that finds nothing changes
nothing."""
from __future__ import annotations

import json
import random
from pathlib import Path

from test_dedup import run_cli, write_input
from conftest import archived_records

# a made-up spinner: what it writes for each word (real English, as spinners write)
SPINNER = {"players": "gamers", "court": "courtroom", "month": "thirty day period", "research": "exploration",
           "reported": "noted", "meeting": "assembly", "officials": "authorities", "began": "commenced",
           "council": "authority", "residents": "inhabitants"}
VOCABULARY = ("river bridge school market station hospital budget garden museum harbour library tunnel farm "
              "factory village railway stadium church castle airport theatre forest valley island road tower "
              "plan cost rain storm winter summer water power price food family children teacher driver doctor "
              "engineer farmer police army judge nurse worker visitor tourist neighbour company bank shop hotel "
              "old new small large local national public private early late busy quiet heavy light open closed "
              "built opened closed moved sold bought paid found lost asked told warned agreed denied promised "
              "planned hoped expected needed wanted allowed refused decided returned arrived left stayed").split()


def story(rng: random.Random, k: int) -> str:
    """A report of its own words (two reports share a phrase only by chance) in which the
    spinner's words come back now and then."""
    sentences = []
    for s in range(9):
        words = [rng.choice(VOCABULARY) for _ in range(rng.randint(9, 14))]
        words.insert(rng.randrange(2, len(words)), rng.choice(list(SPINNER)))
        sentences.append(f"In report {k}.{s} the " + " ".join(words) + ".")
    return "\n\n".join(" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3))


def spin(text: str) -> str:
    for word, spun in SPINNER.items():
        text = text.replace(word, spun).replace(word.capitalize(), spun.capitalize())
    return text


def corpus(seed: int = 3) -> tuple[list[dict], list[str]]:
    """Stories with their spun copies, and spun stories whose originals are absent."""
    rng = random.Random(seed)
    records, originals = [], []
    for k in range(8):
        text = story(rng, k)
        records += [{"id": f"s{k}", "text": text}, {"id": f"s{k}-spun", "text": spin(text)}]
    for k in range(8, 12):
        text = story(rng, k)
        originals.append(text)
        records.append({"id": f"lone{k}", "text": spin(text)})
    return records, originals


def run(tmp_path: Path, name: str, records: list[dict], *extra: str) -> Path:
    write_input(tmp_path / f"{name}.jsonl", records)
    out = tmp_path / name
    result = run_cli(["run", str(tmp_path / f"{name}.jsonl"), "-o", str(out), "-q", "--no-events", *extra])
    assert result.exit_code == 0, result.output
    return out


def test_run_learns_the_table_and_restores_spun_texts_without_originals(tmp_path):
    records, originals = corpus()
    out = run(tmp_path, "out", records)
    learned = (out / "spin-table.tsv").read_text(encoding="utf-8")
    for word, spun in (("players", "gamers"), ("court", "courtroom"), ("month", "thirty day period")):
        assert f"{spun}\t{word}\t" in learned
    texts = archived_records(out)
    for k, original in zip(range(8, 12), originals):
        assert texts[f"lone{k}"]["text"] == original  # restored, its original being nowhere in the corpus
    for k in range(8):  # the original survives its spun copy
        assert texts[f"s{k}"].get("duplicate_of") is None and texts[f"s{k}-spun"]["duplicate_of"] == f"s{k}"
    spin_stats = json.loads((out / "stats.json").read_text())["spin"]
    assert spin_stats["swaps_learned"] >= 3 and spin_stats["records_flagged"] >= 4 and spin_stats["words_restored"]


def test_learning_that_finds_nothing_changes_nothing(tmp_path):
    rng = random.Random(5)
    records = [{"id": f"s{k}", "text": story(rng, k)} for k in range(6)]
    records += [{"id": "copy", "text": "UPDATED: " + records[0]["text"]}]
    learning = run(tmp_path, "learning", records)
    plain = run(tmp_path, "plain", records, "--no-learn-spin")
    assert not (learning / "spin-table.tsv").exists()
    for name in ("clusters.jsonl", "kept.jsonl.gz", "duplicates.jsonl.gz"):
        assert (learning / name).read_bytes() == (plain / name).read_bytes()


def test_the_same_bytes_on_one_and_two_workers(tmp_path):
    records, _ = corpus(seed=4)
    one = run(tmp_path, "one", records, "--workers", "1", "--shard-size", "0.002")
    two = run(tmp_path, "two", records, "--workers", "2", "--shard-size", "0.002")
    for name in ("clusters.jsonl", "kept.jsonl.gz", "duplicates.jsonl.gz", "spin-table.tsv"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_against_starts_from_the_previous_runs_table(tmp_path):
    records, originals = corpus(seed=6)
    first = run(tmp_path, "first", [r for r in records if not r["id"].startswith("lone")])
    lone = [r for r in records if r["id"].startswith("lone")]
    second = run(tmp_path, "second", lone, "--against", str(first))
    assert (second / "spin-table.tsv").read_text() == (first / "spin-table.tsv").read_text()
    texts = archived_records(second)
    for k, original in zip(range(8, 12), originals):
        assert texts[f"lone{k}"]["text"] == original


def test_a_swap_seen_once_joins_when_the_spun_texts_are_full_of_its_form():
    from newsclean.spin import SpinTable
    from newsclean.spin.corpus import confirmed_by_spun_texts, count_forms

    table = SpinTable.from_pairs([("gamers", "players"), ("courtroom", "court"), ("thirty day period", "month")])
    spun = [f"The gamers met in the courtroom for a thirty day period, and a motor vehicle {k} waited."
            for k in range(6)]
    plain = [f"The players met in court for a month, and the car {k} waited. A motor vehicle was seen."
             for k in range(2)] + [f"The council met on day {k} and the players waited." for k in range(20)]
    counts = count_forms(spun + plain, table, {"motor vehicle", "waited"})
    assert counts.flagged_texts == 6 and counts.other_texts == 22
    singles = [("motor vehicle", "car", 1, 0.5), ("waited", "stayed", 1, 0.5)]
    # "motor vehicle" crowds the spun texts; "waited" is everywhere a writer puts it
    assert confirmed_by_spun_texts(singles, counts) == [("motor vehicle", "car", 1, 0.5)]


def test_a_swap_seen_once_that_the_spun_texts_do_not_confirm_is_a_weak_entry(tmp_path):
    # one spun copy also writes "seaport" for "harbour": a swap of one cluster, in too few
    # spun texts to be confirmed.  It joins the table as a weak entry (share below the
    # detection line), for the model to judge; it is never evidence that a text is spun
    from newsclean.spin import read_table
    from newsclean.spin.table import DETECTION_MIN_SHARE

    records, _ = corpus(seed=7)
    spun = next(r for r in records if r["id"].endswith("-spun") and " harbour" in r["text"])
    spun["text"] = spun["text"].replace(" harbour", " seaport")
    plain = "In report 99 the seaport was busy and the train left early. The market opened late in the day."
    out = run(tmp_path, "out", [*records, {"id": "plain", "text": plain}])
    table = (out / "spin-table.tsv").read_text(encoding="utf-8")
    assert "\nseaport\tharbour\t1\t" in table
    entry = next(e for e in read_table(out / "spin-table.tsv").entries() if e.spun == "seaport")
    assert entry.weak and entry.spun_share < DETECTION_MIN_SHARE
    assert archived_records(out)["plain"]["text"] == plain
    assert json.loads((out / "stats.json").read_text())["spin"]["swaps_weak_from_one_cluster"] >= 1


def test_cut_and_garbled_copies_teach_no_table():
    """What copies with dropped and reversed words taught on a 100,000-record synthetic
    corpus (no spinner): function-word paddings and chance pairings, no substitution. It
    is no spinner's table; a real spinner's lines are."""
    from newsclean.spin.corpus import is_a_spinners_table
    from newsclean.spin.learn import function_padding

    junk = [("a copy", "copy", 2, 0.25), ("been nominated", "nominated", 2, 0.105), ("the ball", "ball", 3, 0.057),
            ("amil report", "report", 3, 1.0), ("golden globe", "globe", 2, 0.2), ("stormed to", "stormed", 2, 1.0)]
    spinner = [("gamers", "players", 4, 0.8), ("courtroom", "court", 3, 0.6), ("very first", "first", 5, 0.7),
               ("thirty day period", "month", 3, 0.9)]
    kept = [line for line in junk if not function_padding(line[0].split(), line[1].split())]
    assert kept == [("amil report", "report", 3, 1.0), ("golden globe", "globe", 2, 0.2)]
    assert not is_a_spinners_table(kept) and is_a_spinners_table(spinner)
