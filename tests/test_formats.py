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
