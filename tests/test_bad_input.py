"""Bad input never stops a run: each bad record becomes a reject with line, reason and raw.

Every test also checks the accounting ``input = output + rejected`` via ``--stats``;
``--strict`` turns the first bad record into exit code 2.
"""
from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import orjson
import pytest

from newsclean.engine.local import BadRecord, clean_records

DAMAGED = "Microsoft?s announcement follows similar statements fromAmazonandIBM. []"
CLEAN = "The council met on Tuesday."
GOOD_1 = {"id": "g1", "text": DAMAGED}
GOOD_2 = {"id": "g2", "text": CLEAN}

BAD_LINES = [
    pytest.param(b"this is not json", "not valid JSON", id="not-json"),
    pytest.param(b'{"id": "b", "text": "unterminated', "not valid JSON", id="cut-json"),
    pytest.param(b"[1, 2, 3]", "array, not an object", id="array"),
    pytest.param(b'"a string"', "not an object", id="string"),
    pytest.param(b"null", "not an object", id="null"),
    pytest.param(b'{"id": "b", "title": "no text here"}', "no text field", id="missing-text"),
    pytest.param(b'{"id": "b", "text": 42}', "not a string", id="int-text"),
    pytest.param(b'{"id": "b", "text": ["a", "b"]}', "not a string", id="list-text"),
    pytest.param(b'{"id": "b", "text": null}', "null", id="null-text"),
    pytest.param(b'{"id": "b", "text": "caf\xe9 au lait"}', "invalid UTF-8", id="invalid-utf8"),
    pytest.param(b'{"id": "b", "text": "a\x00b"}', "NUL", id="nul-byte"),
    pytest.param(b"\x00\x01\x02\x03binary\xff\xfe", "NUL", id="binary-line"),
]


def run_with_stats(cli, tmp_path: Path, *args):
    result = cli("clean", *args, "--stats", tmp_path / "stats.json", "-q")
    stats = json.loads((tmp_path / "stats.json").read_text()) if (tmp_path / "stats.json").exists() else None
    return result, stats


def assert_balanced(stats: dict) -> None:
    assert stats["input_records"] == stats["output_records"] + stats["rejected"]
    assert stats["output_records"] == stats["changed"] + stats["unchanged"]


@pytest.mark.parametrize("bad, reason", BAD_LINES)
def test_bad_line_is_rejected_and_run_continues(cli, write_jsonl, read_jsonl, tmp_path, bad, reason):
    src = write_jsonl([GOOD_1, bad, GOOD_2])
    out = tmp_path / "out.jsonl"
    result, stats = run_with_stats(cli, tmp_path, src, "-o", out)
    assert result.exit_code == 0, result.output
    got = read_jsonl(out)
    assert [r["id"] for r in got] == ["g1", "g2"]
    assert "?s" not in got[0]["text"]
    assert got[1]["text"] == CLEAN
    (rej,) = read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")
    assert set(rej) >= {"source", "line", "reason", "raw"}
    assert rej["source"] == str(src)
    assert rej["line"] == 2
    assert reason in rej["reason"]
    assert rej["raw"] == bad.decode("utf-8", errors="replace")
    assert stats["input_records"] == 3 and stats["rejected"] == 1
    assert_balanced(stats)


@pytest.mark.parametrize("bad, reason", BAD_LINES)
def test_strict_stops_at_first_bad_record(cli, write_jsonl, tmp_path, bad, reason):
    src = write_jsonl([GOOD_1, bad, b"also not json", GOOD_2])
    out = tmp_path / "out.jsonl"
    result = cli("clean", src, "-o", out, "--strict", "-q")
    assert result.exit_code == 2
    assert f"{src}:2" in result.stderr  # the first bad one, not line 3
    assert reason in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()  # atomic output: nothing half-written
    assert not (tmp_path / "out.jsonl.rejects.jsonl").exists()


def test_strict_keeps_existing_output_untouched(cli, write_jsonl, tmp_path):
    src = write_jsonl([GOOD_1, "not json"])
    out = tmp_path / "out.jsonl"
    out.write_text("previous run\n")
    assert cli("clean", src, "-o", out, "--strict", "-q").exit_code == 2
    assert out.read_text() == "previous run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_strict_passes_clean_input(cli, write_jsonl, read_jsonl, tmp_path):
    src = write_jsonl([GOOD_1, GOOD_2])
    out = tmp_path / "out.jsonl"
    assert cli("clean", src, "-o", out, "--strict", "-q").exit_code == 0
    assert len(read_jsonl(out)) == 2


def test_escaped_nul_inside_json_string_is_fine(cli, write_jsonl, read_jsonl, tmp_path):
    src = write_jsonl([b'{"id": "n", "text": "The council\\u0000 met on Tuesday."}'])
    out = tmp_path / "out.jsonl"
    result, stats = run_with_stats(cli, tmp_path, src, "-o", out)
    assert result.exit_code == 0
    (rec,) = read_jsonl(out)
    assert rec["id"] == "n"
    assert stats["rejected"] == 0
    assert not (tmp_path / "out.jsonl.rejects.jsonl").exists()


def test_several_bad_lines_keep_line_numbers(cli, write_jsonl, read_jsonl, tmp_path):
    src = write_jsonl([GOOD_1, "x", "", GOOD_2, "[1]", "   ", b"\xff"])
    out = tmp_path / "out.jsonl"
    result, stats = run_with_stats(cli, tmp_path, src, "-o", out)
    assert result.exit_code == 0
    assert [r["line"] for r in read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")] == [2, 5, 7]
    assert stats["input_records"] == 5  # blank lines are not records
    assert_balanced(stats)


# ------------------------------------------------------------------------ .txt files


def test_binary_txt_file_is_one_reject(cli, read_jsonl, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text(DAMAGED, "utf-8")
    (folder / "b.txt").write_bytes(bytes(range(256)) * 40)  # NUL bytes: binary
    (folder / "c.txt").write_bytes(bytes(range(128, 256)) * 40)  # no NUL, not UTF-8 at all
    (folder / "d.txt").write_text(CLEAN, "utf-8")
    out = tmp_path / "out.jsonl"
    result, stats = run_with_stats(cli, tmp_path, folder, "-o", out)
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in read_jsonl(out)] == ["a", "d"]
    rejects = read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")
    assert [Path(r["source"]).name for r in rejects] == ["b.txt", "c.txt"]
    for rej in rejects:
        assert rej["line"] == 1
        assert "binary" in rej["reason"]
        assert rej["raw"]
    assert stats["input_records"] == 4 and stats["rejected"] == 2
    assert_balanced(stats)


def test_binary_txt_strict(cli, tmp_path):
    src = tmp_path / "image.txt"
    src.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    result = cli("clean", src, "-o", tmp_path / "out.jsonl", "--strict")
    assert result.exit_code == 2
    assert "binary" in result.stderr and "image.txt:1" in result.stderr


# ---------------------------------------------------------------------- empty input


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"], ids=["zero-bytes", "blank-lines"])
def test_empty_input(cli, tmp_path, content):
    src = tmp_path / "empty.jsonl"
    src.write_bytes(content)
    out = tmp_path / "out.jsonl"
    result, stats = run_with_stats(cli, tmp_path, src, "-o", out)
    assert result.exit_code == 0, result.output
    assert out.exists() and out.read_bytes() == b""
    assert not (tmp_path / "out.jsonl.rejects.jsonl").exists()
    assert stats["input_records"] == stats["output_records"] == stats["rejected"] == 0


def test_empty_stdin(cli):
    result = cli("clean", "-q", input=b"")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_empty_gz_output(cli, tmp_path, read_jsonl):
    src = tmp_path / "empty.jsonl"
    src.write_bytes(b"")
    out = tmp_path / "out.jsonl.gz"
    assert cli("clean", src, "-o", out, "-q").exit_code == 0
    assert gzip.decompress(out.read_bytes()) == b""


# ---------------------------------------------------------------------- big records


def test_50_mb_article(cli, tmp_path, read_jsonl):
    # Mostly clean prose with markup damage at both ends, like a huge scraped page.
    # (Lost-character or glued-word damage would also work but makes those stages
    # scan the whole 50 MB several times, which is their cost, not the reader's.)
    para = "The council met on Tuesday and agreed on the budget for next year, the mayor said.\n\n"
    body = para * (50 * 1024 * 1024 // len(para) + 1)
    text = "Read the full report [] here.\n\n" + body + "The mayor [] agreed."
    src = tmp_path / "big.jsonl"
    src.write_bytes(orjson.dumps({"id": "big", "text": text, "tail": "kept"}) + b"\n" + orjson.dumps(GOOD_2) + b"\n")
    assert src.stat().st_size > 50 * 1024 * 1024
    out = tmp_path / "out.jsonl"
    started = time.perf_counter()
    result, stats = run_with_stats(cli, tmp_path, src, "-o", out)
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    big, small = read_jsonl(out)
    assert big["id"] == "big" and big["tail"] == "kept"
    assert len(big["text"]) > 49 * 1024 * 1024
    assert "[]" not in big["text"]
    assert small == GOOD_2
    assert stats["changed"] == 1 and stats["rejected"] == 0
    assert elapsed < 60, f"50 MB article took {elapsed:.1f} s"


def test_record_over_max_bytes_is_rejected(cli, write_jsonl, read_jsonl, tmp_path):
    big = {"id": "big", "text": "word " * 1000}  # ~5 kB
    src = write_jsonl([GOOD_1, big, GOOD_2])
    out = tmp_path / "out.jsonl"
    result, stats = run_with_stats(cli, tmp_path, src, "-o", out, "--max-bytes", "1000")
    assert result.exit_code == 0
    assert [r["id"] for r in read_jsonl(out)] == ["g1", "g2"]
    (rej,) = read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")
    assert rej["line"] == 2
    assert "max-bytes" in rej["reason"]
    assert rej["raw"].startswith('{"id": "big"')
    assert_balanced(stats)

    result = cli("clean", src, "-o", out, "--max-bytes", "1000", "--strict")
    assert result.exit_code == 2
    assert "max-bytes" in result.stderr


def test_reject_raw_is_truncated(cli, write_jsonl, read_jsonl, tmp_path):
    src = write_jsonl([{"id": 1, "title": "x" * 50_000}])
    assert cli("clean", src, "-o", tmp_path / "out.jsonl", "-q").exit_code == 0
    (rej,) = read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")
    assert rej["reason"].startswith("no text field")
    assert len(rej["raw"]) == 10_000


def test_txt_over_max_bytes(cli, read_jsonl, tmp_path):
    src = tmp_path / "long.txt"
    src.write_text(CLEAN * 100, "utf-8")
    out = tmp_path / "out.jsonl"
    result, stats = run_with_stats(cli, tmp_path, src, "-o", out, "--max-bytes", "500")
    assert result.exit_code == 0
    assert read_jsonl(out) == []
    (rej,) = read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")
    assert "max-bytes" in rej["reason"]
    assert_balanced(stats)


# ------------------------------------------------------------ broken compression


def _compress(data: bytes, ext: str) -> bytes:
    if ext == "gz":
        return gzip.compress(data, mtime=0)
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize("ext", ["gz", "zst"])
def test_truncated_compressed_file_keeps_what_was_read(cli, read_jsonl, tmp_path, ext):
    import random

    rng = random.Random(7)  # incompressible-ish text so the cut lands mid-stream
    rows = [{"id": i, "text": " ".join(str(rng.random()) for _ in range(20))} for i in range(2000)]
    data = b"".join(orjson.dumps(r) + b"\n" for r in rows)
    packed = _compress(data, ext)
    src = tmp_path / f"cut.jsonl.{ext}"
    src.write_bytes(packed[: len(packed) * 6 // 10])
    out = tmp_path / "out.jsonl"
    result, stats = run_with_stats(cli, tmp_path, src, "-o", out)
    assert result.exit_code == 0, result.output
    got = read_jsonl(out)
    assert 0 < len(got) < 2000
    assert [r["id"] for r in got] == list(range(len(got)))  # complete records, in order
    assert got == rows[: len(got)]
    (rej,) = read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")
    assert rej["reason"] == "truncated or corrupt compressed stream"
    assert rej["line"] == len(got) + 1
    assert stats["input_records"] == len(got) + 1
    assert_balanced(stats)

    result = cli("clean", src, "-o", out, "--strict", "-q")
    assert result.exit_code == 2
    assert "truncated or corrupt compressed stream" in result.stderr


def test_not_actually_gzip(cli, read_jsonl, tmp_path):
    src = tmp_path / "fake.jsonl.gz"
    src.write_bytes(b'{"id": 1, "text": "plain text, not gzip"}\n')
    out = tmp_path / "out.jsonl"
    result, stats = run_with_stats(cli, tmp_path, src, "-o", out)
    assert result.exit_code == 0
    assert read_jsonl(out) == []
    (rej,) = read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")
    assert rej["reason"] == "truncated or corrupt compressed stream"
    assert_balanced(stats)


# --------------------------------------------------------------- rejects file rules


def test_explicit_rejects_file_is_always_created(cli, write_jsonl, tmp_path):
    src = write_jsonl([GOOD_2])
    rejects = tmp_path / "bad.jsonl"
    assert cli("clean", src, "-o", tmp_path / "out.jsonl", "--rejects", rejects, "-q").exit_code == 0
    assert rejects.read_bytes() == b""


def test_default_rejects_next_to_compressed_output(cli, write_jsonl, read_jsonl, tmp_path):
    src = write_jsonl([GOOD_2, "nope"])
    assert cli("clean", src, "-o", tmp_path / "out.jsonl.zst", "-q").exit_code == 0
    rejects = tmp_path / "out.jsonl.rejects.jsonl"  # .zst stripped, left uncompressed
    assert [r["line"] for r in read_jsonl(rejects)] == [2]


def test_rejects_path_must_not_be_an_input(cli, write_jsonl, tmp_path):
    src = write_jsonl([GOOD_2])
    result = cli("clean", src, "-o", tmp_path / "out.jsonl", "--rejects", src)
    assert result.exit_code == 2
    assert json.loads(src.read_text()) == GOOD_2


# ------------------------------------------------------------------- library API


def test_clean_records_raise_and_keep():
    rows = [{"id": 1, "text": CLEAN}, {"id": 2, "title": "no text"}, {"id": 3, "body": DAMAGED}]
    with pytest.raises(BadRecord) as info:
        list(clean_records(rows))
    assert isinstance(info.value, ValueError)
    assert "no text field" in info.value.reason

    kept = list(clean_records(rows, errors="keep"))
    assert kept[0] == rows[0]
    assert kept[1] == {**rows[1], "_newsclean_error": kept[1]["_newsclean_error"]}
    assert "no text field" in kept[1]["_newsclean_error"]
    assert "?s" not in kept[2]["body"]
    assert rows[2]["body"] == DAMAGED  # inputs are not modified
    assert "_newsclean_error" not in rows[1]


def test_clean_records_non_string_text():
    with pytest.raises(BadRecord, match="not a string"):
        list(clean_records([{"text": 3}]))
    with pytest.raises(BadRecord, match="not an object"):
        list(clean_records([["text"]]))  # type: ignore[list-item]
