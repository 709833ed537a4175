"""The array-based event clustering (newsclean.dedup.events) against the dict-based first version.

The reference below is that first version, kept verbatim (TF-IDF as Python dicts, term
ids in order of first appearance, blocked candidates, dict cosine, average linkage over
dicts), with the steps added since in the same style (record dates that zero a pair's
cosine, lone units joining their closest event).  The array version must give the same
term ids, weights, candidate pairs, cosines and labels, however the documents are cut
into parts or the pairs into blocks.
Floats are compared exactly where Python's ``sum`` adds left to right (up to 3.11;
3.12 compensates, which can move the last bit).
"""
from __future__ import annotations

import heapq
import math
import random
import re
import sys
import unicodedata
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pytest
from test_dedup import BANK, FLOOD, FLOOD_OTHER, RUGBY, boiler, edited, truncated

from newsclean.dedup import events as ev
from newsclean.dedup.events import EventParams
from newsclean.dedup.text import STOP_WORDS, tokens

SEQUENTIAL_SUM = sys.version_info < (3, 12)  # Python's sum() of floats adds left to right


# ------------------------------------------------------------------ the reference (first version)

_TOKEN = re.compile(r"\w+")


def ref_terms(text: str, name_boost: int = 1) -> list[str]:
    out = []
    for tok in _TOKEN.findall(unicodedata.normalize("NFKC", text)):
        w = tok.lower()
        if w in STOP_WORDS or len(w) < 2:
            continue
        if w.isdigit() and len(w) < 3:
            continue
        out.append(w)
        if name_boost > 1 and tok[0].isupper():
            out.extend([w] * (name_boost - 1))
    return out


def ref_tfidf_vectors(texts: Sequence[str], name_boost: int = 1) -> tuple[list[dict[int, float]], list[int]]:
    vocab: dict[str, int] = {}
    counts: list[dict[int, int]] = []
    df: list[int] = []
    for t in texts:
        c: dict[int, int] = {}
        for w in ref_terms(t, name_boost):
            tid = vocab.get(w)
            if tid is None:
                tid = vocab[w] = len(vocab)
                df.append(0)
            c[tid] = c.get(tid, 0) + 1
        for tid in c:
            df[tid] += 1
        counts.append(c)
    n = len(texts)
    idf = [math.log((1 + n) / (1 + d)) + 1.0 for d in df]
    vecs = []
    for c in counts:
        v = {tid: (1.0 + math.log(tf)) * idf[tid] for tid, tf in c.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vecs.append({tid: x / norm for tid, x in v.items()})
    return vecs, df


def ref_cosine(a: dict[int, float], b: dict[int, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    get = b.get
    return sum(x * get(t, 0.0) for t, x in a.items())


def ref_candidate_pairs(vecs, df, params: EventParams) -> list[tuple[int, int]]:
    postings: dict[int, list[int]] = {}
    for i, v in enumerate(vecs):
        top = sorted(((w, t) for t, w in v.items() if df[t] >= 2), key=lambda p: (-p[0], p[1]))
        for _, t in top[: params.block_terms]:
            postings.setdefault(t, []).append(i)
    pairs: set[tuple[int, int]] = set()
    for docs in postings.values():
        if len(docs) < 2 or len(docs) > params.max_posting:
            continue
        for x in range(len(docs)):
            for y in range(x + 1, len(docs)):
                pairs.add((docs[x], docs[y]))
    return sorted(pairs)


def ref_average_linkage(n_units, sizes, unit_sims, threshold) -> list[int]:
    size = list(sizes)
    nbr: list[dict[int, float]] = [{} for _ in range(n_units)]
    for (u, v), s in unit_sims.items():
        nbr[u][v] = nbr[u].get(v, 0.0) + s
        nbr[v][u] = nbr[v].get(u, 0.0) + s
    heap = [(-s / (size[u] * size[v]), u, v) for (u, v), s in unit_sims.items() if s / (size[u] * size[v]) >= threshold]
    heapq.heapify(heap)
    alive = [True] * n_units
    owner = list(range(n_units))
    while heap:
        neg, u, v = heapq.heappop(heap)
        if not (alive[u] and alive[v]):
            continue
        cur = nbr[u].get(v, 0.0) / (size[u] * size[v])
        if abs(cur + neg) > 1e-12:
            continue
        alive[v] = False
        owner[v] = u
        size[u] += size[v]
        for x, s in nbr[v].items():
            if x == u:
                continue
            nbr[u][x] = nbr[u].get(x, 0.0) + s
            nbr[x][u] = nbr[x].get(u, 0.0) + s
            del nbr[x][v]
        nbr[u].pop(v, None)
        nbr[v] = {}
        for x, s in nbr[u].items():
            val = s / (size[u] * size[x])
            if val >= threshold:
                a, b = (u, x) if u < x else (x, u)
                heapq.heappush(heap, (-val, a, b))

    def root(x: int) -> int:
        while owner[x] != x:
            x = owner[x]
        return x

    return [root(u) for u in range(n_units)]


def ref_attach_lone_units(root, sizes, unit_sims, bar, share) -> list[int]:
    """A unit alone in its group joins the group of several units with the highest mean
    cosine to it, if that mean is >= bar and >= share * the group's own mean cosine."""
    units_in: dict[int, int] = {}
    docs_in: dict[int, int] = {}
    unit_sq: dict[int, int] = {}
    for u, r in enumerate(root):
        units_in[r] = units_in.get(r, 0) + 1
        docs_in[r] = docs_in.get(r, 0) + sizes[u]
        unit_sq[r] = unit_sq.get(r, 0) + sizes[u] * sizes[u]
    within: dict[int, float] = {}
    toward: dict[tuple[int, int], float] = {}
    for (u, v), s in sorted(unit_sims.items()):  # a lone unit's neighbours in order
        ru, rv = root[u], root[v]
        if ru == rv:
            within[ru] = within.get(ru, 0.0) + s
        elif units_in[ru] == 1 and units_in[rv] > 1:
            toward[(u, rv)] = toward.get((u, rv), 0.0) + s
        elif units_in[rv] == 1 and units_in[ru] > 1:
            toward[(v, ru)] = toward.get((v, ru), 0.0) + s
    best: dict[int, tuple[float, int]] = {}
    for (u, g), s in toward.items():
        mean = s / (sizes[u] * docs_in[g])
        if u not in best or (mean, -g) > (best[u][0], -best[u][1]):
            best[u] = (mean, g)
    out = list(root)
    for u, (mean, g) in best.items():
        pairs = (docs_in[g] * docs_in[g] - unit_sq[g]) / 2
        if mean >= bar and mean >= share * (within.get(g, 0.0) / pairs):
            out[u] = g
    return out


def ref_event_groups(texts, units, params: EventParams | None = None, dates=None) -> tuple[list[int], int]:
    params = params or EventParams()
    n = len(texts)
    vecs, df = ref_tfidf_vectors(texts, params.name_boost)
    unit_ids: dict[int, int] = {}
    doc_unit = [unit_ids.setdefault(u, len(unit_ids)) for u in units]
    sizes = [0] * len(unit_ids)
    for u in doc_unit:
        sizes[u] += 1
    sims: dict[tuple[int, int], float] = {}
    cands = ref_candidate_pairs(vecs, df, params)
    for i, j in cands:
        ui, uj = doc_unit[i], doc_unit[j]
        if ui == uj:
            continue
        c = ref_cosine(vecs[i], vecs[j])
        if dates is not None and params.date_window_days is not None and dates[i] is not None \
                and dates[j] is not None and abs(dates[i] - dates[j]) > params.date_window_days * 86400:
            c = 0.0
        if c < params.min_cosine:
            continue
        key = (ui, uj) if ui < uj else (uj, ui)
        sims[key] = sims.get(key, 0.0) + c
    unit_root = ref_average_linkage(len(unit_ids), sizes, sims, params.threshold)
    if params.attach_threshold is not None:
        unit_root = ref_attach_lone_units(unit_root, sizes, sims, params.attach_threshold, params.attach_cohesion)
    first_doc: dict[int, int] = {}
    labels = []
    for i in range(n):
        r = unit_root[doc_unit[i]]
        labels.append(first_doc.setdefault(r, i))
    return labels, len(cands)


# ------------------------------------------------------------------ fixtures

NAMES = ("Carlisle Bath Leeds Cardiff Dundee Exeter Norwich Preston Swansea Truro Oban Perth Derby Luton Wigan "
         "Tindall Martlew Price Connolly Hughes Reid Okafor Nakamura Silva Novak Haddad Kowalski Byrne").split()
NOUNS = ["council", "budget", "bridge", "hospital", "school", "river", "station", "market", "stadium", "flood",
         "storm", "vote", "court", "strike", "fire", "election", "merger", "trial", "match", "festival"]


FILLER = ("morning evening officials residents plans costs figures police families teachers drivers workers "
          "delays repairs changes talks concerns support funding decision meeting report staff services roads "
          "homes prices safety weather traffic crowds visitors members leaders players fans tickets results "
          "schools parents doctors patients nurses cases tests rules limits warnings damage claims checks").split()


def story(rng: random.Random, topic: int, n: int) -> str:
    """A report on event ``topic``: its names, nouns and number among common words in random
    order (two reports of one event share those, not phrases: not near-duplicates)."""
    own = random.Random(topic)
    names, nouns = own.sample(NAMES, 3), own.sample(NOUNS, 3)
    number = own.randint(100, 9999)
    out = []
    for _ in range(n):
        words = rng.sample(FILLER, 8) + [rng.choice(names), rng.choice(names), rng.choice(nouns), str(number)]
        rng.shuffle(words)
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def corpus(seed: int = 1, n: int = 120) -> list[str]:
    """Reports on a few dozen events, copies, edge cases (empty, stop words only, unicode)."""
    rng = random.Random(seed)
    texts = [FLOOD, FLOOD_OTHER, RUGBY, BANK, truncated(FLOOD), boiler(RUGBY), edited(BANK)]
    texts += ["", "the and of it was said", "ＣＡＲＬＩＳＬＥ ｆｌｏｏｄ 2005 ２００５", "Bath Bath bath BATH 10 100 1000"]
    while len(texts) < n:
        texts.append(story(rng, rng.randrange(25), rng.randint(1, 6)))
    return texts


def units_for(n: int, seed: int = 2) -> list[int]:
    """Near-duplicate groups: most documents alone, some joined to an earlier one."""
    rng = random.Random(seed)
    return [i if rng.random() < 0.7 else rng.randrange(max(1, i)) for i in range(n)]


def whole(texts, params: EventParams | None = None):
    params = params or EventParams()
    counts = ev.count_terms(texts, params.name_boost)
    (ids,), n_terms = ev.merge_vocabularies([counts.vocab])
    df = ev.document_frequencies([counts.df], [ids], n_terms)
    vectors, blocks = ev.weigh_documents(counts, ids, df, ev.inverse_document_frequency(df, len(texts)), 0,
                                         params.block_terms)
    return vectors, blocks, df, n_terms


def same_floats(a, b) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return bool(np.array_equal(a, b)) if SEQUENTIAL_SUM else bool(np.allclose(a, b, rtol=1e-12, atol=1e-15))


# ------------------------------------------------------------------ terms, vocabulary, weights

@pytest.mark.parametrize("boost", [1, 2, 3])
def test_document_terms_count_what_the_reference_lists(boost):
    for text in corpus():
        got = ev.document_terms(tokens(text), boost)
        want: dict[str, int] = {}
        for w in ref_terms(text, boost):
            want[w] = want.get(w, 0) + 1
        assert list(got.items()) == list(want.items())


def test_term_ids_df_and_weights_match_the_reference():
    texts = corpus()
    vectors, _, df, _ = whole(texts)
    vecs, ref_df = ref_tfidf_vectors(texts, EventParams().name_boost)
    assert df.tolist() == ref_df
    for i, v in enumerate(vecs):
        a, b = vectors.off[i], vectors.off[i + 1]
        assert vectors.gid[a:b].tolist() == list(v), i  # same ids, same order
        assert same_floats(vectors.weight[a:b], list(v.values())), i


def test_parts_give_the_same_rows_and_blocks_as_the_whole():
    texts, params = corpus(), EventParams()
    vectors, blocks, df, n_terms = whole(texts)
    cuts = [0, 1, 13, 14, 60, len(texts)]  # uneven parts, one of a single document
    parts = [ev.count_terms(texts[a:b], params.name_boost) for a, b in pairwise(cuts)]
    ids, n_terms_parts = ev.merge_vocabularies([p.vocab for p in parts])
    part_df = ev.document_frequencies([p.df for p in parts], ids, n_terms_parts)
    assert n_terms_parts == n_terms and np.array_equal(part_df, df)
    idf = ev.inverse_document_frequency(part_df, len(texts))
    weighed = [ev.weigh_documents(p, i, part_df, idf, a, params.block_terms) for p, i, a in zip(parts, ids, cuts)]
    joined = ev.DocVectors.concat([w[0] for w in weighed])
    assert np.array_equal(joined.gid, vectors.gid) and np.array_equal(joined.off, vectors.off)
    assert np.array_equal(joined.weight, vectors.weight)
    assert np.array_equal(np.sort(np.concatenate([w[1] for w in weighed])), np.sort(blocks))


def test_merge_vocabularies_numbers_terms_by_first_appearance():
    parts = [np.array([9, 4], np.uint64), np.array([], np.uint64), np.array([4, 7, 9, 1], np.uint64)]
    ids, n = ev.merge_vocabularies(parts)
    assert [i.tolist() for i in ids] == [[0, 1], [], [1, 2, 0, 3]] and n == 4


# ------------------------------------------------------------------ candidates, cosines

@pytest.mark.parametrize("params", [EventParams(), EventParams(block_terms=3, max_posting=5),
                                    EventParams(block_terms=40, max_posting=1000)])
def test_candidate_pairs_match_the_reference(params):
    texts = corpus(seed=3)
    _, blocks, _, _ = whole(texts, params)
    keys = ev.candidate_pairs(blocks, len(texts), params.max_posting)
    vecs, ref_df = ref_tfidf_vectors(texts, params.name_boost)
    want = ref_candidate_pairs(vecs, ref_df, params)
    assert [divmod(int(k), len(texts)) for k in keys] == want


def test_ties_at_the_blocking_cut_go_to_the_earlier_term():
    # every term once in each of its documents: equal weights everywhere, only term ids decide
    words = [f"word{k:02d}" for k in range(30)]
    texts = [" ".join(words[k : k + 20]) for k in range(8)] + [" ".join(reversed(words))]
    params = EventParams(block_terms=5, max_posting=100)
    _, blocks, _, _ = whole(texts, params)
    keys = ev.candidate_pairs(blocks, len(texts), params.max_posting)
    vecs, df = ref_tfidf_vectors(texts)
    assert [divmod(int(k), len(texts)) for k in keys] == ref_candidate_pairs(vecs, df, params)


def test_cosines_match_the_reference_in_any_blocks(monkeypatch):
    texts = corpus(seed=4, n=150)
    params = EventParams(block_terms=30, max_posting=200)
    vectors, blocks, _, n_terms = whole(texts, params)
    first, second = ev.split_pairs(ev.candidate_pairs(blocks, len(texts), params.max_posting), len(texts))
    vecs, _ = ref_tfidf_vectors(texts, params.name_boost)
    want = [ref_cosine(vecs[i], vecs[j]) for i, j in zip(first.tolist(), second.tolist())]
    assert len(want) > 1000
    assert same_floats(ev.pair_cosines(vectors, first, second, n_terms), want)
    for docs, pairs, entries in [(1, 1, 1), (3, 7, 50), (64, 100_000, 10)]:  # blocks cut everywhere
        monkeypatch.setattr(ev, "_BLOCK_DOCS", docs)
        monkeypatch.setattr(ev, "_BLOCK_PAIRS", pairs)
        monkeypatch.setattr(ev, "_BLOCK_ENTRIES", entries)
        assert same_floats(ev.pair_cosines(vectors, first, second, n_terms), want)
    some = slice(17, 400)  # any range of the pairs, as a task gets
    assert same_floats(ev.pair_cosines(vectors, first[some], second[some], n_terms), want[some])


# ------------------------------------------------------------------ sums, selection, linkage

@pytest.mark.parametrize("rounds", [1024, 3])
def test_sequential_sums_add_left_to_right(monkeypatch, rounds):
    monkeypatch.setattr(ev, "_ROUNDS", rounds)
    rng = np.random.default_rng(5)
    lengths = rng.integers(0, 40, size=300)
    lengths[::50] = 0
    off = np.r_[0, np.cumsum(lengths)]
    values = rng.random(int(off[-1])) * rng.random(int(off[-1])) * 10.0 ** rng.integers(-8, 8, int(off[-1]))
    want = []
    for a, b in pairwise(off.tolist()):
        s = 0.0
        for x in values[a:b].tolist():
            s += x
        want.append(s)
    assert ev.sequential_sums(values, off).tolist() == want


def test_kth_largest_per_segment():
    rng = np.random.default_rng(6)
    lengths = rng.integers(0, 200, size=120)
    off = np.r_[0, np.cumsum(lengths)]
    values = rng.integers(0, 20, int(off[-1])).astype(np.float64)  # many ties
    for k in (1, 5, 15):
        got = ev._kth_largest(values, off, k)
        want = [sorted(values[a:b].tolist(), reverse=True)[k - 1] if b - a >= k else -np.inf
                for a, b in pairwise(off.tolist())]
        assert got.tolist() == want


def test_average_linkage_matches_the_dict_version():
    rng = random.Random(7)
    for trial in range(30):
        n = rng.randint(2, 40)
        sizes = [rng.randint(1, 3) for _ in range(n)]
        sims = {}
        for _ in range(rng.randint(0, 4 * n)):
            u, v = sorted(rng.sample(range(n), 2))
            sims[(u, v)] = round(rng.random() * sizes[u] * sizes[v], 2)  # equal values: ties
        threshold = rng.choice([0.1, 0.3, 0.5])
        want = ref_average_linkage(n, sizes, sims, threshold)
        assert ev.average_linkage(n, sizes, sims, threshold) == want, trial
        arrays = tuple(np.array(x) for x in zip(*((u, v, s) for (u, v), s in sims.items()))) if sims else (
            np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        assert ev.average_linkage(n, sizes, arrays, threshold) == want, trial


def random_unit_sims(rng: random.Random, n: int, sizes: list[int]) -> dict[tuple[int, int], float]:
    sims = {}
    for _ in range(rng.randint(0, 4 * n)):
        u, v = sorted(rng.sample(range(n), 2))
        sims[(u, v)] = round(rng.random() * sizes[u] * sizes[v], 2)  # equal values: ties
    return sims


def test_attach_lone_units_matches_the_dict_version():
    rng = random.Random(11)
    for trial in range(60):
        n = rng.randint(2, 40)
        sizes = [rng.randint(1, 3) for _ in range(n)]
        sims = random_unit_sims(rng, n, sizes)
        root = ref_average_linkage(n, sizes, sims, rng.choice([0.3, 0.5, 0.8]))
        bar, share = rng.choice([0.0, 0.1, 0.3]), rng.choice([0.0, 0.4, 1.0])
        arrays = tuple(np.array(x) for x in zip(*sorted((u, v, s) for (u, v), s in sims.items()))) if sims else (
            np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        got = ev.attach_lone_units(root, sizes, arrays, bar, share).tolist()
        assert got == ref_attach_lone_units(root, sizes, sims, bar, share), trial


# ------------------------------------------------------------------ the whole

@pytest.mark.parametrize("params", [EventParams(), EventParams(threshold=0.05),
                                    EventParams(threshold=0.12, name_boost=1),
                                    EventParams(threshold=0.5, attach_threshold=0.05, attach_cohesion=0.0),
                                    EventParams(attach_threshold=None)])
@pytest.mark.parametrize("seed", [1, 8])
def test_event_groups_match_the_reference(params, seed):
    texts = corpus(seed=seed, n=160)
    units = units_for(len(texts), seed)
    got = ev.event_groups(texts, units, params)
    want = ref_event_groups(texts, units, params)
    assert got == want
    assert len(set(got[0])) < len(set(units))  # events really merge units


def record_dates(n: int, seed: int) -> list[float | None]:
    """Dates over two years (some unknown), so that some candidate pairs are months apart."""
    rng = random.Random(seed)
    return [None if rng.random() < 0.3 else 1.2e9 + rng.randrange(730) * 86400.0 for _ in range(n)]


@pytest.mark.parametrize("seed", [1, 8])
def test_event_groups_with_dates_match_the_reference(seed):
    texts = corpus(seed=seed, n=160)
    units, dates = units_for(len(texts), seed), record_dates(len(texts), seed)
    got = ev.event_groups(texts, units, dates=dates)
    assert got == ref_event_groups(texts, units, dates=dates)
    assert got != ev.event_groups(texts, units)  # the dates kept some reports apart
    assert ev.event_groups(texts, units, EventParams(date_window_days=None), dates) == ev.event_groups(texts, units)


def test_event_groups_in_small_parts_and_tables(monkeypatch):
    texts = corpus(seed=9, n=130)
    units = units_for(len(texts), 9)
    want = ref_event_groups(texts, units)
    monkeypatch.setattr(ev, "_WEIGH_DOCS", 7)  # weighed 7 documents at a time
    monkeypatch.setattr(ev, "_TABLE_CELLS", 40)  # padded rows a few at a time
    monkeypatch.setattr(ev, "_PAIR_BATCH", 50)  # candidate pairs generated 50 at a time
    assert ev.event_groups(texts, units) == want


def test_event_groups_of_nothing_and_of_one():
    assert ev.event_groups([], []) == ([], 0)
    assert ev.event_groups(["Flood in Carlisle"], [0]) == ([0], 0)
    assert ev.event_groups(["", ""], [5, 9]) == ([0, 1], 0)
