"""The ``sites`` step of ``dedup`` / ``run``: what the corpus teaches about its sites,
learned before the shards are cleaned.

:func:`count_shard` runs on the workers: it reads one shard and counts its records'
short lines and spaced dashes per site (:class:`~newsclean.clean.sites.SiteCounts`,
hashes and numbers only) into ``WORK/sites/shard-NNNNN/``.  :func:`learn_sites` maps it
over the shards, merges the counts here (one range of line keys at a time when they
are large, so this process holds a bounded part of them) and saves what was learned
(:class:`~newsclean.clean.sites.CorpusSites`: the boilerplate table and the house
styles) in ``WORK/sites/``, where :func:`~newsclean.dedup.shard.prepare_shard` reads
it.  A resumed run finds it there and counts nothing again; a shard counted before
an interruption is not counted again either.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..clean.sites import CorpusSites, SiteCounts, count_records, merge_site_counts
from ..engine.shards import ShardSpec, read_shard
from ..io.html import tables as html_tables

if TYPE_CHECKING:
    from ..config import Config
    from ..engine.executors import Engine

SITES = "sites"  # the folder in WORK
PART_BYTES = 256 * 1024 * 1024  # line counts merged at most this much at a time (24 bytes a line and page)


@dataclass(frozen=True)
class CountJob:
    spec: ShardSpec
    folder: str  # WORK/sites
    text_field: str | None
    max_bytes: int
    html_tables: bool


def sites_folder(work: str | Path) -> Path:
    return Path(work) / SITES


def count_shard(job: CountJob) -> str:
    """Count one shard's sites into its folder (built under a temporary name: its
    presence marks the shard counted); returns the folder."""
    final = Path(job.folder) / f"shard-{job.spec.index:05d}"
    if final.is_dir():
        return str(final)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    with html_tables(job.html_tables):  # the text prepare_shard will read
        counts = count_records(read_shard(job.spec, max_bytes=job.max_bytes), job.text_field)
    counts.save(tmp)
    try:
        os.rename(tmp, final)
    except OSError:
        if not final.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)  # a retried task finished first: same counts
    return str(final)


def load_sites(work: str | Path) -> CorpusSites | None:
    """What the ``sites`` step learned for this run; None when it did not run."""
    return CorpusSites.load(sites_folder(work))


def learn_sites(engine: Engine, specs: list[ShardSpec], work: str | Path, config: Config) -> CorpusSites | None:
    """Count every shard's sites on ``engine`` and learn from their sum (None with
    ``--boilerplate off``); a run that learned them before reuses them."""
    settings = config.clean
    if settings.boilerplate == "off":
        return None
    folder = sites_folder(work)
    learned = CorpusSites.load(folder)
    if learned is not None:
        return learned
    folder.mkdir(parents=True, exist_ok=True)
    read = config.read
    jobs = [CountJob(spec, str(folder), read.text_field, read.max_bytes, read.html_tables) for spec in specs]
    shards = sorted(Path(done) for _, done in engine.map(count_shard, jobs))
    learned = _learn(shards, settings.boilerplate_min_pages, settings.boilerplate_min_share)
    learned.save(folder)
    return learned


def _learn(shards: list[Path], min_pages: int, min_share: float) -> CorpusSites:
    """The sites of the shards' counts, merged one range of line keys at a time."""
    size = sum((shard / "lines.npz").stat().st_size for shard in shards)
    parts = max(1, -(-size // PART_BYTES))
    if parts == 1:
        return merge_site_counts(SiteCounts.load(s) for s in shards).learn(min_pages, min_share)
    learned = None
    for part in range(parts):
        counts = []
        for shard in shards:
            one = SiteCounts.load(shard)
            counts.append(SiteCounts(one.lines.key_range(part, parts), one.dashes))
        piece = merge_site_counts(counts).learn(min_pages, min_share)
        learned = piece if learned is None else CorpusSites(learned.boilerplate.merged(piece.boilerplate),
                                                            learned.styles)
    assert learned is not None
    return learned
