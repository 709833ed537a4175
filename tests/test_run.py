"""`newsclean run`: clean + dedup + events in one pass, the archive holds cleaned text."""
from __future__ import annotations

import gzip
import json

from typer.testing import CliRunner

from newsclean.cli import app

STORY = (
    "The city council voted on Tuesday to close the old bridge over the river for repairs that "
    "engineers say are long overdue. The work is expected to last eight months and cost about four "
    "million pounds, officials said. Residents have complained for years about cracks in the road "
    "surface and rust on the railings, and a survey last spring found the supports were weakening."
)


def _gz(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_run_writes_cleaned_archive_with_events(tmp_path):
    records = [
        {"id": "a", "text": STORY + " It?s closed []"},
        {"id": "b", "text": "LONDON (Reuters) - " + STORY, "source": "wire"},
        {"id": "c", "text": "Completely different: the football club signed a new striker from Brazil "
         "for a record fee on Monday, and fans queued outside the stadium to buy shirts with his name."},
        {"id": "d"},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", str(src), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    clusters = [json.loads(line) for line in (out / "clusters.jsonl").read_text().splitlines()]
    assert [c["id"] for c in clusters] == ["a", "b", "c"]
    assert clusters[0]["cluster"] == clusters[1]["cluster"] and clusters[2]["cluster"] != clusters[0]["cluster"]
    assert all("event" in c for c in clusters)
    kept, dups = _gz(out / "kept.jsonl.gz"), _gz(out / "duplicates.jsonl.gz")
    assert len(kept) + len(dups) == 3
    rejects = (out / "rejects.jsonl").read_text().splitlines()
    assert len(rejects) == 1 and "no text field" in json.loads(rejects[0])["reason"]
    texts = {r["id"]: r["text"] for r in kept + dups}
    assert texts["a"].endswith("It’s closed")  # cleaned, not as it came
    assert next(r for r in kept + dups if r["id"] == "b")["source"] == "wire"  # other fields pass through
    stats = json.loads((out / "stats.json").read_text())
    assert stats["input_records"] == 4 and stats["balanced"] is True
    assert stats["parameters"]["cleaned_archive"] is True
