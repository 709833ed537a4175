"""The configuration of a run: what to clean, how to read, how to write, how to run, how
to deduplicate.

Frozen dataclasses, one per concern, gathered in :class:`Config`.  The command line
maps its options onto their fields by name (:meth:`Config.from_options`: an option
is a field of the same name, so a new option is one field here and one typer line);
the library takes a :class:`Config`, or keyword arguments that replace its fields
(``run_dedup(files, outdir, events=True)``), as ftfy's ``fix_text(text, config,
**kwargs)`` does.  The drivers carry the config to the workers with each task.

Two views are derived from it, both ``dataclasses.asdict``: :meth:`Config.fingerprint`
(every setting that can change a result; OUTDIR/manifest.json keeps it to decide
whether a run may resume) and the ``parameters`` of stats.json
(:meth:`Config.stats_parameters`).  How a run is spread over processes never changes
a result, so :class:`RunConfig`'s process fields stay out of the fingerprint.

Only the standard library and :mod:`newsclean.dedup.params` are imported here, so
the command line takes its defaults from this module and still answers ``--help``
at once.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .dedup.params import KEEP_POLICIES, DedupParams

if TYPE_CHECKING:
    from .clean.pipeline import Cleaner
    from .dedup.events import EventParams

DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # a record larger than this is rejected (--max-bytes)
DEFAULT_DOC_TIMEOUT = 60.0  # seconds per record; a 50 MB article cleans in about 10 s
DEFAULT_SHARD_MB = 16.0  # input per shard of dedup/run: the unit of work, of parallelism and of resuming
BUILTIN_TABLE = "builtin"  # --spin-table builtin: newsclean's own table
OUTPUT_FORMATS = ("jsonl", "text")
# spin-table: the learning thresholds of the command line (newsclean.spin.learn's own
# defaults are the same; a test checks it)
MIN_CLUSTERS = 2
MIN_CONSISTENCY = 0.05
# site boilerplate and cut-down records: the library's own defaults
# (newsclean.clean.boilerplate.MIN_PAGES / MIN_SHARE, newsclean.clean.embeds.DEFAULT_MIN_KEEP; a test checks it)
BOILERPLATE_MODES = ("auto", "off")
BOILERPLATE_MIN_PAGES = 5
BOILERPLATE_MIN_SHARE = 0.05
DEFAULT_MIN_KEEP = 0.5


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the option (``--keep must be ...``)."""


def _check_choice(option: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"--{option} must be one of {', '.join(choices)}, not {value!r}")


@dataclass(frozen=True)
class CleanConfig:
    """What to clean: the stages, tweets, spin handling (tables, mode, language model)."""

    skip: tuple[str, ...] = ()  # stages left out
    tweets: str = "all"
    spin_tables: tuple[str, ...] = ()  # TSV files, or "builtin"; none: the built-in table
    unspin: str = "restore"
    spin_lm: str | None = None  # a GGUF model: file, folder or Hugging Face name in the local cache
    spin_lm_backend: str = "numpy"  # numpy (float32) or torch (bfloat16 products): what runs the model
    # what the corpus teaches about its sites (newsclean.clean.sites), and records cut down
    boilerplate: str = "auto"  # auto: learn each site's repeated lines in a pass before cleaning; off
    boilerplate_min_pages: int = BOILERPLATE_MIN_PAGES  # distinct articles of a site that print the line
    boilerplate_min_share: float = BOILERPLATE_MIN_SHARE  # ... and the share of the site's pages they are
    min_keep: float = DEFAULT_MIN_KEEP  # a record keeping less of its letters is flagged; 0: never

    def __post_init__(self) -> None:
        from .clean.embeds import TWEET_MODES
        from .clean.pipeline import STAGES
        from .spin.restore import MODES

        _check_choice("tweets", self.tweets, TWEET_MODES)
        unknown = [name for name in self.skip if name not in STAGES]
        if unknown:
            raise ConfigError(f"--skip: unknown stage(s) {', '.join(unknown)}; stages are {', '.join(STAGES)}")
        _check_choice("unspin", self.unspin, MODES)
        from .spin.lm import BACKENDS

        _check_choice("spin-lm-backend", self.spin_lm_backend, BACKENDS)
        if self.spin_lm is not None and self.unspin == "off":
            raise ConfigError("--spin-lm weighs the swaps a spin table finds: it cannot be combined with --unspin off")
        _check_choice("boilerplate", self.boilerplate, BOILERPLATE_MODES)
        if self.boilerplate_min_pages < 1:
            raise ConfigError(f"--boilerplate-min-pages must be at least 1, not {self.boilerplate_min_pages}")
        for option, value in (("boilerplate-min-share", self.boilerplate_min_share), ("min-keep", self.min_keep)):
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"--{option} must be in [0, 1], not {value}")

    def cleaner(self) -> Cleaner:
        """The :class:`~newsclean.clean.pipeline.Cleaner` these settings describe: spin
        tables read and merged, the model loaded once here so that a bad one fails before
        any record is read.  Raises :class:`ConfigError` naming the bad file."""
        from .clean.pipeline import Cleaner
        from .spin import TableError, builtin_table, read_table

        table = None
        if self.unspin != "off":
            for name in self.spin_tables or (BUILTIN_TABLE,):
                try:
                    one = builtin_table() if name == BUILTIN_TABLE else read_table(table_path(name))
                except TableError as e:
                    raise ConfigError(str(e)) from None
                table = one if table is None else table.merged(one)
        model = None
        if self.spin_lm is not None:
            from .spin.lm import ModelError, load_model, resolve_model  # numpy: only with a model

            try:
                model = resolve_model(self.spin_lm)
                load_model(model, self.spin_lm_backend)
            except ModelError as e:
                raise ConfigError(str(e)) from None
        return Cleaner(skip=self.skip, tweets=self.tweets, spin_table=table, unspin=self.unspin, spin_lm=model,
                       spin_lm_backend=self.spin_lm_backend,
                       min_keep=self.min_keep)


def table_path(name: str) -> Path:
    """A spin table's file: the file named, or the table a run learned (``--spin-table
    OUTDIR`` reads OUTDIR/spin-table.tsv)."""
    path = Path(name)
    if path.is_dir():
        from .spin.corpus import TABLE_NAME

        learned = path / TABLE_NAME
        if not learned.exists():
            raise ConfigError(f"--spin-table {name}: a folder without {TABLE_NAME} (give a table, or the OUTDIR of "
                              "a run that learned one)")
        return learned
    return path


@dataclass(frozen=True)
class ReadConfig:
    """How to read records: where the text and the id are, limits, and what a bad record does."""

    text_field: str | None = None  # default: first of text, maintext, content, body
    id_field: str | None = None  # default: first of id, doc_id, _id, uuid, url
    max_bytes: int = DEFAULT_MAX_BYTES
    doc_timeout: float | None = DEFAULT_DOC_TIMEOUT  # seconds; 0 or None: no limit
    strict: bool = False  # the first bad record stops the run
    html_tables: bool = True  # HTML pages: tables kept as text, a row a line
    rejects: str | None = field(default=None, metadata={"result": False})  # where bad records go


@dataclass(frozen=True)
class WriteConfig:
    """What ``clean`` writes: JSONL or plain text, diffs instead, edits, a statistics file."""

    output_format: str = "jsonl"
    diff: bool = False  # a unified diff per changed record to stdout, no files
    explain: bool = False  # an "edits" list in each record
    stats: str | None = None  # where the run statistics go as JSON

    def __post_init__(self) -> None:
        if self.output_format not in OUTPUT_FORMATS:
            raise ConfigError(f"--format must be jsonl or text, not {self.output_format!r}")


@dataclass(frozen=True)
class RunConfig:
    """How to run: processes, engine, shards.  Only the shard size can change a result
    (how the ``.gz`` outputs are cut into gzip members)."""

    workers: int | None = field(default=None, metadata={"result": False})  # None: all cores
    engine: str = field(default="local", metadata={"result": False})
    scheduler: str | None = field(default=None, metadata={"result": False})  # a Dask scheduler: implies dask
    shard_size: float = DEFAULT_SHARD_MB  # MB of input per shard
    keep_work: bool = field(default=False, metadata={"result": False})  # keep OUTDIR/work/ after success
    force: bool = field(default=False, metadata={"result": False})  # replace another run in OUTDIR

    def __post_init__(self) -> None:
        if self.scheduler and self.engine != "dask":
            object.__setattr__(self, "engine", "dask")
        _check_choice("engine", self.engine, ("local", "dask"))

    @property
    def shard_bytes(self) -> int:
        return max(1, int(self.shard_size * 1024 * 1024))

    def worker_count(self) -> int:
        from .engine.executors import default_workers

        return self.workers or default_workers()


@dataclass(frozen=True)
class DedupConfig:
    """How to deduplicate: survivors, clustering and event parameters, a previous run."""

    keep: str = "cleanest"
    params: DedupParams = field(default_factory=DedupParams)
    events: EventParams | None = None  # None: no event grouping
    against: str | None = None  # a previous run's OUTDIR
    cleaned_archive: bool = False  # run: the archive holds the cleaned text
    learn_spin: bool = True  # learn a spinner's table from the run's clusters (with --unspin restore or flag)

    def __post_init__(self) -> None:
        _check_choice("keep", self.keep, KEEP_POLICIES)


@dataclass(frozen=True)
class Config:
    """Everything a command is asked to do besides its inputs and outputs."""

    clean: CleanConfig = field(default_factory=CleanConfig)
    read: ReadConfig = field(default_factory=ReadConfig)
    write: WriteConfig = field(default_factory=WriteConfig)
    run: RunConfig = field(default_factory=RunConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)

    @classmethod
    def from_options(cls, **options: Any) -> Config:
        """The config of command-line options: each is the field of the same name in one
        part; ``threshold`` and ``event_threshold`` are the clustering's and the events'
        parameters of that name, and ``events`` turns the event grouping on."""
        return cls().replace(**options)

    def replace(self, **options: Any) -> Config:
        """A copy with the named fields (of any part) replaced, as :meth:`from_options` reads them."""
        options = dict(options)
        dedup = _dedup_options(self.dedup, options)
        parts = {}
        for part in fields(self):
            current = getattr(self, part.name)
            if part.name == "dedup":
                current = dedup
            names = {f.name for f in fields(current)}
            mine = {k: _plain(options.pop(k), getattr(current, k)) for k in list(options) if k in names}
            parts[part.name] = replace(current, **mine) if mine else current
        if options:
            raise TypeError(f"unknown option(s): {', '.join(sorted(options))}")
        return Config(**parts)

    def fingerprint(self) -> dict[str, Any]:
        """Every setting that can change a result: ``asdict`` without the fields marked
        ``result: False`` (how the run is spread over processes, where rejects go) and
        without ``write`` (``clean`` only: no OUTDIR, no resuming).  A resumed run must
        match it."""
        doc = {}
        for part in fields(self):
            if part.name == "write":
                continue
            value = getattr(self, part.name)
            doc[part.name] = {f.name: _as_data(getattr(value, f.name)) for f in fields(value)
                              if f.metadata.get("result", True)}
        return doc

    def stats_parameters(self) -> dict[str, Any]:
        """The ``parameters`` of stats.json: the survivor policy, the clustering's parameters
        and, with events, the events' (``event_`` before their names)."""
        dedup = self.dedup
        events = asdict(dedup.events) if dedup.events is not None else {}
        return {"keep": dedup.keep, "events": dedup.events is not None, "cleaned_archive": dedup.cleaned_archive,
                **asdict(dedup.params), **{"event_" + k: v for k, v in events.items()}}


def _dedup_options(dedup: DedupConfig, options: dict[str, Any]) -> DedupConfig:
    """``dedup`` with the options that set nested parameters taken out of ``options``."""
    threshold = options.pop("threshold", None)
    if threshold is not None:
        _check_fraction("threshold", threshold)
        dedup = replace(dedup, params=replace(dedup.params, threshold=threshold))
    events = options.pop("events", dedup.events is not None)
    event_threshold = options.pop("event_threshold", None)
    if isinstance(events, bool):
        if not events:
            return replace(dedup, events=None)
        if dedup.events is None or event_threshold is not None:
            from .dedup.events import EventParams

            base = dedup.events or EventParams()
            if event_threshold is not None:
                _check_fraction("event-threshold", event_threshold)
                base = replace(base, threshold=event_threshold)
            return replace(dedup, events=base)
        return dedup
    return replace(dedup, events=events)  # EventParams given


def _as_data(value: Any) -> Any:
    return asdict(value) if hasattr(value, "__dataclass_fields__") else value


def _check_fraction(option: str, value: float) -> None:
    if not 0.0 < value <= 1.0:
        raise ConfigError(f"--{option} must be in (0, 1], not {value}")


def _plain(value: Any, current: Any = None) -> Any:
    """Option values as the config holds them: paths as strings, lists as tuples (an
    option given no value, None, as the empty tuple)."""
    if value is None and isinstance(current, tuple):
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value
