"""Unit tests of the readers, writers and the engine loop (no CLI)."""
from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import STATS_KEYS

from newsclean.engine.local import Stats, run_clean
from newsclean.io.readers import (
    TRUNCATED,
    CorruptStream,
    InputError,
    InputFile,
    Item,
    decode_text_file,
    decompressed_chunks,
    expand_inputs,
    parse_line,
    read_file,
    read_inputs,
    read_jsonl,
)
from newsclean.io.writers import AtomicWriter, compression_for, dumps_line, open_output

CLEAN = "The council met on Tuesday."


def chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    return iter([data[i : i + size] for i in range(0, len(data), size)])


def items(data: bytes, size: int = 7, **kw) -> list[Item]:
    return list(read_jsonl(chunks_of(data, size), "src", **kw))


# --------------------------------------------------------------------- read_jsonl


@pytest.mark.parametrize("size", [1, 3, 7, 64, 1 << 20])
def test_lines_split_across_chunks(size):
    data = b'{"a":1}\n\n{"a":2}\r\n   \n{"a":3}'  # blank lines, CRLF, no final newline
    got = items(data, size)
    assert [(i.line, i.record) for i in got] == [(1, {"a": 1}), (3, {"a": 2}), (5, {"a": 3})]
    assert all(i.error is None and i.source == "src" for i in got)


def test_utf8_bom_on_first_line_is_ignored():
    (item,) = items(b'\xef\xbb\xbf{"id":1,"text":"x"}\n')
    assert item.record == {"id": 1, "text": "x"}


def test_multibyte_chars_split_across_chunks():
    data = json.dumps({"text": "Zürich — 東京"}, ensure_ascii=False).encode() + b"\n"
    (item,) = items(data, size=1)
    assert item.record == {"text": "Zürich — 東京"}


@pytest.mark.parametrize("size", [5, 100, 1 << 20])
def test_oversized_line_is_skipped_while_streaming(size):
    big = b'{"text":"' + b"x" * 5000 + b'"}'
    data = b'{"a":1}\n' + big + b'\n{"a":2}\n' + big  # last one has no newline
    got = items(data, size, max_bytes=1000)
    assert [i.line for i in got] == [1, 2, 3, 4]
    assert got[0].record == {"a": 1} and got[2].record == {"a": 2}
    for bad in (got[1], got[3]):
        assert bad.record is None
        assert "5,011 bytes" in bad.error and "--max-bytes" in bad.error
        assert bytes(bad.raw).startswith(b'{"text":"xxx')


def test_line_exactly_at_limit_is_kept():
    line = b'{"text":"' + b"x" * 90 + b'"}'
    assert len(line) == 101
    (item,) = items(line + b"\r\n", max_bytes=101)
    assert item.error is None


def test_corrupt_stream_keeps_lines_read_so_far():
    def broken() -> Iterator[bytes]:
        yield b'{"a":1}\n{"a":2}\n{"a":'
        raise CorruptStream("boom")

    got = list(read_jsonl(broken(), "s.gz"))
    assert [i.record for i in got[:2]] == [{"a": 1}, {"a": 2}]
    assert got[2].error == TRUNCATED
    assert got[2].line == 3
    assert got[2].raw == b'{"a":'


# --------------------------------------------------------------------- parse_line


def test_parse_line_exactness():
    big = parse_line(b'{"n":123456789012345678901234567890}', "s", 1)
    assert big.record == {"n": 123456789012345678901234567890}
    assert big.stdlib_json  # orjson would have rounded it to a float
    nan = parse_line(b'{"x":NaN}', "s", 1)
    assert nan.record is not None and nan.record["x"] != nan.record["x"]
    assert nan.stdlib_json
    surrogate = parse_line(b'{"t":"\\ud800"}', "s", 1)
    assert surrogate.record == {"t": "\ud800"}
    plain = parse_line(b'{"t":"\\u0000","f":1.5}', "s", 1)
    assert plain.record == {"t": "\x00", "f": 1.5}
    assert not plain.stdlib_json


@pytest.mark.parametrize(
    "line, reason",
    [
        (b"nope", "not valid JSON"),
        (b"[]", "an array"),
        (b"3", "a number"),
        (b"true", "true"),
        (b'{"a":"\xc3"}', "invalid UTF-8 at byte 6"),
        (b'{"a":1}\x00', "NUL"),
        (b"[" * 100_000, "not valid JSON"),  # too deep for both parsers
    ],
)
def test_parse_line_errors(line, reason):
    item = parse_line(line, "s", 9)
    assert item.record is None
    assert reason in item.error
    assert item.line == 9 and item.raw == line


# ---------------------------------------------------------------- decompression


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize("kind", ["none", "gzip", "zstd", None])
def test_decompressed_chunks(kind):
    data = b"".join(b'{"i":%d}\n' % i for i in range(5000))
    packed = {"gzip": gzip.compress(data), "zstd": _zstd(data)}.get(kind or "zstd", data)
    assert b"".join(decompressed_chunks(io.BytesIO(packed), kind)) == data  # type: ignore[arg-type]


def test_sniffing_plain_and_gzip():
    assert b"".join(decompressed_chunks(io.BytesIO(b'{"a":1}\n'), None)) == b'{"a":1}\n'
    assert b"".join(decompressed_chunks(io.BytesIO(gzip.compress(b"x\n")), None)) == b"x\n"


def test_multi_member_gzip_and_multi_frame_zstd():
    gz = gzip.compress(b"a\n") + gzip.compress(b"b\n")
    assert b"".join(decompressed_chunks(io.BytesIO(gz), "gzip")) == b"a\nb\n"
    zst = _zstd(b"a\n") + _zstd(b"b\n")
    assert b"".join(decompressed_chunks(io.BytesIO(zst), "zstd")) == b"a\nb\n"


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_truncated_stream_raises_after_yielding_data(kind):
    data = os.urandom(300_000).hex().encode()  # incompressible-ish
    packed = gzip.compress(data) if kind == "gzip" else _zstd(data)
    out = bytearray()
    with pytest.raises(CorruptStream):
        for chunk in decompressed_chunks(io.BytesIO(packed[: len(packed) // 2]), kind):  # type: ignore[arg-type]
            out += chunk
    assert len(out) > 0 and data.startswith(bytes(out))


def test_gzip_bomb_is_decompressed_in_bounded_pieces():
    packed = gzip.compress(b"\n" * (64 << 20))
    sizes = [len(c) for c in decompressed_chunks(io.BytesIO(packed), "gzip")]
    assert sum(sizes) == 64 << 20
    assert max(sizes) <= 1 << 22


# -------------------------------------------------------------------------- txt


def test_decode_text_file():
    assert decode_text_file(b"\xef\xbb\xbfhello") == ("hello", None)
    assert decode_text_file("caf\u00e9".encode("utf-16")) == ("café", None)
    text, reason = decode_text_file("The café’s council.".encode("cp1252"))
    assert text == "The café’s council." and reason is None
    mixed, _ = decode_text_file("Zürich ".encode() + b"\x93quoted\x94")  # UTF-8 with stray cp1252
    assert mixed == "Zürich “quoted”"
    assert decode_text_file(b"abc\x00def")[1].startswith("binary")
    assert "binary" in decode_text_file(bytes(range(128, 256)) * 4)[1]
    assert decode_text_file(b"") == ("", None)


def test_expand_inputs(tmp_path):
    (tmp_path / "d" / "z").mkdir(parents=True)
    for rel in ["d/b.txt", "d/a.jsonl", "d/z/a.txt", "d/c.jsonl.zst", "d/x.md", "d/.h.txt", "one.txt"]:
        (tmp_path / rel).write_bytes(b"")
    files = expand_inputs([str(tmp_path / "d"), str(tmp_path / "one.txt"), "-"])
    assert [(Path(f.path).name if f.path else None, f.fmt, f.compression, f.doc_id) for f in files] == [
        ("a.jsonl", "jsonl", "none", "a.jsonl"),
        ("b.txt", "txt", "none", "b"),
        ("c.jsonl.zst", "jsonl", "zstd", "c.jsonl"),
        ("a.txt", "txt", "none", "z/a"),
        ("one.txt", "txt", "none", "one"),
        (None, "jsonl", None, ""),
    ]
    assert files[-1].source == "<stdin>"
    assert expand_inputs([])[0].path is None
    with pytest.raises(InputError, match="not found"):
        expand_inputs([str(tmp_path / "missing.jsonl")])


def test_read_file_txt_and_unreadable(tmp_path):
    p = tmp_path / "a.txt.gz"
    p.write_bytes(gzip.compress(CLEAN.encode()))
    (item,) = read_file(InputFile(p, str(p), "txt", "gzip", "a"))
    assert item.record == {"id": "a", "text": CLEAN, "source": str(p)}
    gone = tmp_path / "gone.jsonl"
    (item,) = read_file(InputFile(gone, str(gone)))
    assert item.error.startswith("cannot open file")


def test_read_inputs_from_stdin(monkeypatch):
    stdin = io.TextIOWrapper(io.BytesIO(b'{"a":1}\n{"a":2}\n'))
    monkeypatch.setattr("sys.stdin", stdin)
    got = list(read_inputs(expand_inputs(["-"])))
    assert [(i.source, i.line, i.record) for i in got] == [("<stdin>", 1, {"a": 1}), ("<stdin>", 2, {"a": 2})]


# ---------------------------------------------------------------------- writers


def test_dumps_line():
    assert dumps_line({"a": "é", "b": [1, None]}) == '{"a":"é","b":[1,null]}\n'.encode()
    assert dumps_line({"n": 2**70}) == b'{"n":1180591620717411303424}\n'  # orjson refuses, stdlib writes
    assert dumps_line({"x": float("nan")}, stdlib=True) == b'{"x":NaN}\n'
    assert dumps_line({"t": "\ud800"}) == b'{"t":"\\ud800"}\n'  # lone surrogate escaped, still valid UTF-8


def test_compression_for():
    assert compression_for("a.jsonl.gz") == "gzip"
    assert compression_for(Path("a.JSONL.ZST")) == "zstd"
    assert compression_for("a.jsonl") == "none"


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz", "out.jsonl.zst"])
def test_open_output_atomic_and_compressed(tmp_path, name):
    target = tmp_path / name
    with open_output(target) as out:
        out.write(b'{"a":1}\n')
        assert not target.exists()  # only a hidden temp file so far
        assert [p.name.startswith(".") for p in tmp_path.iterdir()] == [True]
    data = target.read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    elif name.endswith(".zst"):
        import zstandard

        data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    assert data == b'{"a":1}\n'
    assert [p.name for p in tmp_path.iterdir()] == [name]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


def test_open_output_discards_on_error(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old\n")
    with pytest.raises(RuntimeError), open_output(target) as out:
        out.write(b"new\n")
        raise RuntimeError("crash mid-run")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_atomic_writer_lazy_and_stdout(tmp_path, capsysbinary):
    lazy = AtomicWriter(tmp_path / "r.jsonl")
    assert not lazy.is_open
    lazy.discard()  # never opened: nothing to clean up
    assert list(tmp_path.iterdir()) == []
    empty = AtomicWriter(tmp_path / "e.jsonl")
    empty.commit()  # commit without writes creates an empty file
    assert (tmp_path / "e.jsonl").read_bytes() == b""
    for target in (None, "-"):
        out = AtomicWriter(target)
        out.write(b"to stdout\n")
        out.commit()
    assert capsysbinary.readouterr().out == b"to stdout\n" * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.jsonl"]


def test_gzip_output_is_deterministic(tmp_path):
    for name in ("a.gz", "b.gz"):
        with open_output(tmp_path / name) as out:
            out.write(b"same\n")
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


# ----------------------------------------------------------------------- engine


class _FakeCleaner:
    """Uppercases text; crashes on 'boom' to show a stage bug only rejects one record."""

    stage_names = ("upper",)

    def clean(self, text: str):
        from newsclean.clean.pipeline import CleanResult
        from newsclean.edits import Edit

        if text == "boom":
            raise RuntimeError("stage bug")
        upper = text.upper()
        edits = [Edit("upper", "case", 0, len(text), text, upper)] if upper != text else []
        return CleanResult(upper, edits)


def test_run_clean_one_outcome_per_item():
    source = [
        Item("f.jsonl", 1, {"id": "a", "text": "hi"}, None, b""),
        Item("f.jsonl", 2, None, "not valid JSON: x", b"x"),
        Item("f.jsonl", 3, {"text": "OK"}, None, b""),
        Item("f.jsonl", 4, {"id": "d", "text": "boom"}, None, b""),
        Item("f.jsonl", 5, {"id": None, "body": "x"}, None, b""),
    ]
    stats = Stats()
    got = list(run_clean(source, _FakeCleaner(), stats=stats, explain=True))  # type: ignore[arg-type]
    assert len(got) == len(source)
    assert got[0].record == {"id": "a", "text": "HI", "edits": [got[0].edits[0].to_dict()]}
    assert got[1].rejected and got[1].id == "f.jsonl:2"
    assert got[2].record == {"id": "f.jsonl:3", "text": "OK", "edits": []}  # id added first
    assert list(got[2].record) == ["id", "text", "edits"]
    assert got[3].rejected and "stage bug" in got[3].reason
    assert list(got[4].record) == ["id", "body", "edits"] and got[4].record["id"] is None  # not overwritten
    assert (stats.input_records, stats.changed, stats.unchanged) == (5, 2, 1)
    assert stats.edits_by_stage == {"upper": 2}
    stats.output_records, stats.rejected = 3, 2
    assert stats.balanced
    stats.finish()
    assert set(stats.to_dict()) == STATS_KEYS


def test_reject_record_truncates_raw():
    outcome = next(
        run_clean([Item("s", 4, None, "bad", b"\xff" + b"x" * 50_000)], _FakeCleaner(), stats=Stats())  # type: ignore[arg-type]
    )
    rec = outcome.reject_record()
    assert rec["source"] == "s" and rec["line"] == 4 and rec["reason"] == "bad" and rec["id"] == "s:4"
    assert rec["raw"].startswith("\ufffdxxx") and len(rec["raw"]) == 10_000


@pytest.mark.parametrize("size", [1, 2, 3, 5, 1000])
def test_a_utf16_file_reads_alike_however_it_is_cut_into_chunks(size):
    # the BOM is told by the first four bytes even when they come one chunk at a time
    # (a fuzz input that starts with a UTF-16 BOM found the case)
    data = "\ufeff".encode("utf-16-le") + '{"id": "a", "text": "caf\u00e9"}\n{"id": "b"}\n'.encode("utf-16-le")
    whole = [(it.line, it.record, it.error) for it in read_jsonl(iter([data]), "t")]
    cut = [(it.line, it.record, it.error) for it in read_jsonl((data[i:i + size] for i in range(0, len(data), size)), "t")]
    assert cut == whole and [line for line, _, _ in whole] == [1, 2]
