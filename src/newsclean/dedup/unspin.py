"""The ``spin`` step of ``dedup`` / ``run``: learn the spinner's table from the run's own
clusters, judge the records with it, restore the archive.

After the clustering, pairs of a removed record and its survivor that differ by word
swaps are read from the shards (:func:`shard_texts`, on the workers) and aligned
(:mod:`newsclean.spin.corpus`); the swaps that recur across clusters are the spinner's
table, written to ``OUTDIR/spin-table.tsv`` (``--spin-table OUTDIR`` reads it).  Then:

* the records of clusters of two or more are judged again with that table and the
  run's own (:func:`judge_shard`): a spun copy that the built-in table missed now
  counts its restorations and its spin score, so the survivors are chosen again and
  the original wins over its spun copies;
* ``run`` restores every flagged record of the archive with both tables
  (:func:`restore_texts`, inside each shard's writing), originals in the corpus or
  not: a spinner reuses its table.

Learning that finds nothing changes nothing: no table is written and the step ends.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from ..engine.executors import Engine
from ..spin.corpus import (
    TABLE_NAME,
    FormCounts,
    table_order,
    candidate_pairs,
    confirmed_by_spun_texts,
    count_forms,
    groups_of,
    is_a_spinners_table,
    learn_run_pairs,
    unconfirmed_substitutions,
    write_learned,
)
from .core import DocMeta, Verdicts
from .shard import load_texts


@dataclass(frozen=True)
class TextsJob:
    folder: str  # a shard folder
    positions: tuple[int, ...]  # accepted records of the shard, by position


def shard_texts(job: TextsJob) -> list[str]:
    """The cleaned texts of the shard's records at ``positions``."""
    texts = load_texts(Path(job.folder))
    return [texts[p] for p in job.positions]


@dataclass(frozen=True)
class JudgeJob:
    folder: str
    positions: tuple[int, ...]
    table: str  # the learned table (OUTDIR/spin-table.tsv)
    cleaner: Any  # the run's Cleaner: its own spin table is judged beside the learned one


@functools.lru_cache(maxsize=4)
def _tables(path: str, version: int, cleaner_table: Any) -> Any:
    from ..spin import read_table

    learned = read_table(Path(path))
    return learned if cleaner_table is None else learned.merged(cleaner_table)


def combined_table(path: str, cleaner: Any) -> Any:
    """The learned table with the run's own (several spinners: each judged on its own);
    read once per process and version of the file (the step writes it twice)."""
    version = xxhash.xxh3_64_intdigest(Path(path).read_bytes())
    return _tables(path, version, getattr(cleaner, "spin_table", None))


def judge_shard(job: JudgeJob) -> list[tuple[float, int]]:
    """(spin score if flagged else 0, restorations) of each record at ``positions``,
    judged with both tables, without a language model (this decides survivors only)."""
    from ..spin import unspin_many_and_explain

    texts = load_texts(Path(job.folder))
    table = combined_table(job.table, job.cleaner)
    judged = unspin_many_and_explain([texts[p] for p in job.positions], table, "restore")
    return [(report.score if report.flagged else 0.0, len(edits)) for _, edits, report in judged]


def restore_texts(texts: list[str], table_path: str, cleaner: Any) -> tuple[list[str], int, int]:
    """Texts restored with both tables as the run's cleaner restores (its mode, its
    model); returns them with the number of texts flagged and of words restored."""
    from ..spin import unspin_many_and_explain
    from ..spin.lm import load_model

    lm = (load_model(cleaner.spin_lm, getattr(cleaner, "spin_lm_backend", "numpy"))
          if getattr(cleaner, "spin_lm", None) and cleaner.unspin == "restore" else None)
    judged = unspin_many_and_explain(texts, combined_table(table_path, cleaner), cleaner.unspin, lm=lm)
    flagged = sum(1 for _, _, report in judged if report.flagged)
    return [text for text, _, _ in judged], flagged, sum(len(edits) for _, edits, _ in judged)


class ShardPositions:
    """Batch positions to (shard folder, position in the shard)."""

    def __init__(self, folders: list[Path], counts: list[int]) -> None:
        self.folders = folders
        self.starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def split(self, positions: list[int]) -> dict[int, list[int]]:
        """Shard index -> positions in that shard, of the sorted batch ``positions``."""
        out: dict[int, list[int]] = {}
        for p in sorted(set(positions)):
            shard = int(np.searchsorted(self.starts, p, side="right")) - 1
            out.setdefault(shard, []).append(p - int(self.starts[shard]))
        return out


def fetch_texts(engine: Engine, where: ShardPositions, positions: list[int]) -> dict[int, str]:
    """Batch position -> cleaned text, read on the workers."""
    by_shard = where.split(positions)
    jobs = [TextsJob(str(where.folders[k]), tuple(ps)) for k, ps in sorted(by_shard.items())]
    out: dict[int, str] = {}
    for position, texts in engine.map(shard_texts, jobs):
        job = jobs[position]
        base = int(where.starts[where.folders.index(Path(job.folder))])
        out.update((base + p, t) for p, t in zip(job.positions, texts))
    return out


@dataclass
class SpinLearning:
    """What the step learned and judged, for stats.json."""

    pairs_read: int = 0
    clusters_aligned: int = 0
    swaps_learned: int = 0
    swaps_confirmed: int = 0  # seen in one cluster, confirmed by the corpus's spun texts
    swaps_weak: int = 0  # seen in one cluster, not confirmed: weak entries (the model judges them)
    records_judged: int = 0
    records_flagged: int = 0
    archive_flagged: int = 0
    words_restored: int = 0
    table: Path | None = None

    def stats(self) -> dict[str, Any]:
        return {"pairs_read": self.pairs_read, "clusters_aligned": self.clusters_aligned,
                "swaps_learned": self.swaps_learned, "swaps_confirmed_by_spun_texts": self.swaps_confirmed,
                "swaps_weak_from_one_cluster": self.swaps_weak,
                "table": TABLE_NAME if self.table is not None else None,
                "cluster_records_judged": self.records_judged, "cluster_records_flagged": self.records_flagged,
                "records_flagged": self.archive_flagged, "words_restored": self.words_restored}


def learn(engine: Engine, where: ShardPositions, verdicts: Verdicts, outdir: Path,
          previous_outdir: Path | None, cleaner: Any) -> SpinLearning:
    """Learn the table from the pairs of removed records and their survivors (and the
    one-cluster swaps the corpus's spun texts confirm, the other one-cluster
    substitutions as weak entries); written to OUTDIR/spin-table.tsv when it holds
    anything (a previous run's table included)."""
    result = SpinLearning()
    pairs = candidate_pairs(verdicts.names, verdicts.survivor, verdicts.similarity, verdicts.n_prev)
    result.pairs_read = len(pairs)
    texts = fetch_texts(engine, where, [p for pair in pairs for p in pair]) if pairs else {}
    groups = groups_of(pairs, texts)
    result.clusters_aligned = len(groups)
    previous = previous_outdir / TABLE_NAME if previous_outdir is not None else None
    lines, singles = learn_run_pairs(groups, previous)
    if not is_a_spinners_table(lines):
        lines, singles = [], []  # cuts and garbled copies, no spinner: nothing to restore
    target = outdir / TABLE_NAME
    if lines and singles:
        write_learned(lines, target)
        counts = count_in_shards(engine, where, target, cleaner, singles, verdicts.names)
        confirmed = confirmed_by_spun_texts(singles, counts)
        weak = unconfirmed_substitutions(singles, confirmed)
        result.swaps_confirmed, result.swaps_weak = len(confirmed), len(weak)
        lines = sorted([*lines, *confirmed, *weak], key=table_order)
    result.swaps_learned = len(lines)
    if lines:
        write_learned(lines, target)
        result.table = target
    else:
        target.unlink(missing_ok=True)  # a table of an earlier attempt with other inputs
    return result


COUNT_SAMPLE = 50_000  # texts read to confirm one-cluster swaps (a share of them in a larger corpus)


@dataclass(frozen=True)
class CountJob:
    folder: str
    positions: tuple[int, ...]
    table: str
    cleaner: Any
    forms: frozenset[str]


def count_forms_task(job: CountJob) -> FormCounts:
    """:func:`~newsclean.spin.corpus.count_forms` over the shard's texts at ``positions``."""
    texts = load_texts(Path(job.folder))
    return count_forms([texts[p] for p in job.positions], combined_table(job.table, job.cleaner), set(job.forms))


def sampled(names: list[str], size: int) -> list[int]:
    """About ``size`` batch positions, chosen by the hash of the record's name (the same
    whatever the input order or the shards)."""
    if len(names) <= size:
        return list(range(len(names)))
    keep = size / len(names) * 2**64
    return [i for i, name in enumerate(names) if xxhash.xxh3_64_intdigest(name.encode("utf-8", "surrogatepass")) < keep]


def count_in_shards(engine: Engine, where: ShardPositions, table: Path, cleaner: Any,
                    singles: list[tuple[str, str, int, float]], names: list[str]) -> FormCounts:
    """The one-cluster swaps' forms counted in the texts ``table`` flags and in the others
    (of :data:`COUNT_SAMPLE` of the batch's texts)."""
    forms = frozenset(line[0] for line in singles)
    by_shard = where.split(sampled(names, COUNT_SAMPLE))
    jobs = [CountJob(str(where.folders[k]), tuple(ps), str(table), cleaner, forms) for k, ps in sorted(by_shard.items())]
    total = FormCounts()
    for _, counts in sorted(engine.map(count_forms_task, jobs), key=lambda pair: pair[0]):
        total = total + counts
    return total


def judge(engine: Engine, where: ShardPositions, verdicts: Verdicts, meta: DocMeta, table: Path, cleaner: Any,
          result: SpinLearning) -> DocMeta:
    """``meta`` with the spin score and restorations of every record of a cluster of two
    or more, judged with the learned table and the run's own."""
    survivor = verdicts.survivor
    sizes = np.bincount(survivor, minlength=verdicts.n_prev + len(verdicts.names))
    members = np.flatnonzero(sizes[survivor] >= 2).tolist()
    result.records_judged = len(members)
    spin, edits = meta.spin.copy(), meta.edits.copy()
    by_shard = where.split(members)
    jobs = [JudgeJob(str(where.folders[k]), tuple(ps), str(table), cleaner) for k, ps in sorted(by_shard.items())]
    for position, judged in engine.map(judge_shard, jobs):
        job = jobs[position]
        base = int(where.starts[where.folders.index(Path(job.folder))])
        for p, (score, restored) in zip(job.positions, judged):
            spin[base + p] = max(spin[base + p], score)
            edits[base + p] += restored
            result.records_flagged += score > 0
    return replace(meta, spin=spin, edits=edits)
