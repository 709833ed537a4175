"""CLI options for output format and stage choice."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from newsclean.cli import app

runner = CliRunner()

TWEET_DOC = (
    "The vote passed.\n\nWe must apply compassion. pic.twitter.com/s96jjh8AlD\n\n"
    "\u2014 Rep. Ilhan Omar (@Ilhan) November 19, 2019\n\nThe court agreed."
)


def _run(tmp_path, records, *args):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return runner.invoke(app, ["clean", str(src), "-q", *args])


def test_format_text_prints_articles(tmp_path):
    res = _run(tmp_path, [{"id": "a1", "text": "Microsoft?s plan []"}], "--format", "text")
    assert res.exit_code == 0, res.output
    assert res.stdout == "# a1\n\nMicrosoft’s plan\n\n"


def test_tweets_option(tmp_path):
    # tweet embeds are stripped by default; --tweets embedded keeps tweets quoted as plain paragraphs
    removed = _run(tmp_path, [{"id": 1, "text": TWEET_DOC}])
    assert "Ilhan" not in json.loads(removed.stdout)["text"]
    kept = _run(tmp_path, [{"id": 1, "text": TWEET_DOC}], "--tweets", "embedded")
    assert "Ilhan" in json.loads(kept.stdout)["text"]
    bad = _run(tmp_path, [{"id": 1, "text": TWEET_DOC}], "--tweets", "some")
    assert bad.exit_code == 2


def test_skip_stage(tmp_path):
    res = _run(tmp_path, [{"id": 1, "text": "Microsoft?s plan fromAmazon"}], "--skip", "lost_chars")
    assert json.loads(res.stdout)["text"] == "Microsoft?s plan from Amazon"
    bad = _run(tmp_path, [{"id": 1, "text": "x"}], "--skip", "nonsense")
    assert bad.exit_code == 2
