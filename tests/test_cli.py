"""End-to-end tests of ``newsclean clean`` through typer's CliRunner (and a real subprocess).

Cleaning stages are tuned concurrently, so damaged text is only checked for robust
facts ("?s" and "[]" gone); exact comparisons use already-clean text.
"""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import newsclean
from newsclean.cli import app

DAMAGED = "Microsoft?s announcement follows similar statements fromAmazonandIBM. []"
CLEAN = "The council met on Tuesday."

from conftest import STATS_KEYS  # noqa: E402


def assert_cleaned(text: str) -> None:
    assert "?s" not in text
    assert "[]" not in text
    assert "Microsoft" in text


# --------------------------------------------------------------------- JSONL in/out


def test_jsonl_in_out_keeps_ids_order_and_fields(cli, write_jsonl, read_jsonl, records, tmp_path):
    src = write_jsonl(records)
    out = tmp_path / "out.jsonl"
    result = cli("clean", src, "-o", out)
    assert result.exit_code == 0, result.output
    got = read_jsonl(out)
    assert [r["id"] for r in got] == ["a1", 2, "a3", "a4"]
    for before, after in zip(records, got, strict=True):
        assert list(after) == list(before)  # same keys, same order
        assert {k: v for k, v in after.items() if k != "text"} == {
            k: v for k, v in before.items() if k != "text"
        }
    assert_cleaned(got[0]["text"])
    assert got[1]["text"] == CLEAN
    assert got[2]["text"] == ""
    assert got[3]["text"].startswith(CLEAN)
    assert not (tmp_path / "out.jsonl.rejects.jsonl").exists()  # no rejects, no file
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # temp file renamed


def test_non_ascii_is_written_as_utf8(cli, write_jsonl, tmp_path):
    src = write_jsonl([{"id": 1, "text": "Café in Zürich — 東京."}])
    out = tmp_path / "out.jsonl"
    assert cli("clean", src, "-o", out, "-q").exit_code == 0
    raw = out.read_bytes()
    assert "Zürich — 東京".encode() in raw
    assert b"\\u" not in raw


def test_exotic_json_values_pass_through_exactly(cli, write_jsonl, tmp_path):
    # orjson rounds ints beyond 64 bits and refuses NaN: such lines must still round trip.
    big = '{"id":1,"text":"The council met on Tuesday.","n":123456789012345678901234567890}'
    nan = '{"id":2,"text":"The council met on Tuesday.","x":NaN,"y":-Infinity}'
    src = write_jsonl([big, nan])
    out = tmp_path / "out.jsonl"
    assert cli("clean", src, "-o", out, "-q").exit_code == 0
    lines = out.read_text("utf-8").splitlines()
    assert lines[0] == big
    assert lines[1] == nan


@pytest.mark.parametrize("field", ["maintext", "content", "body"])
def test_text_field_aliases(cli, write_jsonl, read_jsonl, tmp_path, field):
    src = write_jsonl([{"id": 1, field: DAMAGED, "title": "T"}, {"id": 2, field: CLEAN}])
    out = tmp_path / "out.jsonl"
    assert cli("clean", src, "-o", out, "-q").exit_code == 0
    got = read_jsonl(out)
    assert all("text" not in r for r in got)  # written back to the field it came from
    assert_cleaned(got[0][field])
    assert got[0]["title"] == "T"
    assert got[1][field] == CLEAN


def test_first_alias_present_wins(cli, write_jsonl, read_jsonl, tmp_path):
    src = write_jsonl([{"id": 1, "body": DAMAGED, "text": CLEAN}])
    out = tmp_path / "out.jsonl"
    assert cli("clean", src, "-o", out, "-q").exit_code == 0
    (rec,) = read_jsonl(out)
    assert rec["text"] == CLEAN
    assert rec["body"] == DAMAGED  # untouched: "text" comes first


def test_text_field_option_overrides(cli, write_jsonl, read_jsonl, tmp_path):
    src = write_jsonl([{"id": 1, "text": DAMAGED, "summary": DAMAGED}])
    out = tmp_path / "out.jsonl"
    assert cli("clean", src, "-o", out, "--text-field", "summary", "-q").exit_code == 0
    (rec,) = read_jsonl(out)
    assert_cleaned(rec["summary"])
    assert rec["text"] == DAMAGED


def test_id_aliases_and_missing_id(cli, write_jsonl, read_jsonl, tmp_path):
    rows = [
        {"doc_id": "d", "text": CLEAN},
        {"url": "https://example.com/x", "text": CLEAN},
        {"text": CLEAN, "lang": "en"},
        {"ref": "r9", "text": "x", "bad": 1},
    ]
    src = write_jsonl(rows)
    out = tmp_path / "out.jsonl"
    assert cli("clean", src, "-o", out, "-q").exit_code == 0
    got = read_jsonl(out)
    assert got[0] == rows[0]
    assert got[1] == rows[1]  # no id invented when an alias exists
    assert got[2] == {"id": "in.jsonl:3", "text": CLEAN, "lang": "en"}
    assert got[3]["id"] == "in.jsonl:4"

    out2 = tmp_path / "out2.jsonl"
    assert cli("clean", src, "-o", out2, "-q", "--id-field", "ref").exit_code == 0
    got2 = read_jsonl(out2)
    assert got2[3] == rows[3]
    assert got2[0]["ref"] == "in.jsonl:1"  # --id-field names the field that is added


def test_rejects_use_id_field(cli, write_jsonl, read_jsonl, tmp_path):
    src = write_jsonl([{"ref": "r1", "text": 3}, {"text": 4}])
    out = tmp_path / "out.jsonl"
    assert cli("clean", src, "-o", out, "-q", "--id-field", "ref").exit_code == 0
    rejects = read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")
    assert [r["id"] for r in rejects] == ["r1", f"{src}:2"]


# --------------------------------------------------------------------- compression


@pytest.mark.parametrize("in_ext", ["jsonl", "jsonl.gz", "jsonl.zst"])
@pytest.mark.parametrize("out_ext", ["jsonl", "jsonl.gz", "jsonl.zst"])
def test_compression_round_trip(cli, write_jsonl, read_jsonl, records, tmp_path, in_ext, out_ext):
    src = write_jsonl(records, f"in.{in_ext}")
    out = tmp_path / f"out.{out_ext}"
    result = cli("clean", src, "-o", out, "-q")
    assert result.exit_code == 0, result.output
    got = read_jsonl(out)
    assert [r["id"] for r in got] == [r["id"] for r in records]
    assert_cleaned(got[0]["text"])
    assert got[1]["text"] == CLEAN
    if out_ext.endswith(".gz"):
        assert out.read_bytes()[:2] == b"\x1f\x8b"
    if out_ext.endswith(".zst"):
        assert out.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"


def test_output_is_deterministic(cli, write_jsonl, records, tmp_path):
    src = write_jsonl(records)
    a, b = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    assert cli("clean", src, "-o", a, "-q").exit_code == 0
    assert cli("clean", src, "-o", b, "-q").exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_compressed_stdin_is_sniffed(cli, records):
    data = gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode())
    result = cli("clean", "-q", input=data)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a1", 2, "a3", "a4"]


# ----------------------------------------------------------------------- txt inputs


def test_single_txt_file(cli, read_jsonl, tmp_path):
    src = tmp_path / "story.txt"
    src.write_text(DAMAGED + "\n", "utf-8")
    out = tmp_path / "out.jsonl"
    assert cli("clean", src, "-o", out, "-q").exit_code == 0
    (rec,) = read_jsonl(out)
    assert rec["id"] == "story"
    assert rec["source"] == str(src)
    assert_cleaned(rec["text"])


def test_folder_of_txt_and_jsonl(cli, write_jsonl, read_jsonl, tmp_path):
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text(CLEAN, "utf-8")
    (folder / "sub" / "a.txt").write_text(DAMAGED, "utf-8")
    (folder / "a.txt").write_text(CLEAN, "utf-8")
    (folder / "notes.md").write_text("ignored", "utf-8")
    (folder / ".hidden.txt").write_text("ignored", "utf-8")
    write_jsonl([{"id": "j1", "text": CLEAN}, {"id": "j2", "text": DAMAGED}], "corpus/c.jsonl.gz")
    out = tmp_path / "out.jsonl"
    result = cli("clean", folder, "-o", out, "-q")
    assert result.exit_code == 0, result.output
    got = read_jsonl(out)
    # Sorted by path: a.txt, b.txt, c.jsonl.gz, sub/a.txt.
    assert [r["id"] for r in got] == ["a", "b", "j1", "j2", "sub/a"]
    assert got[0]["text"] == CLEAN
    assert_cleaned(got[3]["text"])
    assert_cleaned(got[4]["text"])


def test_txt_in_legacy_encoding_is_decoded(cli, read_jsonl, tmp_path):
    src = tmp_path / "old.txt"
    src.write_bytes("The café’s council met on Tuesday.".encode("cp1252"))
    out = tmp_path / "out.jsonl"
    assert cli("clean", src, "-o", out, "-q").exit_code == 0
    (rec,) = read_jsonl(out)
    assert "café" in rec["text"]


# ------------------------------------------------------------------- stdin / stdout


def test_stdin_to_stdout(cli, records, tmp_path):
    data = "".join(json.dumps(r) + "\n" for r in records)
    for args in (["clean"], ["clean", "-"]):
        result = cli(*args, "-q", input=data)
        assert result.exit_code == 0, result.output
        got = [json.loads(line) for line in result.stdout.splitlines()]
        assert [r["id"] for r in got] == ["a1", 2, "a3", "a4"]
        assert_cleaned(got[0]["text"])
        assert result.stderr == ""
    assert not (tmp_path / "newsclean.rejects.jsonl").exists()  # only created if needed


def test_stdout_rejects_go_to_cwd(cli, read_jsonl, tmp_path):
    result = cli("clean", "-q", input='{"id":1,"text":"The council met on Tuesday."}\nnot json\n')
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 1
    (rej,) = read_jsonl(tmp_path / "newsclean.rejects.jsonl")
    assert rej["source"] == "<stdin>"
    assert rej["line"] == 2
    assert rej["id"] == "<stdin>:2"


def test_output_dash_means_stdout(cli, write_jsonl, tmp_path):
    src = write_jsonl([{"id": 1, "text": CLEAN}])
    result = cli("clean", src, "-o", "-", "-q")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"id": 1, "text": CLEAN}
    assert not (tmp_path / "-").exists()


# --------------------------------------------------------------- --diff / --explain


def test_diff_shows_changes_and_writes_nothing(cli, write_jsonl, records, tmp_path):
    src = write_jsonl(records)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli("clean", src, "--diff", "-q")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    out = result.stdout
    assert "--- a1 (original)" in out and "+++ a1 (cleaned)" in out
    assert "--- a4 (original)" in out
    assert "--- 2 (original)" not in out  # unchanged records are not shown
    minus = [line for line in out.splitlines() if line.startswith("-") and not line.startswith("---")]
    plus = [line for line in out.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert any("Microsoft?s" in line for line in minus)
    assert plus and not any("?s" in line for line in plus)
    assert "{" not in out  # no JSON records


def test_diff_refuses_output_option(cli, write_jsonl, tmp_path):
    src = write_jsonl([{"id": 1, "text": CLEAN}])
    result = cli("clean", src, "--diff", "-o", tmp_path / "x.jsonl")
    assert result.exit_code == 2
    assert "--diff" in result.stderr
    assert not (tmp_path / "x.jsonl").exists()


def test_explain_adds_edits(cli, write_jsonl, read_jsonl, tmp_path):
    src = write_jsonl([{"id": 1, "text": DAMAGED}, {"id": 2, "text": CLEAN}])
    out = tmp_path / "out.jsonl"
    assert cli("clean", src, "-o", out, "--explain", "-q").exit_code == 0
    damaged, clean = read_jsonl(out)
    assert damaged["edits"], "damaged text must have edits"
    for edit in damaged["edits"]:
        assert set(edit) == {"stage", "what", "start", "end", "before", "after"}
        assert isinstance(edit["start"], int) and edit["start"] <= edit["end"]
    assert any(e["before"] == "?" or "?" in e["before"] for e in damaged["edits"])
    assert clean["edits"] == []
    assert clean["text"] == CLEAN


def test_without_explain_no_edits_field(cli, write_jsonl, read_jsonl, tmp_path):
    src = write_jsonl([{"id": 1, "text": DAMAGED}])
    out = tmp_path / "out.jsonl"
    assert cli("clean", src, "-o", out, "-q").exit_code == 0
    assert "edits" not in read_jsonl(out)[0]


# ---------------------------------------------------------------- --stats / summary


def test_stats_json(cli, write_jsonl, stats_of, records, tmp_path):
    src = write_jsonl([*records, "not json"])
    out = tmp_path / "out.jsonl"
    assert cli("clean", src, "-o", out, "--stats", tmp_path / "stats.json", "-q").exit_code == 0
    stats = stats_of()
    assert set(stats) == STATS_KEYS
    assert stats["input_records"] == 5
    assert stats["output_records"] == 4
    assert stats["rejected"] == 1
    assert stats["changed"] == 2  # a1 and a4 are damaged
    assert stats["unchanged"] == 2
    assert stats["input_records"] == stats["output_records"] + stats["rejected"]
    assert stats["edits_by_stage"].get("lost_chars", 0) >= 2
    assert all(isinstance(n, int) for n in stats["edits_by_stage"].values())
    assert stats["seconds"] >= 0 and stats["docs_per_second"] >= 0


def test_summary_on_stderr(cli, write_jsonl, records, tmp_path):
    src = write_jsonl([*records, "[1]"])
    out = tmp_path / "out.jsonl"
    result = cli("clean", src, "-o", out)
    assert result.exit_code == 0
    err = result.stderr
    for word in ("cleaned, changed", "cleaned, unchanged", "rejected", "lost_chars", "records/s"):
        assert word in err
    assert "out.jsonl.rejects.jsonl" in err
    assert result.stdout == ""


def test_quiet_suppresses_summary(cli, write_jsonl, records, tmp_path):
    src = write_jsonl(records)
    result = cli("clean", src, "-o", tmp_path / "out.jsonl", "--quiet")
    assert result.exit_code == 0
    assert result.stderr == ""


# ---------------------------------------------------------------- arguments / misc


def test_help_and_version(cli):
    result = cli("--help")
    assert result.exit_code == 0
    assert "clean" in result.stdout
    result = cli("clean", "--help")
    assert result.exit_code == 0
    for option in ("--output", "--diff", "--explain", "--stats", "--strict", "--rejects", "--max-bytes"):
        assert option in result.stdout
    result = cli("--version")
    assert result.exit_code == 0
    assert newsclean.__version__ in result.stdout


def test_missing_input_is_a_clear_error(cli, tmp_path):
    result = cli("clean", tmp_path / "nope.jsonl", "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 2
    assert "not found" in result.stderr and "nope.jsonl" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.jsonl").exists()


def test_refuses_output_equal_to_input(cli, write_jsonl, tmp_path):
    src = write_jsonl([{"id": 1, "text": DAMAGED}])
    before = src.read_bytes()
    result = cli("clean", src, "-o", src)
    assert result.exit_code == 2
    assert "input" in result.stderr
    assert src.read_bytes() == before
    # Also through another spelling of the same path.
    result = cli("clean", src, "-o", tmp_path / "." / src.name)
    assert result.exit_code == 2


def test_missing_output_folder_is_a_clear_error(cli, write_jsonl, tmp_path):
    src = write_jsonl([{"id": 1, "text": CLEAN}])
    result = cli("clean", src, "-o", tmp_path / "no" / "such" / "out.jsonl")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_accounting_mismatch_exits_3(cli, write_jsonl, tmp_path, monkeypatch):
    import newsclean.engine.local as local

    real = local.run_clean

    def lossy(*args, **kwargs):  # a buggy engine that drops the first outcome
        outcomes = real(*args, **kwargs)
        next(outcomes)
        yield from outcomes

    monkeypatch.setattr(local, "run_clean", lossy)
    src = write_jsonl([{"id": 1, "text": CLEAN}, {"id": 2, "text": CLEAN}])
    result = cli("clean", src, "-o", tmp_path / "out.jsonl", "-q")
    assert result.exit_code == 3
    assert "mismatch" in result.stderr


# ------------------------------------------------------------------ real processes


def _run(args: list[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "newsclean", *args], input=stdin, capture_output=True, cwd=cwd, env=env, timeout=120
    )


def test_subprocess_file_to_file(write_jsonl, read_jsonl, records, tmp_path):
    src = write_jsonl(records, "in.jsonl.gz")
    proc = _run(["clean", str(src), "-o", "out.jsonl.zst", "--stats", "stats.json"], tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    got = read_jsonl(tmp_path / "out.jsonl.zst")
    assert [r["id"] for r in got] == ["a1", 2, "a3", "a4"]
    assert_cleaned(got[0]["text"])
    assert b"records/s" in proc.stderr
    assert json.loads((tmp_path / "stats.json").read_text())["output_records"] == 4


def test_subprocess_pipe_and_help(tmp_path):
    data = (json.dumps({"id": "x", "text": CLEAN}) + "\n").encode()
    proc = _run(["clean", "-q"], tmp_path, stdin=data)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout) == {"id": "x", "text": CLEAN}
    proc = _run(["--help"], tmp_path)
    assert proc.returncode == 0
    assert b"clean" in proc.stdout
    proc = _run(["clean", "missing.jsonl"], tmp_path)
    assert proc.returncode == 2
    assert b"Traceback" not in proc.stderr


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys; from newsclean import cli; "
        "heavy = [m for m in ('ftfy', 'wordfreq', 'rich') if m in sys.modules]; "
        "print(heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_app_object_is_typer():
    import typer

    assert isinstance(app, typer.Typer)
