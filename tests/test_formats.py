"""Corpus formats: CSV/TSV, HTML pages, Parquet — every row accounted for."""
from __future__ import annotations

import builtins
import gzip
import json

import pytest
from typer.testing import CliRunner

from newsclean.cli import app

runner = CliRunner()

PAGE = """<!DOCTYPE html><html><head><title>Council backs bridge repairs</title>
<meta property="og:url" content="https://news.example.com/bridge">
<meta name="date" content="2024-03-05"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article><h1>Council backs bridge repairs</h1>
<p>The city council voted on Tuesday to close the old bridge over the river for repairs that
engineers say are long overdue, and the work is expected to last eight months.</p>
<p>Residents have complained for years about cracks in the road surface and rust on the railings,
and a survey last spring found that the supports were weakening faster than expected.</p>
<p>The council&#8217;s leader said the closure would be painful but necessary for everyone.</p>
</article><footer>Copyright 2024 Example News. Share on Facebook.</footer>
<script>trackPageView();</script></body></html>"""


def _clean(tmp_path, path, *extra):
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    res = runner.invoke(app, ["clean", str(path), "-o", str(out), "--rejects", str(rej), "-q", *extra])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    rejects = [json.loads(line) for line in rej.read_text(encoding="utf-8").splitlines()]
    return rows, rejects


def test_csv_rows_with_quoted_newlines_and_a_bad_row(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text(
        'id,title,text\n'
        '1,First,"Microsoft?s plan,\nsecond line"\n'
        '2,Broken row\n'
        '3,Third,"It?s fine"\n',
        encoding="utf-8",
    )
    rows, rejects = _clean(tmp_path, path)
    assert [r["id"] for r in rows] == ["1", "3"]
    assert rows[0]["text"] == "Microsoft’s plan,\nsecond line" and rows[0]["title"] == "First"
    assert len(rejects) == 1 and rejects[0]["line"] == 4 and "2 fields" in rejects[0]["reason"]


def test_tsv_gz(tmp_path):
    path = tmp_path / "news.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("doc_id\tcontent\na\tfromAmazonandIBM today\n")
    rows, rejects = _clean(tmp_path, path)
    assert rows == [{"doc_id": "a", "content": "from Amazon and IBM today"}] and rejects == []


def test_csv_invalid_utf8_refuses_the_rest(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"id,text\n1,good\n2,bad \xff byte\n")
    rows, rejects = _clean(tmp_path, path)
    assert [r["id"] for r in rows] == ["1"]
    assert "invalid UTF-8" in rejects[0]["reason"]


def test_html_page_with_trafilatura(tmp_path):
    pytest.importorskip("trafilatura")
    path = tmp_path / "bridge.html"
    path.write_text(PAGE, encoding="utf-8")
    rows, rejects = _clean(tmp_path, path)
    assert rejects == [] and len(rows) == 1
    rec = rows[0]
    assert rec["id"] == "bridge" and rec["extraction"] == "trafilatura"
    assert rec["title"] == "Council backs bridge repairs"
    assert "council’s leader" in rec["text"] and "trackPageView" not in rec["text"]
    assert "Home" not in rec["text"].split()  # navigation is not article text


def test_html_page_without_trafilatura_uses_page_text(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_trafilatura(name, *args, **kwargs):
        if name == "trafilatura":
            raise ImportError("not installed")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_trafilatura)
    path = tmp_path / "bridge.htm"
    path.write_text(PAGE, encoding="utf-8")
    rows, rejects = _clean(tmp_path, path)
    assert rejects == [] and "page text" in rows[0]["extraction"]
    assert "council’s leader" in rows[0]["text"] and "trackPageView" not in rows[0]["text"]


def test_parquet_in(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "news.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "maintext": ["Microsoft?s view", None], "n": [1, 2]}), path)
    rows, rejects = _clean(tmp_path, path)
    assert rows == [{"id": "a", "maintext": "Microsoft’s view", "n": 1}]
    assert len(rejects) == 1 and rejects[0]["line"] == 2 and "null" in rejects[0]["reason"]


def test_parquet_without_text_column(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "notext.parquet"
    pq.write_table(pa.table({"id": ["a"], "headline": ["x"]}), path)
    rows, rejects = _clean(tmp_path, path)
    assert rows == [] and "no text field" in rejects[0]["reason"]


def test_parquet_without_text_column_names_the_option(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "notext.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "headline": ["x", "y"], "body_html": ["<p>x</p>", None]}), path)
    rows, rejects = _clean(tmp_path, path)
    assert rows == [] and [r["line"] for r in rejects] == [1, 2]  # every row accounted for
    assert all("no text field" in r["reason"] and "--text-field" in r["reason"] for r in rejects)
    rows, rejects = _clean(tmp_path, path, "--text-field", "headline")
    assert [r["headline"] for r in rows] == ["x", "y"] and rejects == []


# -------------------------------------------------------------------------- WARC
# WARC files are written by hand here: records are plain bytes, so every kind of
# damage can be made exactly.

WARC_DATE = "2024-03-05T10:00:00Z"
NO_DATE_PAGE = (
    "<html><head><title>Harbour reopens</title></head><body><article><p>"
    + "The harbour reopened to fishing boats on Monday after the storm damage was repaired. " * 6
    + "</p></article></body></html>"
)


def warc_record(kind: str, block: bytes, uri: str | None = None, *, rid: str = "", length: int | None = None) -> bytes:
    ctype = {
        "response": "application/http; msgtype=response",
        "request": "application/http; msgtype=request",
    }.get(kind, "application/warc-fields")
    head = [
        "WARC/1.0",
        f"WARC-Type: {kind}",
        f"WARC-Record-ID: <urn:uuid:{rid or '00000000-0000-0000-0000-' + format(abs(hash((kind, uri))) % 10**12, '012d')}>",
        f"WARC-Date: {WARC_DATE}",
        *([f"WARC-Target-URI: {uri}"] if uri else []),
        f"Content-Type: {ctype}",
        f"Content-Length: {len(block) if length is None else length}",
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + block + b"\r\n\r\n"


def http_response(body: bytes, ctype: str | None = "text/html; charset=utf-8", status: str = "200 OK", extra: str = "") -> bytes:
    lines = [f"HTTP/1.1 {status}", *([f"Content-Type: {ctype}"] if ctype else []), f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode() + body


def page_response(uri: str, page: str = PAGE) -> bytes:
    return warc_record("response", http_response(page.encode("utf-8")), uri)


def write_warc(path, records: list[bytes], packing: str = "per-record") -> None:
    if packing == "per-record":  # how crawlers write .warc.gz: one gzip member per record
        path.write_bytes(b"".join(gzip.compress(r, mtime=0) for r in records))
    elif packing == "whole":
        path.write_bytes(gzip.compress(b"".join(records), mtime=0))
    else:
        path.write_bytes(b"".join(records))


def _clean_stats(tmp_path, path, *extra):
    stats_path = tmp_path / "stats.json"
    rows, rejects = _clean(tmp_path, path, "--stats", str(stats_path), *extra)
    stats = json.loads(stats_path.read_text())
    assert stats["input_records"] == stats["output_records"] + stats["rejected"]
    return rows, rejects, stats


def _mixed_warc() -> list[bytes]:
    return [
        warc_record("warcinfo", b"software: hand-made\r\nformat: WARC File Format 1.0\r\n"),  # 1
        warc_record("request", b"GET /bridge HTTP/1.1\r\nHost: news.example.com\r\n\r\n", "https://news.example.com/bridge"),
        page_response("https://news.example.com/bridge"),  # 3: the article
        warc_record("metadata", b"via: https://news.example.com/\r\n", "https://news.example.com/bridge"),
        warc_record("response", http_response(b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image/png"), "https://news.example.com/logo.png"),  # 5
        warc_record("response", http_response(b"User-agent: *\nDisallow:\n", "text/plain"), "https://news.example.com/robots.txt"),  # 6
        warc_record("response", http_response(b"<html><body>Moved</body></html>", status="301 Moved Permanently",
                                              extra="Location: https://news.example.com/x\r\n"), "https://news.example.com/old"),  # 7
        warc_record("response", http_response(b'{"a": 1}', "application/json"), "https://news.example.com/api"),  # 8
        page_response("https://news.example.com/harbour", NO_DATE_PAGE),  # 9: no date in the page
    ]


@pytest.mark.parametrize("packing", ["per-record", "whole", "plain"])
def test_warc_html_responses_become_articles(tmp_path, packing):
    pytest.importorskip("warcio")
    pytest.importorskip("trafilatura")
    path = tmp_path / ("crawl.warc" if packing == "plain" else "crawl.warc.gz")
    write_warc(path, _mixed_warc(), packing)
    rows, rejects, stats = _clean_stats(tmp_path, path)
    # Every response record is an input record; warcinfo/request/metadata are not.
    assert stats["input_records"] == 6
    bridge, harbour = rows
    assert bridge["id"] == bridge["url"] == "https://news.example.com/bridge"
    assert bridge["title"] == "Council backs bridge repairs" and bridge["date"] == "2024-03-05"
    assert bridge["source"] == str(path) and "council’s leader" in bridge["text"]
    assert "trackPageView" not in bridge["text"] and bridge["extraction"] == "trafilatura"
    assert harbour["url"] == "https://news.example.com/harbour" and harbour["date"] == "2024-03-05"  # WARC-Date
    assert harbour["title"] == "Harbour reopens"
    assert [(r["line"], r["reason"]) for r in rejects] == [
        (5, "WARC response is not HTML (image/png)"),
        (6, "WARC response is not HTML (text/plain)"),
        (7, "WARC response is HTTP 301, not a page"),
        (8, "WARC response is not HTML (application/json)"),
    ]
    assert "https://news.example.com/logo.png" in rejects[0]["raw"]  # the headers say which page


def test_warc_strict_stops_at_a_non_html_response(tmp_path):
    pytest.importorskip("warcio")
    path = tmp_path / "crawl.warc.gz"
    write_warc(path, _mixed_warc())
    res = runner.invoke(app, ["clean", str(path), "-o", str(tmp_path / "out.jsonl"), "--strict", "-q"])
    assert res.exit_code == 2 and "crawl.warc.gz:5: WARC response is not HTML (image/png)" in res.stderr


def test_warc_chunked_gzip_body_and_record_id(tmp_path):
    pytest.importorskip("warcio")
    body = gzip.compress(NO_DATE_PAGE.encode("utf-8"), mtime=0)
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    block = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Encoding: gzip\r\n\r\n" + chunked
    )
    rid = "11111111-2222-3333-4444-555555555555"
    # A response that is not HTTP (no target URI): its WARC Content-Type decides.
    plain = warc_record("response", NO_DATE_PAGE.encode(), rid=rid).replace(
        b"application/http; msgtype=response", b"text/html"
    )
    path = tmp_path / "enc.warc"
    write_warc(path, [warc_record("response", block, "https://news.example.com/enc"), plain], "plain")
    rows, rejects, _ = _clean_stats(tmp_path, path)
    assert rejects == [] and len(rows) == 2
    assert "harbour reopened" in rows[0]["text"] and rows[0]["id"] == "https://news.example.com/enc"
    assert rows[1]["id"] == f"<urn:uuid:{rid}>" and "url" not in rows[1]


def test_warc_truncated_gz_keeps_the_records_before(tmp_path):
    pytest.importorskip("warcio")
    import random

    rng = random.Random(5)  # incompressible-ish pages so the cut lands inside a record
    pages = [
        "<html><body><article><p>" + " ".join(str(rng.random()) for _ in range(300)) + "</p></article></body></html>"
        for _ in range(40)
    ]
    records = [page_response(f"https://news.example.com/{i}", p) for i, p in enumerate(pages)]
    packed = b"".join(gzip.compress(r, mtime=0) for r in records)
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(packed[: len(packed) * 6 // 10])
    rows, rejects, stats = _clean_stats(tmp_path, path)
    assert 0 < len(rows) < 40
    assert [r["url"] for r in rows] == [f"https://news.example.com/{i}" for i in range(len(rows))]
    (rej,) = rejects
    assert rej["reason"] == "truncated or corrupt compressed stream"
    assert rej["line"] == len(rows) + 1
    assert stats["input_records"] == len(rows) + 1


def test_warc_cut_inside_a_plain_record(tmp_path):
    pytest.importorskip("warcio")
    data = page_response("https://news.example.com/bridge") + page_response("https://news.example.com/harbour", NO_DATE_PAGE)
    path = tmp_path / "cut.warc"
    path.write_bytes(data[:-300])
    rows, rejects, stats = _clean_stats(tmp_path, path)
    assert [r["url"] for r in rows] == ["https://news.example.com/bridge"]
    (rej,) = rejects
    assert rej["line"] == 2 and "cut short" in rej["reason"] and "bytes before its end" in rej["reason"]
    assert stats["input_records"] == 2


@pytest.mark.parametrize("name, data", [
    ("empty.warc", b""),
    ("empty.warc.gz", b""),
    ("empty-member.warc.gz", gzip.compress(b"", mtime=0)),
    ("info-only.warc", warc_record("warcinfo", b"software: x\r\n")),
])
def test_empty_warc(tmp_path, name, data):
    pytest.importorskip("warcio")
    path = tmp_path / name
    path.write_bytes(data)
    rows, rejects, stats = _clean_stats(tmp_path, path)
    assert rows == [] and rejects == [] and stats["input_records"] == 0


def test_warc_record_over_max_bytes(tmp_path):
    pytest.importorskip("warcio")
    huge = PAGE.replace("</article>", "<p>" + "Many more words about the bridge. " * 3000 + "</p></article>")
    records = [
        page_response("https://news.example.com/huge", huge),
        page_response("https://news.example.com/bridge"),
    ]
    path = tmp_path / "big.warc.gz"
    write_warc(path, records)
    rows, rejects, stats = _clean_stats(tmp_path, path, "--max-bytes", "20000")
    assert [r["url"] for r in rows] == ["https://news.example.com/bridge"]
    (rej,) = rejects
    assert rej["line"] == 1 and "over the --max-bytes limit of 20,000" in rej["reason"]
    assert stats["input_records"] == 2


def test_warc_body_over_max_bytes_once_decoded(tmp_path):
    pytest.importorskip("warcio")
    # 50 KB of page that gzips to well under the limit: the decoded size counts too.
    page = PAGE.replace("</article>", "<p>" + "bridge " * 7000 + "</p></article>").encode()
    body = gzip.compress(page, mtime=0)
    block = http_response(body, extra="Content-Encoding: gzip\r\n")
    path = tmp_path / "bomb.warc"
    write_warc(path, [warc_record("response", block, "https://news.example.com/z")], "plain")
    assert len(block) < 20_000 < len(page)
    rows, rejects, _ = _clean_stats(tmp_path, path, "--max-bytes", "20000")
    assert rows == [] and "once decoded" in rejects[0]["reason"]


def test_warc_decompression_bomb_is_refused(tmp_path, monkeypatch):
    pytest.importorskip("warcio")
    from newsclean.io import compression as readers

    # The guard of the gzip readers, at a scale a test can afford.
    monkeypatch.setattr(readers, "EXPANSION_FLOOR", 1 << 20)
    monkeypatch.setattr(readers, "MAX_EXPANSION", 100)
    zeros = warc_record("response", http_response(b"0" * (4 << 20)), "https://news.example.com/zeros")
    path = tmp_path / "bomb.warc.gz"
    write_warc(path, [page_response("https://news.example.com/bridge"), zeros])
    assert path.stat().st_size < 100_000
    rows, rejects, stats = _clean_stats(tmp_path, path)
    assert [r["url"] for r in rows] == ["https://news.example.com/bridge"]
    (rej,) = rejects
    assert rej["line"] == 2 and "decompression bomb" in rej["reason"]
    assert stats["input_records"] == 2


def test_not_a_warc(tmp_path):
    pytest.importorskip("warcio")
    path = tmp_path / "notes.warc"
    path.write_text("just some notes\nnot an archive\n")
    rows, rejects, _ = _clean_stats(tmp_path, path)
    assert rows == [] and len(rejects) == 1
    assert rejects[0]["reason"].startswith("not a WARC file") and "refused" in rejects[0]["reason"]


def test_arc_file(tmp_path):
    pytest.importorskip("warcio")
    http = http_response(NO_DATE_PAGE.encode())
    desc = b"1 0 Example\nURL IP-address Archive-date Content-type Archive-length\n"
    data = (
        f"filedesc://old.arc 0.0.0.0 20240305100000 text/plain {len(desc)}\n".encode() + desc + b"\n"
        + f"http://news.example.com/arc 192.0.2.1 20240305100000 text/html {len(http)}\n".encode() + http + b"\n"
    )
    path = tmp_path / "old.arc"
    path.write_bytes(data)
    rows, rejects, _ = _clean_stats(tmp_path, path)
    assert rejects == [] and rows[0]["url"] == "http://news.example.com/arc" and rows[0]["date"] == "2024-03-05"


def test_warc_in_a_folder(tmp_path):
    pytest.importorskip("warcio")
    folder = tmp_path / "crawl"
    folder.mkdir()
    write_warc(folder / "a.warc.gz", [page_response("https://news.example.com/bridge")])
    rows, rejects, _ = _clean_stats(tmp_path, folder)
    assert [r["url"] for r in rows] == ["https://news.example.com/bridge"] and rejects == []


def test_warc_without_warcio(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_warcio(name, *args, **kwargs):
        if name.startswith("warcio"):
            raise ImportError("not installed")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_warcio)
    path = tmp_path / "crawl.warc.gz"
    write_warc(path, [page_response("https://news.example.com/bridge")])
    rows, rejects, _ = _clean_stats(tmp_path, path)
    assert rows == [] and "[warc] extra" in rejects[0]["reason"]


# ------------------------------------------------------------------ Parquet output

MIXED_RECORDS = [
    {"id": "a1", "text": "Microsoft?s plan fromAmazonandIBM", "meta": {"tags": ["tech"], "score": 0.5}},
    {"id": 2, "text": "The council met on Tuesday.", "published": "2020-06-11", "authors": ["A. B."]},
    {"id": "a3", "text": "Plain.", "n": 1, "ratio": 2},
    {"id": "a4", "text": "Also plain.", "n": 7, "ratio": 0.25, "flag": True, "null_field": None},
    {"id": "a5", "text": "Late field.", "big": 123456789012345678901234567890, "late": "only here"},
]


def _read_back(path):
    from newsclean.io.readers import expand_inputs, read_inputs

    items = list(read_inputs(expand_inputs([str(path)])))
    assert all(i.error is None for i in items)
    return [i.record for i in items]


def _filled(records):
    """Records as Parquet gives them back: every column in every row (absent = null)."""
    names = list(dict.fromkeys(k for r in records for k in r))
    return [{k: r.get(k) for k in names} for r in records]


def test_parquet_writer_union_schema_and_row_groups(tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newsclean.io.writers import ParquetWriter

    path = tmp_path / "out.parquet"
    w = ParquetWriter(path, rows_per_group=2).open()
    for r in MIXED_RECORDS:
        w.write_record(r)
    assert not path.exists()  # nothing appears before commit
    w.commit()
    f = pq.ParquetFile(path)
    assert f.metadata.num_row_groups == 3 and f.metadata.num_rows == 5
    schema = f.schema_arrow
    assert schema.names == ["id", "text", "meta", "published", "authors", "n", "ratio", "flag", "null_field", "big", "late"]
    types = {name: schema.field(name).type for name in schema.names}
    assert types["n"] == pa.int64() and types["ratio"] == pa.float64() and types["flag"] == pa.bool_()
    assert types["id"] == pa.string() and types["meta"] == pa.string() and types["big"] == pa.string()
    table = f.read().to_pylist()
    assert table[1]["id"] == "2" and table[0]["meta"] == '{"tags":["tech"],"score":0.5}'
    assert table[4]["big"] == "123456789012345678901234567890" and table[0]["late"] is None
    # Read back by newsclean: nested values come back as they were.
    expected = _filled(MIXED_RECORDS)
    for rec in expected:
        rec["id"] = str(rec["id"])
        rec["big"] = None if rec["big"] is None else str(rec["big"])
        rec["ratio"] = None if rec["ratio"] is None else float(rec["ratio"])
    assert _read_back(path) == expected
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]  # no temp or spool left


def test_parquet_writer_is_deterministic_and_atomic(tmp_path):
    pytest.importorskip("pyarrow")
    from newsclean.io.writers import ParquetWriter

    outputs = []
    for name in ("one.parquet", "two.parquet"):
        w = ParquetWriter(tmp_path / name).open()
        for r in MIXED_RECORDS:
            w.write_record(r)
        w.commit()
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]

    target = tmp_path / "one.parquet"
    w = ParquetWriter(target).open()
    w.write_record({"id": "x", "text": "new"})
    w.discard()
    assert target.read_bytes() == outputs[0]  # the old file is left as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.parquet", "two.parquet"]


def test_parquet_writer_odd_values_and_empty_output(tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from newsclean.io.writers import ParquetWriter

    w = ParquetWriter(tmp_path / "odd.parquet").open()
    w.write_record({"id": "s", "text": "lone \ud800 surrogate", "x": float("nan")}, stdlib=True)
    w.write_record({"id": "t", "text": "fine", "x": 1})
    w.commit()
    rows = pq.read_table(tmp_path / "odd.parquet").to_pylist()
    assert rows[0]["text"] == "lone \ufffd surrogate" and rows[0]["x"] != rows[0]["x"] and rows[1]["x"] == 1.0

    w = ParquetWriter(tmp_path / "empty.parquet").open()
    w.commit()
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0


def test_parquet_round_trip_of_cleaned_records(tmp_path):
    """What `clean -o out.jsonl` writes, Parquet holds the same (cleaned, in order)."""
    pytest.importorskip("pyarrow")
    from newsclean.io.writers import ParquetWriter

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in MIXED_RECORDS[:2] + MIXED_RECORDS[3:4]), encoding="utf-8")
    cleaned, rejects = _clean(tmp_path, src)
    assert rejects == [] and cleaned[0]["text"] == "Microsoft’s plan from Amazon and IBM"
    w = ParquetWriter(tmp_path / "clean.parquet").open()
    for rec in cleaned:
        w.write_record(rec)
    w.commit()
    expected = _filled(cleaned)
    for rec in expected:
        rec["id"] = str(rec["id"])
    assert _read_back(tmp_path / "clean.parquet") == expected


def test_record_output_checks(monkeypatch, tmp_path):
    from newsclean.io.writers import (
        AtomicWriter,
        OutputError,
        ParquetWriter,
        check_record_output,
        record_writer,
    )

    assert isinstance(record_writer(tmp_path / "o.jsonl.gz"), AtomicWriter)
    assert isinstance(record_writer(None), AtomicWriter)
    with pytest.raises(OutputError, match="without .gz"):
        check_record_output(tmp_path / "o.parquet.gz")
    with pytest.raises(OutputError, match="--format text"):
        check_record_output(tmp_path / "o.parquet", as_text=True)
    if pytest.importorskip("pyarrow"):
        assert isinstance(record_writer(tmp_path / "O.PARQUET"), ParquetWriter)
    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError("not installed")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(OutputError, match=r"\[parquet\] extra"):
        check_record_output(tmp_path / "o.parquet")


def test_clean_to_parquet_cli(tmp_path):
    pytest.importorskip("pyarrow")
    import inspect

    import newsclean.driver

    if "record_writer" not in inspect.getsource(newsclean.driver):
        pytest.skip("the CLI does not dispatch .parquet output yet")
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in MIXED_RECORDS), encoding="utf-8")
    out = tmp_path / "out.parquet"
    for name in ("out.parquet", "again.parquet"):
        res = runner.invoke(app, ["clean", str(src), "-o", str(tmp_path / name), "-q"])
        assert res.exit_code == 0, res.output
    assert out.read_bytes() == (tmp_path / "again.parquet").read_bytes()
    back = _read_back(out)
    assert [r["text"] for r in back][:1] == ["Microsoft’s plan from Amazon and IBM"] and len(back) == 5
    res = runner.invoke(app, ["clean", str(src), "-o", str(tmp_path / "o.parquet"), "--format", "text", "-q"])
    assert res.exit_code == 2 and "--format text" in res.stderr
