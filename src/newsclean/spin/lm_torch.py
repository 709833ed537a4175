"""The language model of :mod:`.lm` run by PyTorch in bfloat16 (``--spin-lm-backend torch``).

The model's time goes to its dense products, and numpy's float32 products already run at
the processor's float32 peak (190 GFLOP/s on 2 cores of an AMD EPYC with AVX-512).
PyTorch's CPU build multiplies bfloat16 matrices with the processor's own bfloat16 dot
products (oneDNN): 375-420 GFLOP/s on the same cores.  Weights and the inputs of each
product are rounded to bfloat16; the residual stream, norms, attention and softmax stay
in float32.  Swap gains move by 0.07 nats on average (0.3 at most) against float32,
so decisions can differ where a swap's odds are near the line: the backend is chosen,
never switched on by finding torch installed.

Sequences of a batch are padded into one block, so attention is a few products per
layer rather than a few per sequence; a prefix's keys and values (:class:`Past`) are
rows of that block, gathered by index when a later pass continues them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .lm import LOGIT_BLOCK, GGUFModel, ModelError

# sequences of a batch are attended in this many groups of like width: the padding of
# one block of all of them made attention 12 % of the time on the dev spin set
ATTENTION_GROUPS = 4

try:
    import torch
except ImportError:  # checked when a model is loaded with this backend
    torch = None


@dataclass(frozen=True)
class _Block:
    """Keys and values of every layer for a padded batch: (sequences x width, 2 x kv
    heads, head dim) each, keys then values, sequence j's position t at row j * width + t."""

    kv: list
    width: int


@dataclass(frozen=True)
class Past:
    """The keys and values of the first ``length`` positions of sequence ``row`` of a
    block: what a later pass reads after."""

    block: _Block
    row: int
    length: int

    def __getitem__(self, layer: int) -> tuple:
        """(keys, values) of ``layer``, as in a cache of :mod:`.lm`'s runner."""
        a = self.row * self.block.width
        kv = self.block.kv[layer][a:a + self.length]
        return kv.tensor_split(2, dim=1)

    def __iter__(self):
        return (self[i] for i in range(len(self.block.kv)))


class TorchModel(GGUFModel):
    """:class:`~.lm.GGUFModel` with its products in bfloat16 through PyTorch."""

    # a block holds every sequence at the width of the longest (a run restoring a shard of
    # 3,000 texts in one block held 22 GB): chunks are counted padded
    PADDED = True

    def __init__(self, path: str, dtype=None):
        """``dtype``: of the products (default bfloat16; float32 reads as the numpy backend)."""
        if torch is None:
            raise ModelError("the torch backend needs PyTorch >= 2.5 (pip install torch; its CPU build is enough)")
        if tuple(int(p) for p in torch.__version__.split(".")[:2]) < (2, 5):
            raise ModelError(f"the torch backend needs PyTorch >= 2.5 (grouped-query attention), not {torch.__version__}")
        super().__init__(path)
        self.dtype = dtype or torch.bfloat16

        def matrix(m: np.ndarray):  # (in, out): x @ w
            return torch.from_numpy(np.ascontiguousarray(m.T)).to(self.dtype)

        self._dense = [{"attn_norm": torch.tensor(layer.attn_norm), "ffn_norm": torch.tensor(layer.ffn_norm),
                        "qkv": matrix(layer.qkv), "attn_out": matrix(layer.attn_out),
                        "gate_up": matrix(layer.gate_up), "down": matrix(layer.down)} for layer in self.layers]
        self._out = matrix(self.out)
        self._embed = torch.from_numpy(self.embed)
        self._output_norm = torch.tensor(self.output_norm)

    def prefix(self, cache: Past, length: int) -> Past:
        return Past(cache.block, cache.row, length)

    def _product(self, x, w):
        """``x @ w`` in the model's dtype (float32 in, bfloat16 out: a sum with float32 is float32)."""
        return x.to(self.dtype) @ w

    @staticmethod
    def _rope(x, cos, sin):
        half = x.shape[-1] // 2
        a, b = x[..., :half], x[..., half:]
        return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)

    def _rms(self, x, weight):
        return x * (weight * torch.rsqrt((x * x).mean(-1, keepdim=True) + self.cfg.eps))

    def hidden_many(self, seqs: Sequence[Sequence[int]], pasts: Sequence[Past | None] | None = None,
                    rows: Sequence[np.ndarray | None] | None = None) -> tuple[list[np.ndarray], list[Past]]:
        """:meth:`.lm.GGUFModel.hidden_many`, the pasts and the caches returned being
        :class:`Past` rows of padded blocks."""
        cfg = self.cfg
        nh, nkv, hd = cfg.heads, cfg.kv_heads, cfg.head_dim
        pasts = list(pasts) if pasts is not None else [None] * len(seqs)
        rows = list(rows) if rows is not None else [None] * len(seqs)
        plan = _Padding(seqs, pasts)
        cos, sin = (torch.from_numpy(a) for a in self._rotation(plan.positions))
        read = torch.from_numpy(np.concatenate([np.arange(a, a + n) if r is None else a + np.asarray(r, dtype=np.int64)
                                                for a, n, r in zip(plan.bounds, plan.lengths, rows)]))
        x = self._embed[torch.from_numpy(np.concatenate([np.asarray(s, dtype=np.int64) for s in seqs]))]
        block = _Block([], plan.width)
        for i, layer in enumerate(self._dense):
            qkv = self._product(self._rms(x, layer["attn_norm"]), layer["qkv"]).float().view(len(x), nh + 2 * nkv, hd)
            # queries and keys turned in one step; keys and values laid out as one block
            qk = self._rope(qkv[:, :nh + nkv], cos, sin)
            kv = torch.cat([qk[:, nh:], qkv[:, nh + nkv:]], dim=1)
            held = plan.past_block
            kv = plan.laid_out(kv, held.kv[i] if held else None)
            block.kv.append(kv)
            attended = plan.attend(qk[:, :nh], kv, nkv)
            if i == len(self._dense) - 1 and len(read) < len(x):
                x, attended = x[read], attended[read]
            x = x + self._product(attended, layer["attn_out"])
            gate, up = self._product(self._rms(x, layer["ffn_norm"]), layer["gate_up"]).float().chunk(2, dim=-1)
            x = x + self._product(torch.nn.functional.silu(gate) * up, layer["down"])
        hidden = self._rms(x, self._output_norm).numpy()
        sizes = [n if r is None else len(r) for n, r in zip(plan.lengths, rows)]
        caches = [Past(block, j, int(plan.starts[j] + plan.lengths[j])) for j in range(len(seqs))]
        return np.split(hidden, np.cumsum(sizes)[:-1]), caches

    def next_token_logprobs(self, hidden: np.ndarray, tokens: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """:meth:`.lm.GGUFModel.next_token_logprobs` from the bfloat16 logits (the
        token's and the normaliser's alike)."""
        h = torch.from_numpy(np.ascontiguousarray(hidden, dtype=np.float32))
        rows = np.asarray(rows, dtype=np.int64)
        tokens = np.asarray(tokens, dtype=np.int64)
        out = np.empty(len(rows), dtype=np.float32)
        # every block's logits go into the same two arrays, normalised in place: new
        # arrays per block (25-50 MB each) took 143 ms for 450 states, these 111 ms
        size = (min(LOGIT_BLOCK, len(h)), self._out.shape[1])
        products, logits = torch.empty(size, dtype=self._out.dtype), torch.empty(size)
        for a in range(0, len(h), LOGIT_BLOCK):
            here = np.flatnonzero((rows >= a) & (rows < a + LOGIT_BLOCK))
            if not len(here):
                continue
            block = h[a:a + LOGIT_BLOCK]
            n = len(block)
            torch.mm(block.to(self.dtype), self._out, out=products[:n])
            x = logits[:n]
            x.copy_(products[:n])
            r, t = torch.from_numpy(rows[here] - a), torch.from_numpy(tokens[here])
            picked = x[r, t]
            top = x.amax(-1)
            lse = top + x.sub_(top[:, None]).exp_().sum(-1).log()
            out[here] = (picked - lse[r]).numpy()
        return out


class _Padding:
    """Where each token of a batch sits in the padded block (sequences x width): a
    sequence's past first, then its new tokens.  Attention runs in groups of sequences of
    like width (:data:`ATTENTION_GROUPS`), each padded only to its own longest."""

    def __init__(self, seqs: Sequence[Sequence[int]], pasts: Sequence[Past | None]):
        self.lengths = np.array([len(s) for s in seqs], dtype=np.int64)
        self.starts = np.array([0 if p is None else p.length for p in pasts], dtype=np.int64)
        self.bounds = np.concatenate([[0], np.cumsum(self.lengths)])[:-1]
        widths = self.starts + self.lengths
        self.width = int(widths.max())
        seq = np.repeat(np.arange(len(seqs)), self.lengths)
        at = np.arange(int(self.lengths.sum())) - self.bounds[seq]
        self.positions = self.starts[seq] + at
        self.key_slot = torch.from_numpy(seq * self.width + self.positions)
        order = np.argsort(widths, kind="stable")
        self.groups = [_Group(rows, self.starts, self.lengths, self.bounds)
                       for rows in np.array_split(order, min(ATTENTION_GROUPS, len(order)))]
        # the pasts' rows in their block and in this one (one gather per layer)
        held = [(j, p) for j, p in enumerate(pasts) if p is not None]
        self.past_block = held[0][1].block if held else None
        if any(p.block is not self.past_block for _, p in held):
            raise ValueError("the pasts of one batch must come from one pass")
        self.past_from = torch.from_numpy(np.concatenate(
            [p.row * p.block.width + np.arange(p.length) for _, p in held] or [np.zeros(0, dtype=np.int64)]))
        self.past_to = torch.from_numpy(np.concatenate(
            [j * self.width + np.arange(p.length) for j, p in held] or [np.zeros(0, dtype=np.int64)]))

    def laid_out(self, new, past):
        """Keys and values of one layer in the padded block: each sequence's past (rows
        of ``past``, the same layer's in the pasts' block), then its new ones; padding
        is zero."""
        out = new.new_zeros((len(self.lengths) * self.width,) + tuple(new.shape[1:]))
        if past is not None:
            out[self.past_to] = past[self.past_from]
        out[self.key_slot] = new
        return out

    def attend(self, q, kv, kv_heads: int):
        """Attention of every new token over its sequence's visible keys, (tokens, heads x
        head dim); ``kv`` holds the keys, then the values, of ``kv_heads`` heads, each
        shared by heads / kv_heads query heads."""
        heads, hd = q.shape[1], q.shape[2]
        out = q.new_empty((len(q), heads * hd))
        kv = kv.view(len(self.lengths), self.width, 2 * kv_heads, hd)
        keys, values = kv[:, :, :kv_heads], kv[:, :, kv_heads:]
        for g in self.groups:
            b = len(g.rows)
            padded = q.new_zeros((b * g.queries, heads, hd))
            padded[g.slots] = q[g.tokens]
            qb = padded.view(b, g.queries, heads, hd).transpose(1, 2)
            kb = keys[g.rows, :g.width].transpose(1, 2)
            vb = values[g.rows, :g.width].transpose(1, 2)
            att = torch.nn.functional.scaled_dot_product_attention(qb, kb, vb, attn_mask=g.mask, scale=1.0,
                                                                   enable_gqa=True)
            out[g.tokens] = att.transpose(1, 2).reshape(b * g.queries, heads * hd)[g.slots]
        return out


class _Group:
    """Sequences ``rows`` of a batch attended together: their tokens (indices in the
    batch), those tokens' slots in the group's padded queries, and the causal mask."""

    def __init__(self, rows: np.ndarray, starts: np.ndarray, lengths: np.ndarray, bounds: np.ndarray):
        self.rows = torch.from_numpy(rows)
        self.width = int((starts[rows] + lengths[rows]).max())
        self.queries = int(lengths[rows].max())
        self.tokens = torch.from_numpy(np.concatenate([np.arange(bounds[j], bounds[j] + lengths[j]) for j in rows]))
        self.slots = torch.from_numpy(np.concatenate([k * self.queries + np.arange(lengths[j])
                                                      for k, j in enumerate(rows)]))
        visible = (np.arange(self.width)[None, None, :]
                   <= starts[rows][:, None, None] + np.arange(self.queries)[None, :, None])
        self.mask = torch.from_numpy(np.where(visible, 0.0, -np.inf).astype(np.float32))[:, None]
