"""The run report (newsclean.report): OUTDIR/report.html from a real ``newsclean dedup`` run,
and the report samples a run's shards record.

Fixtures are the paragraphs of test_dedup.py; nothing outside the repository is needed.
"""
from __future__ import annotations

import gzip
import json
import random
import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

from newsclean.clean.pipeline import Cleaner
from newsclean.cli import app
from newsclean.edits import Edit
from newsclean.report import (
    REPORT_NAME,
    SAMPLES_NAME,
    NotARunFolder,
    ReportSamples,
    build_report,
    cli_report,
    merge_samples,
    read_samples,
    write_samples,
)
from newsclean.report.replay import edit_contexts
from newsclean.report.samples import Limits

from test_dedup import BANK, FLOOD, RUGBY, fixture_records

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def corpus() -> list[dict]:
    """Copies of three stories, a same-event report, two composite pages, damaged text,
    and hostile markup in texts and ids."""
    # the dedup tests' fixture but for its spun copy
    return [r for r in fixture_records() if r["id"] != "rugby-spun"] + [
        {"id": "page", "text": FLOOD + "\n\n" + BANK},
        {"id": "page-2", "text": "Home | News | Sport\n\n" + RUGBY + "\n\n" + BANK},
        {"id": "rugby-hostile", "text": RUGBY + "\n\n" + SCRIPT + " " + IMG},
        {"id": SCRIPT + IMG, "text": "Microsoft?s announcement follows similar statements fromAmazonandIBM. "
         + SCRIPT + " and " + IMG + " in a text of its own, long enough to be compared by its shingles "
         "with every other record of this small corpus."},
    ]


BAD_LINES = ['{"id": "no-text", "title": "' + SCRIPT.replace('"', '\\"') + '"}', "{not json " + IMG]


def write_corpus(path: Path, records: list[dict], bad_lines=BAD_LINES) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
        for line in bad_lines:
            f.write(line + "\n")


def add_samples(records: list[dict], outdir: Path, shards: int = 2) -> ReportSamples:
    """What the driver does: each shard offers its records, the run merges the shards'."""
    cleaner = Cleaner()
    parts = [ReportSamples() for _ in range(shards)]
    for i, r in enumerate(records):
        result = cleaner.clean(r["text"])
        parts[i % shards].offer(r["id"], r["text"], result.text, result.edits, result.spin)
    merged = merge_samples(p.to_dict() for p in parts)
    write_samples(merged, outdir / SAMPLES_NAME)
    return merged


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("report")
    write_corpus(base / "in.jsonl", corpus())
    out = base / "out"
    result = CliRunner().invoke(app, ["dedup", str(base / "in.jsonl"), "-o", str(out), "--events", "--workers", "1"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def report(run_folder) -> BeautifulSoup:
    path = build_report(run_folder)
    assert path == run_folder / REPORT_NAME
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)]


def table_rows(soup: BeautifulSoup, table_id: str) -> list[list[str]]:
    table = soup.find(id=table_id)
    assert table is not None, table_id
    return [[c.get_text(strip=True) for c in tr.find_all("td")] for tr in table.find_all("tr") if tr.find("td")]


# ------------------------------------------------------------------ sections and their numbers


def test_totals_and_accounting_match_stats_and_files(run_folder, report):
    stats = json.loads((run_folder / "stats.json").read_text())
    assert stats["input_records"] == len(corpus()) + len(BAD_LINES) and stats["rejected"] == 2
    equation = report.find(id="accounting").get_text(" ", strip=True)
    assert numbers(equation)[:4] == [stats["input_records"], stats["kept"], stats["duplicates"], stats["rejected"]]
    assert "balanced" in equation
    checks = table_rows(report, "checks")
    assert [row[-1] for row in checks] == ["✓"] * 4
    assert checks[0][1:3] == [str(stats["kept"] + stats["duplicates"])] * 2
    assert checks[3][1:3] == ["2", "2"]  # lines in the rejects file


def test_cluster_sizes_table_is_the_histogram(run_folder, report):
    stats = json.loads((run_folder / "stats.json").read_text())
    rows = {row[0]: (int(row[1]), int(row[2])) for row in table_rows(report, "cluster-sizes")}
    for size, clusters in stats["cluster_size_histogram"].items():
        assert rows[size] == (clusters, int(size) * clusters)
    assert report.find(id="clusters").find("svg") is not None


def test_event_sizes_count_every_record_once(run_folder, report):
    stats = json.loads((run_folder / "stats.json").read_text())
    rows = table_rows(report, "event-sizes")
    assert sum(int(r[1]) for r in rows) == stats["events"]
    assert sum(int(r[2]) for r in rows) == stats["kept"] + stats["duplicates"]
    events = {}
    for line in (run_folder / "clusters.jsonl").read_text().splitlines():
        row = json.loads(line)
        events[row["event"]] = events.get(row["event"], 0) + 1
    assert {r[0]: int(r[1]) for r in rows}.get("1", 0) == sum(1 for n in events.values() if n == 1)


def test_duplicate_pairs_show_both_texts_and_their_similarity(run_folder, report):
    rows = [json.loads(line) for line in (run_folder / "clusters.jsonl").read_text().splitlines()]
    removed = {r["id"]: r for r in rows if r["duplicate_of"] is not None}
    boxes = report.find(id="pair-sample").find_all("div", class_="pair")
    assert len(boxes) == min(6, len(removed))
    for box in boxes:
        ids = [s.get_text() for s in box.find(class_="head").find_all(class_="id")]
        similarity = float(box.find(class_="sim").strong.get_text())
        assert removed[ids[0]]["duplicate_of"] == ids[1] and similarity == removed[ids[0]]["similarity"]
        texts = box.find_all(class_="text")
        assert len(texts) == 2 and all(t.get_text().strip() for t in texts)
    trunc = next(b for b in boxes if "flood-trunc" in b.find(class_="head").get_text())
    survivor, copy = trunc.find_all(class_="text")
    assert survivor.find("mark") is not None and copy.find("mark") is None  # the cut tail is the survivor's alone


def test_composite_pages_with_their_stories(run_folder, report):
    stats = json.loads((run_folder / "stats.json").read_text())
    assert stats["composite_pages"] == 2
    section = report.find(id="composites")
    assert "Pages holding several stories: 2" in section.get_text(" ", strip=True)
    pages = {b.find(class_="head").find(class_="id").get_text(): b for b in section.find_all("div", class_="pair")}
    assert set(pages) == {"page", "page-2"}
    rows = {r["id"]: r for r in map(json.loads, (run_folder / "clusters.jsonl").read_text().splitlines())}
    for name, box in pages.items():
        stories = [s.get_text() for s in box.find(class_="stories").find_all(class_="id")]
        assert stories == rows[name]["contains"][:3] and {"bank"} < set(stories)
    # the page's own navigation line is marked as held by no story
    assert "Home" in " ".join(m.get_text() for m in pages["page-2"].find(class_="tall").find_all("mark"))


def test_rejects_by_reason_with_examples(report):
    reasons = {row[0]: int(row[1]) for row in table_rows(report, "reject-reasons")}
    assert reasons == {"no text field": 1, "not valid JSON": 1}
    raw = " ".join(r.get_text() for r in report.find(id="rejects").find_all(class_="raw"))
    assert IMG in raw


def test_timings_and_peak_memory(run_folder, report):
    stats = json.loads((run_folder / "stats.json").read_text())
    section = report.find(id="timings").get_text(" ", strip=True)
    assert f"{stats['timings']['total']:.2f} s in all" in section
    assert f"peak memory {round(stats['timings']['peak_rss_mb']):,} MB" in section
    steps = [row[0] for row in table_rows(report, "timings-table")]
    assert "shards" in steps and "write" in steps and "weigh" in steps  # events_weigh, under events


def test_sections_without_their_data_say_so(tmp_path, run_folder):
    out = copy_run(run_folder, tmp_path / "out")  # without report-samples.json
    stats = json.loads((out / "stats.json").read_text())
    stats.pop("boilerplate")  # as a run with --boilerplate off, or an earlier version, leaves it
    (out / "stats.json").write_text(json.dumps(stats))
    report = BeautifulSoup(build_report(out).read_text(encoding="utf-8"), "html.parser")
    for section in ("cleaning", "boilerplate"):
        assert "Not recorded" in report.find(id=section).get_text()


# ------------------------------------------------------------------ untrusted text


def test_record_text_and_ids_are_escaped(run_folder, report):
    html = (run_folder / REPORT_NAME).read_text(encoding="utf-8")
    assert report.find("script") is None and report.find("img") is None
    assert not report.find_all(attrs={"onerror": True})
    assert SCRIPT not in html and "<img" not in html
    text = report.get_text()
    assert SCRIPT in text and IMG in text  # shown, as text: in a pair, an id, the rejects
    assert 'Content-Security-Policy' in html and "default-src 'none'" in html


def test_hostile_text_in_samples_is_escaped(tmp_path, run_folder):
    out = copy_run(run_folder, tmp_path / "out")
    samples = ReportSamples()
    before = f"A {SCRIPT} and {IMG} and it?s []"
    result = Cleaner().clean(before)
    samples.offer(SCRIPT, before, result.text, result.edits, result.spin)
    samples.offer(IMG, "x?s", "x’s", [Edit("lost_chars", IMG, 1, 2, "?", "’")])
    write_samples(samples, out / SAMPLES_NAME)
    soup = BeautifulSoup(build_report(out).read_text(encoding="utf-8"), "html.parser")
    assert soup.find("script") is None and soup.find("img") is None
    assert SCRIPT in soup.find(id="cleaning").get_text()


# ------------------------------------------------------------------ determinism, size, CLI


def test_same_folder_same_bytes(run_folder):
    first = build_report(run_folder).read_bytes()
    assert build_report(run_folder).read_bytes() == first


def test_cli_report_rebuilds_and_refuses_other_folders(run_folder, tmp_path, capsys):
    (run_folder / REPORT_NAME).unlink()
    assert cli_report(run_folder) == 0
    assert (run_folder / REPORT_NAME).exists() and str(run_folder / REPORT_NAME) in capsys.readouterr().out
    assert cli_report(tmp_path) == 2
    with pytest.raises(NotARunFolder):
        build_report(tmp_path)


def copy_run(source: Path, target: Path) -> Path:
    target.mkdir()
    for name in ("stats.json", "clusters.jsonl", "kept.jsonl.gz", "duplicates.jsonl.gz", "rejects.jsonl",
                 "manifest.json"):
        (target / name).write_bytes((source / name).read_bytes())
    return target


def test_cleaning_and_spin_sections_from_samples(tmp_path, run_folder):
    out = copy_run(run_folder, tmp_path / "out")
    records = corpus() + [{"id": name, "text": (ROOT / "samples" / f"{name}.txt").read_text(encoding="utf-8")}
                          for name in ("spun-article", "scraped-article")]
    samples = add_samples(records, out)
    soup = BeautifulSoup(build_report(out).read_text(encoding="utf-8"), "html.parser")
    rows = {r[0]: (int(r[1].replace(",", "")), int(r[2])) for r in table_rows(soup, "cleaning-stages")}
    expected = {name: (s["edits"], s["records"]) for name, s in samples.stages.items() if name != "unspin"}
    assert rows == expected and {"markup", "lost_chars", "glued"} <= set(rows)
    lead = soup.find(id="cleaning").find(class_="lead").get_text(" ", strip=True)
    assert numbers(lead)[:2] == [samples.changed, len(records)]
    # every stage shows an example edit, in its context
    assert len(soup.find(id="cleaning").find_all("details")) == len(rows)
    spin = soup.find(id="spin")
    assert samples.spin["flagged"] >= 1
    assert f"flagged as spun: {samples.spin['flagged']}," in spin.get_text(" ", strip=True)
    swaps = table_rows(soup, "restored-swaps")
    assert swaps[0] == [samples.swaps[0][0], samples.swaps[0][1], str(samples.swaps[0][2])]
    assert "spun-article" in " ".join(i.get_text() for i in spin.find_all(class_="id"))


# ------------------------------------------------------------------ report samples


def cleaned_records(n: int) -> list[tuple[str, str, object]]:
    """``n`` (id, text, cleaning result): the corpus's texts under many ids."""
    cleaner = Cleaner()
    texts = [r["text"] for r in corpus()] + [(ROOT / "samples" / "spun-article.txt").read_text(encoding="utf-8")]
    results = [cleaner.clean(t) for t in texts]
    return [(f"doc-{i}", texts[i % len(texts)], results[i % len(texts)]) for i in range(n)]


def offer_all(samples: ReportSamples, rows) -> ReportSamples:
    for record_id, text, result in rows:
        samples.offer(record_id, text, result.text, result.edits, result.spin)
    return samples


def test_merged_samples_do_not_depend_on_the_shard_split():
    rows = cleaned_records(400)
    whole = json.dumps(offer_all(ReportSamples(), rows).to_dict(), sort_keys=False)
    rng = random.Random(5)
    for _ in range(3):
        shuffled = rows[:]
        rng.shuffle(shuffled)
        cuts = sorted(rng.sample(range(1, len(rows)), 4))
        parts = [offer_all(ReportSamples(), shuffled[a:b]).to_dict()
                 for a, b in zip([0, *cuts], [*cuts, len(rows)])]
        rng.shuffle(parts)
        assert json.dumps(merge_samples(parts).to_dict(), sort_keys=False) == whole


def test_samples_are_bounded_and_counts_exact():
    limits = Limits()
    rows = cleaned_records(3_000)
    samples = offer_all(ReportSamples(limits), rows)
    doc = samples.to_dict()
    assert doc["records"] == 3_000
    assert doc["changed"] == sum(1 for _, _, r in rows if r.edits)
    assert doc["edits"] == sum(len(r.edits) for _, _, r in rows)
    for stage in doc["stages"].values():
        assert len(stage["examples"]) <= limits.per_stage
        assert all(len(e["edits"]) <= limits.edits_per_example for e in stage["examples"])
    assert len(doc["texts"]) <= limits.texts and len(doc["spin"]["examples"]) <= limits.spin
    assert doc["spin"]["restored"] == sum(n for _, _, n in samples.swaps)
    small = len(json.dumps(offer_all(ReportSamples(limits), cleaned_records(300)).to_dict()))
    assert len(json.dumps(doc)) < 1.5 * small  # grows with the swaps seen, not with the records


def test_samples_file_round_trips_any_text(tmp_path):
    samples = ReportSamples()
    samples.offer("lone \ud800 surrogate", "it?s \ud800", "it’s \ud800",
                  [Edit("lost_chars", "apostrophe", 2, 3, "?", "’")])
    write_samples(samples, tmp_path / SAMPLES_NAME)
    again = read_samples(tmp_path / SAMPLES_NAME)
    assert again is not None and again.to_dict() == samples.to_dict()
    assert read_samples(tmp_path / "absent.json") is None


def test_examples_are_chosen_by_the_hash_of_the_id_not_by_arrival():
    limits = Limits(per_stage=2)
    rows = cleaned_records(60)
    forward = offer_all(ReportSamples(limits), rows).stages
    backward = offer_all(ReportSamples(limits), rows[::-1]).stages
    assert forward == backward
    chosen = [e["id"] for e in forward["markup"]["examples"]]
    assert len(chosen) == 2 and chosen != ["doc-0", "doc-1"]


def test_edit_contexts_place_each_edit_in_its_stage_input():
    cleaner = Cleaner()
    for record in corpus():
        result = cleaner.clean(record["text"])
        contexts = edit_contexts(record["text"], result.text, result.edits, width=20)
        assert len(contexts) == len(result.edits)
    text = "Microsoft?s plan [] fromAmazonandIBM"
    result = cleaner.clean(text)
    contexts = edit_contexts(text, result.text, result.edits, width=10)
    glued = next(i for i, e in enumerate(result.edits) if e.stage == "glued")
    assert contexts[glued][0].endswith("plan ") and result.edits[glued].before == "fromAmazonandIBM"
    assert edit_contexts(text, result.text + "x", result.edits) == {}  # does not replay: no context


def synthetic_run(out: Path, n: int) -> None:
    """A run folder of ``n`` records written directly (what dedup writes, without running it):
    a third removed as copies of the record before them."""
    rng = random.Random(n)
    out.mkdir(parents=True)
    words = [f"w{i}" for i in range(500)]
    clusters, kept, dups = [], [], []
    survivor = None
    for i in range(n):
        text = " ".join(rng.choice(words) for _ in range(120))
        if i % 3 == 2:
            clusters.append({"id": f"r{i}", "cluster": survivor, "duplicate_of": survivor, "similarity": 0.9,
                             "event": survivor})
            dups.append({"id": f"r{i}", "text": text, "cluster": survivor, "duplicate_of": survivor, "similarity": 0.9})
        else:
            survivor = f"r{i}"
            clusters.append({"id": survivor, "cluster": survivor, "duplicate_of": None, "similarity": 1.0,
                             "event": survivor})
            kept.append({"id": survivor, "text": text, "cluster": survivor})
    (out / "clusters.jsonl").write_text("".join(json.dumps(c) + "\n" for c in clusters))
    for name, rows in (("kept", kept), ("duplicates", dups)):
        (out / f"{name}.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode(),
                                                             1, mtime=0))
    (out / "rejects.jsonl").write_text("")
    hist = {"1": n - 2 * len(dups), "2": len(dups)}
    stats = {"input_records": n, "kept": len(kept), "duplicates": len(dups), "rejected": 0, "balanced": True,
             "clusters": len(kept), "events": len(kept), "cluster_size_histogram": hist,
             "timings": {"shards": 1.0, "total": 2.0, "peak_rss_mb": 100.0}}
    (out / "stats.json").write_text(json.dumps(stats))


def test_report_size_is_bounded_whatever_the_run_size(tmp_path):
    sizes = {}
    for n in (300, 30_000):
        synthetic_run(tmp_path / str(n), n)
        sizes[n] = build_report(tmp_path / str(n)).stat().st_size
    assert sizes[30_000] < 1.1 * sizes[300] + 2_000, sizes
    assert sizes[30_000] < 200_000, sizes


def test_records_are_shown_from_the_first_lines_of_the_archives_only(tmp_path):
    from newsclean.report import Bounds

    synthetic_run(tmp_path / "run", 3_000)
    soup = BeautifulSoup(build_report(tmp_path / "run", Bounds(archive_lines=90)).read_text(encoding="utf-8"),
                         "html.parser")
    rows = {json.loads(line)["id"]: i for i, line in enumerate((tmp_path / "run" / "clusters.jsonl").open())}
    shown = [[s.get_text() for s in box.find(class_="head").find_all(class_="id")]
             for box in soup.find(id="pairs").find_all("div", class_="pair")]
    assert len(shown) == 10
    # removed record k of the archive is line 3k+2 of clusters.jsonl, a survivor 3k/2
    assert all(rows[removed] < 3 * 90 and rows[survivor] < 1.5 * 90 for removed, survivor in shown)
    assert "within the first 90 lines" in soup.find(id="pairs").get_text(" ", strip=True)
    assert all(box.find(class_="text").get_text().strip() for box in soup.find(id="pairs").find_all("div", class_="pair"))


def test_spin_and_boilerplate_sections_from_stats_and_the_learned_table(tmp_path, run_folder):
    out = copy_run(run_folder, tmp_path / "out")
    stats = json.loads((out / "stats.json").read_text())
    stats["spin"] = {"swaps_learned": 196, "records_flagged": 12, "words_restored": 57}
    stats["boilerplate"] = {"lines_removed": 40, "records_changed": 25,
                            "lines": [{"line": "Share this article", "count": 30}, {"line": SCRIPT, "count": 10}]}
    (out / "stats.json").write_text(json.dumps(stats))
    (out / "spin-table.tsv").write_text("# spun\toriginal\tclusters\tconsistency\n"
                                        "thirty day period\tmonth\t14\t0.62\nvery first\tfirst\t40\t0.31\n"
                                        f"{IMG}\tx\t2\t0.05\n", encoding="utf-8")
    soup = BeautifulSoup(build_report(out).read_text(encoding="utf-8"), "html.parser")
    spin = {dt.get_text(): dd.get_text() for dt, dd in zip(soup.find(id="spin-stats").find_all("dt"),
                                                            soup.find(id="spin-stats").find_all("dd"))}
    assert spin == {"swaps learned": "196", "records flagged": "12", "words restored": "57"}
    assert table_rows(soup, "learned-swaps") == [["very first", "first", "40", "0.31"],
                                                ["thirty day period", "month", "14", "0.62"], [IMG, "x", "2", "0.05"]]
    assert table_rows(soup, "boilerplate-lines")[:2] == [["Share this article", "30", ""], [SCRIPT, "10", ""]]
    assert "lines removed" in soup.find(id="boilerplate").get_text()
    assert soup.find("script") is None and soup.find("img") is None


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium (Debian package chromium)")
def test_the_report_opens_in_chromium_without_console_errors(run_folder, tmp_path):
    import subprocess
    import sys

    build_report(run_folder)
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "render_report.py"), str(run_folder), "-o",
                           str(tmp_path / "report.png"), "--height", "900"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
