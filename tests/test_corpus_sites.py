"""What a corpus teaches about its sites, wired into the commands: site boilerplate removed
by ``run``, ``dedup`` and ``clean`` (and listed in the statistics), house dash styles,
records cut down flagged, the run report, HTML tables.

The corpus is pages of a few invented sites, written here: each site prints its own
furniture on most of its pages, the articles say something new each time.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsclean.cli import app
from newsclean.clean.pipeline import Cleaner
from newsclean.clean.sites import CorpusSites, SiteCounts
from newsclean.config import Config
from newsclean.dedup.run import run_dedup
from newsclean.driver import resolve_inputs
from conftest import archived_records

WORDS = (
    "river council budget harbour bridge school museum storm mayor hospital library farmers harvest "
    "railway station tunnel market festival orchestra theatre stadium airport factory workers union "
    "election candidate parliament minister court judge police officer village valley mountain forest "
    "coast island ferry fishermen teachers pupils nurses doctors engineers architects painters authors "
    "readers voters tenants landlords shops cafes bakery brewery vineyard winery garden park lake canal "
    "road motorway cyclists drivers buses trams trains pilots sailors scientists students professors"
).split()
VERBS = "approved rejected delayed opened closed praised criticised funded inspected repaired".split()

# each site's furniture, and on which of its pages it is printed
VALLEY = "valleydaily.example"
HARBOR = "harborpost.example"
QUIET = "quiet.example"  # no furniture: its pages come out as they went in
FACT_POLL = "% of readers think this story is Fact. Add your two cents."
SUBSCRIBE = "Subscribe to The Valley Daily for FREE"
AD = "This Simple Trick Cuts Your Power Bill In Half"
SHARE = "Share this:"
MODERATED = "Comments are moderated by the Harbor Post team."
FURNITURE = {FACT_POLL, SUBSCRIBE, AD, SHARE, MODERATED}


def sentence(rng: random.Random) -> str:
    words = rng.sample(WORDS, 9)
    return (f"The {words[0]} and the {words[1]} {rng.choice(VERBS)} plans for the {words[2]} near the "
            f"{words[3]}, while {words[4]} and {words[5]} asked about the {words[6]}, the {words[7]} and "
            f"the {words[8]}.")


def article(rng: random.Random, paragraphs: int = 3) -> list[str]:
    return [" ".join(sentence(rng) for _ in range(3)) for _ in range(paragraphs)]


def site_pages() -> list[dict]:
    """30 pages of three sites, each with a url; furniture on most pages of two of them."""
    rng = random.Random(18)
    pages = []
    for n in range(12):
        lines = [FACT_POLL, *article(rng), SUBSCRIBE]
        if n % 3:
            lines.insert(2, AD)
        pages.append({"id": f"valley-{n}", "url": f"https://www.{VALLEY}/news/{n}", "text": "\n".join(lines)})
    for n in range(10):
        lines = [*article(rng), SHARE, MODERATED]
        pages.append({"id": f"harbor-{n}", "url": f"https://{HARBOR}/{n}.html", "text": "\n\n".join(lines)})
    for n in range(8):
        pages.append({"id": f"quiet-{n}", "url": f"https://{QUIET}/p/{n}", "text": "\n\n".join(article(rng))})
    return pages


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def invoke(*args: object) -> object:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("sites") / "pages.jsonl", site_pages())


@pytest.fixture(scope="module")
def run_folder(corpus_file: Path) -> Path:
    out = corpus_file.parent / "run"
    invoke("run", corpus_file, "-o", out, "--workers", "1", "--shard-size", "0.004", "-q")
    return out


# ------------------------------------------------------------------ run: removed, kept, listed


def test_run_removes_site_boilerplate_and_keeps_every_article_line(run_folder):
    records = archived_records(run_folder)
    pages = {p["id"]: p for p in site_pages()}
    assert set(records) == set(pages)
    for rid, page in pages.items():
        text = records[rid]["text"]
        for line in page["text"].split("\n"):
            if line.strip() and line not in FURNITURE:
                assert line in text, (rid, line)  # every article line stays
        assert not any(f in text for f in FURNITURE), rid
        assert "_newsclean_kept" not in records[rid]


def test_stats_list_the_lines_removed_with_their_counts(run_folder):
    stats = json.loads((run_folder / "stats.json").read_text())
    section = stats["boilerplate"]
    lines = {entry["line"]: entry["count"] for entry in section["lines"]}
    assert lines == {FACT_POLL: 12, SUBSCRIBE: 12, AD: 8, SHARE: 10, MODERATED: 10}
    assert section["lines_learned"] == 5 and section["lines_removed"] == 52 and section["records_changed"] == 22
    assert [e["count"] for e in section["lines"]] == sorted(lines.values(), reverse=True)
    assert stats["records_cut_down"] == 0
    assert "sites" in stats["timings"] and list(stats["timings"]).index("sites") < list(stats["timings"]).index(
        "shards")


def test_the_report_lists_the_boilerplate_and_the_cleaning(run_folder):
    from bs4 import BeautifulSoup

    html = (run_folder / "report.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    rows = [[c.get_text(strip=True) for c in tr.find_all("td")] for tr in soup.find(id="boilerplate-lines")
            .find_all("tr") if tr.find("td")]
    assert [r[:2] for r in rows[:2]] == [[FACT_POLL, "12"], [SUBSCRIBE, "12"]]
    assert "Not recorded" not in soup.find(id="cleaning").get_text()
    samples = json.loads((run_folder / "report-samples.json").read_text())
    assert samples["records"] == 30 and samples["stages"]["boilerplate"]["edits"] == 52


def test_newsclean_report_rebuilds_the_report(run_folder, tmp_path):
    before = (run_folder / "report.html").read_bytes()
    (run_folder / "report.html").unlink()
    result = CliRunner().invoke(app, ["report", str(run_folder)])
    assert result.exit_code == 0 and (run_folder / "report.html").read_bytes() == before
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2


def test_a_report_that_fails_does_not_fail_the_run(corpus_file, tmp_path, monkeypatch):
    import newsclean.report

    def broken(outdir):
        raise RuntimeError("no report today")

    monkeypatch.setattr(newsclean.report, "build_report", broken)
    with pytest.warns(UserWarning, match="no report today"):
        stats, _ = run_dedup(resolve_inputs([str(corpus_file)]), tmp_path / "out", workers=1)
    assert stats.balanced and (tmp_path / "out" / "stats.json").exists()


# ------------------------------------------------------------------ conservative


def test_a_corpus_without_repeated_lines_comes_out_byte_identical(tmp_path):
    rng = random.Random(5)
    pages = [{"id": f"p{n}", "url": f"https://one.example/{n}", "text": "\n\n".join(article(rng))}
             for n in range(20)]
    pages += [{"id": "copy", "url": "https://one.example/copy", "text": pages[0]["text"]}]
    src = write_jsonl(tmp_path / "in.jsonl", pages)
    outputs = {}
    for mode in ("auto", "off"):
        out = tmp_path / mode
        invoke("dedup", src, "-o", out, "--boilerplate", mode, "--workers", "1", "-q")
        outputs[mode] = [(out / name).read_bytes() for name in ("clusters.jsonl", "kept.jsonl.gz",
                                                                 "duplicates.jsonl.gz", "rejects.jsonl")]
    assert outputs["auto"] == outputs["off"]
    assert json.loads((tmp_path / "auto" / "stats.json").read_text())["boilerplate"]["lines_learned"] == 0
    assert json.loads((tmp_path / "off" / "stats.json").read_text())["boilerplate"] is None


def test_boilerplate_off_removes_nothing(corpus_file, tmp_path):
    invoke("run", corpus_file, "-o", tmp_path / "out", "--boilerplate", "off", "--workers", "1", "-q")
    records = archived_records(tmp_path / "out")
    for page in site_pages():  # the fixed list of prompts takes "Subscribe ..." and "Share this:", not these
        for line in (FACT_POLL, AD, MODERATED):
            assert (line in records[page["id"]]["text"]) == (line in page["text"])


def test_thresholds_are_options(corpus_file, tmp_path):
    invoke("run", corpus_file, "-o", tmp_path / "out", "--boilerplate-min-pages", "11", "--workers", "1", "-q")
    lines = {e["line"] for e in json.loads((tmp_path / "out" / "stats.json").read_text())["boilerplate"]["lines"]}
    assert lines == {FACT_POLL, SUBSCRIBE}  # on 12 pages; the others on 8 or 10
    invoke("run", corpus_file, "-o", tmp_path / "share", "--boilerplate-min-share", "0.9", "--workers", "1", "-q")
    lines = {e["line"] for e in json.loads((tmp_path / "share" / "stats.json").read_text())["boilerplate"]["lines"]}
    assert lines == {FACT_POLL, SUBSCRIBE, SHARE, MODERATED}  # the ad is on 8 of 12 valley pages


def test_a_resumed_run_reuses_what_it_learned(corpus_file, tmp_path):
    from newsclean.dedup.sites import learn_sites, load_sites
    from newsclean.engine.executors import Engine
    from newsclean.engine.shards import plan_shards

    config = Config()
    files = resolve_inputs([str(corpus_file)])
    specs = plan_shards(files, 4096)
    assert len(specs) > 1
    with Engine(1) as engine:
        learned = learn_sites(engine, specs, tmp_path, config)

    class NoWork:
        def map(self, fn, tasks):
            raise AssertionError("counted again")

    assert learn_sites(NoWork(), specs, tmp_path, config) == learned == load_sites(tmp_path)
    assert learn_sites(NoWork(), specs, tmp_path / "other", Config().replace(boilerplate="off")) is None


# ------------------------------------------------------------------ clean given a corpus


def test_clean_learns_from_its_input_files_and_explains(corpus_file, tmp_path):
    out, stats = tmp_path / "out.jsonl", tmp_path / "stats.json"
    result = invoke("clean", corpus_file, "-o", out, "--explain", "--stats", stats)
    assert "site boilerplate: 5 lines learned, 52 removed from 22 records" in result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    valley = records[0]
    assert FACT_POLL not in valley["text"] and SUBSCRIBE not in valley["text"]
    removed = [e for e in valley["edits"] if e["stage"] == "boilerplate"]
    assert {e["before"].strip() for e in removed} == {FACT_POLL, SUBSCRIBE}  # --explain shows them
    doc = json.loads(stats.read_text())
    assert doc["boilerplate"]["lines_removed"] == 52 and doc["edits_by_stage"]["boilerplate"] == 52
    assert {e["line"] for e in doc["boilerplate"]["lines"]} == FURNITURE


def test_clean_from_standard_input_learns_nothing(corpus_file, tmp_path):
    result = CliRunner().invoke(app, ["clean", "-"], input=corpus_file.read_text())
    assert result.exit_code == 0
    assert FACT_POLL in result.stdout and "site boilerplate" not in result.stderr


def test_clean_boilerplate_off(corpus_file, tmp_path):
    invoke("clean", corpus_file, "-o", tmp_path / "out.jsonl", "--boilerplate", "off")
    assert FACT_POLL in (tmp_path / "out.jsonl").read_text()


# ------------------------------------------------------------------ records cut down: never silently


TWEET_PAGE = ("Watch:\n"
              "pic.twitter.com/AbCdEf1234 — Some Person (@someone) November 5, 2016\n"
              "Mr Smith said it was fine — Some Person (@someone) November 5, 2016 https://t.co/AbCdEf1234 "
              "more words in the tweet that go with it https://t.co/XyZ987 pic.twitter.com/QwErTy12")


@pytest.mark.parametrize("command", ["clean", "dedup", "run"])
def test_a_record_cut_down_is_flagged_counted_and_warned_about(command, tmp_path):
    pages = site_pages() + [{"id": "cut", "url": f"https://{VALLEY}/cut",
                              "text": f"{FACT_POLL}\n{AD}\nRain.\n{SUBSCRIBE}"}]
    src = write_jsonl(tmp_path / "in.jsonl", pages)
    out = tmp_path / "out"
    if command == "clean":
        result = invoke(command, src, "-o", tmp_path / "out.jsonl", "--stats", tmp_path / "stats.json")
        records = {r["id"]: r for r in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())}
        stats = json.loads((tmp_path / "stats.json").read_text())
    else:
        result = invoke(command, src, "-o", out, "--workers", "1")
        records = archived_records(out)
        stats = json.loads((out / "stats.json").read_text())
    assert 0 < records["cut"]["_newsclean_kept"] < 0.5
    assert sum("_newsclean_kept" in r for r in records.values()) == 1
    assert stats["records_cut_down"] == 1
    assert "warning: 1 record cut down by cleaning" in result.output


def test_min_keep_zero_flags_nothing(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", site_pages() + [{"id": "cut", "url": f"https://{VALLEY}/cut",
                                                               "text": f"{FACT_POLL}\n{AD}\nRain.\n{SUBSCRIBE}"}])
    result = invoke("clean", src, "-o", tmp_path / "out.jsonl", "--min-keep", "0")
    assert "_newsclean_kept" not in (tmp_path / "out.jsonl").read_text() and "warning" not in result.output


def test_cleaner_flags_a_text_that_lost_most_of_it():
    text = "A line.\n" + TWEET_PAGE
    result = Cleaner().clean(text)
    assert result.cut_down is not None and result.cut_down < 0.5
    assert Cleaner(min_keep=0).clean(text).cut_down is None
    assert Cleaner().clean("Microsoft?s plan").cut_down is None


# ------------------------------------------------------------------ house style


def test_a_site_s_dash_style_restores_its_damaged_pages():
    intact = [f"The {w} — as the council said — was {v} on day {n}." for n, (w, v) in
              enumerate(zip(WORDS[:6], VERBS[:6]))]
    counts = SiteCounts()
    for text in intact:
        counts.add("paper.example", text)
    sites = counts.learn()
    assert sites.styles == {"paper.example": "\u2014"}
    damaged = "The mayor?s plan ? which the council backed ? was approved."
    plain = Cleaner().clean(damaged).text
    styled = Cleaner().with_sites(sites)
    site = styled.site_of({"url": "https://paper.example/x"})
    assert styled.clean(damaged, site).text == "The mayor’s plan — which the council backed — was approved."
    assert "\u2013" in plain  # the text alone says en dash
    assert styled.site_of({"url": "https://other.example/x"}) is None  # a site it knows nothing about


def test_sites_survive_saving(tmp_path):
    counts = SiteCounts()
    for page in site_pages():
        counts.add(page["url"].split("/")[2].removeprefix("www."), page["text"])
    counts.save(tmp_path / "counts")
    again = SiteCounts.load(tmp_path / "counts")
    assert again.learn() == counts.learn()
    counts.learn().save(tmp_path / "sites")
    assert CorpusSites.load(tmp_path / "sites") == counts.learn()
    assert CorpusSites.load(tmp_path / "nothing") is None


def test_a_cleaner_with_sites_pickles_small():
    import pickle

    counts = SiteCounts()
    for page in site_pages():
        counts.add(page["url"].split("/")[2].removeprefix("www."), page["text"])
    cleaner = Cleaner().with_sites(counts.learn())
    again = pickle.loads(pickle.dumps(cleaner))
    assert again.sites == cleaner.sites
    page = site_pages()[0]
    assert again.clean(page["text"], again.site_of(page)).text == cleaner.clean(page["text"],
                                                                                cleaner.site_of(page)).text


# ------------------------------------------------------------------ configuration


def test_the_command_line_defaults_are_the_library_s():
    from newsclean import config
    from newsclean.clean import boilerplate, embeds

    assert config.BOILERPLATE_MIN_PAGES == boilerplate.MIN_PAGES
    assert config.BOILERPLATE_MIN_SHARE == boilerplate.MIN_SHARE
    assert config.DEFAULT_MIN_KEEP == embeds.DEFAULT_MIN_KEEP == Cleaner().min_keep


@pytest.mark.parametrize("options, message", [
    ({"boilerplate": "sometimes"}, "--boilerplate must be one of auto, off"),
    ({"boilerplate_min_pages": 0}, "--boilerplate-min-pages must be at least 1"),
    ({"boilerplate_min_share": 1.5}, "--boilerplate-min-share must be in [0, 1]"),
    ({"min_keep": -0.1}, "--min-keep must be in [0, 1]"),
])
def test_bad_settings_name_their_option(options, message):
    from newsclean.config import ConfigError

    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Config.from_options(**options)


# ------------------------------------------------------------------ HTML tables


STANDINGS = """<html><head><title>Standings</title></head><body><article>
<h1>Rovers go top after a late winner</h1>
<p>Rovers went top of the league on Saturday after a late winner against United, a result that leaves the
home side two points clear with five rounds to play and the title race open again.</p>
<table><tr><th>Team</th><th>Points</th></tr><tr><td>Rovers</td><td>12</td></tr>
<tr><td>United</td><td>10</td></tr></table>
<p>The next round is on Saturday, when the two leaders meet at the old ground in the north of the city in
front of a crowd that is expected to fill every seat.</p></article></body></html>"""


def test_html_tables_are_kept_as_lines(tmp_path):
    pytest.importorskip("trafilatura")
    page = tmp_path / "pages" / "standings.html"
    page.parent.mkdir()
    page.write_text(STANDINGS, encoding="utf-8")
    invoke("clean", page.parent, "-o", tmp_path / "on.jsonl")
    text = json.loads((tmp_path / "on.jsonl").read_text())["text"]
    assert "Team | Points\nRovers | 12\nUnited | 10" in text and "---" not in text
    invoke("clean", page.parent, "-o", tmp_path / "off.jsonl", "--no-html-tables")
    assert "Rovers | 12" not in json.loads((tmp_path / "off.jsonl").read_text())["text"]
    invoke("run", page.parent, "-o", tmp_path / "run", "--workers", "1", "-q")
    assert "Rovers | 12" in next(iter(archived_records(tmp_path / "run").values()))["text"]
