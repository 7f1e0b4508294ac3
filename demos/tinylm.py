"""The model every demo trains: a decoder-only transformer in the style of nanoGPT, small
enough to train in seconds on a CPU. Only the model lives here; the text it reads is
toyworld.py's, the loops that train it are training.py's and each demo's own.

Shapes: B rows, T positions, D = d_model, H heads, V the vocabulary.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    """Pre-norm transformer block: causal self-attention, then an MLP, each added back."""

    def __init__(self, d_model: int, n_heads: int, dropout: float):
        super().__init__()
        self.n_heads = n_heads
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model)
        )
        self.dropout = dropout

    def forward(
        self,
        x: torch.Tensor,
        past: list[torch.Tensor] | None = None,
        reads: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """`past`: this block's slot of a KVCache (the keys and values of the earlier
        positions, which it reads and extends); with earlier positions, x is one new one.
        `reads` (B, T, T) bool: which positions each position may read, in place of causal."""
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=-1)  # each (B, T, D)
        # (B, T, D) -> (B, H, T, D/H)
        q, k, v = (t.view(B, T, self.n_heads, D // self.n_heads).transpose(1, 2) for t in (q, k, v))
        causal = True
        if past is not None:
            if past:  # the keys and values of the earlier positions: (B, H, T_past, D/H)
                if T != 1:
                    raise ValueError("after the first call, a KVCache takes one position a call")
                k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
                causal = False  # the one new position reads every earlier one
            past[:] = [k, v]
        drop = self.dropout if self.training else 0.0
        # (B, H, T, D/H): each position's mix of the values at positions <= it
        if reads is not None:
            att = F.scaled_dot_product_attention(q, k, v, attn_mask=reads[:, None], dropout_p=drop)
        else:
            att = F.scaled_dot_product_attention(q, k, v, is_causal=causal, dropout_p=drop)
        x = x + self.proj(att.transpose(1, 2).reshape(B, T, D))  # (B, T, D)
        return x + self.mlp(self.ln2(x))  # (B, T, D)


class KVCache:
    """The keys and values each block computed for the positions read so far: sampling then
    feeds one new position a step instead of re-reading the whole prefix (same numbers)."""

    def __init__(self, n_layers: int):
        self.layers: list[list[torch.Tensor]] = [[] for _ in range(n_layers)]  # [keys, values]
        self.length = 0  # positions read so far


class TinyGPT(nn.Module):
    """Token + position embeddings, a few blocks, and a linear read-out to the vocabulary."""

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 64,
        n_layers: int = 2,
        n_heads: int = 4,
        max_len: int = 64,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.max_len = max_len
        self.d_model = d_model
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_len, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, dropout) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)

    def hidden(
        self,
        input_ids: torch.Tensor,
        cache: KVCache | None = None,
        reads: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, T) token ids -> (B, T, D) final hidden states (what a scalar head reads).

        With a `cache`, input_ids are the positions after those it has read (it keeps theirs).
        `reads` (B, T, T) bool replaces the causal mask in every block (True: may read): a
        causal mask with some reads taken out, to test what the model needs to read."""
        start = cache.length if cache is not None else 0
        seq_len = start + input_ids.shape[1]
        if seq_len > self.max_len:
            raise ValueError(f"{seq_len} tokens are more than max_len={self.max_len}")
        pos = torch.arange(start, seq_len, device=input_ids.device)  # (T,)
        x = self.tok_emb(input_ids) + self.pos_emb(pos)  # (B, T, D) + (T, D)
        for i, block in enumerate(self.blocks):
            x = block(x, None if cache is None else cache.layers[i], reads)  # (B, T, D)
        if cache is not None:
            cache.length = seq_len
        return self.ln_f(x)

    def forward(
        self,
        input_ids: torch.Tensor,
        cache: KVCache | None = None,
        reads: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, T) token ids -> (B, T, V) logits; logits[:, t] predict input_ids[:, t+1]."""
        return self.lm_head(self.hidden(input_ids, cache, reads))


class ScalarHead(nn.Module):
    """A language model body with one number per position on top: a reward or value model.

    Built from a (usually pretrained) TinyGPT so that it starts out knowing the language.
    """

    def __init__(self, body: TinyGPT):
        super().__init__()
        self.body = body
        self.head = nn.Linear(body.d_model, 1)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(B, T) token ids -> (B, T) scalars."""
        return self.head(self.body.hidden(input_ids)).squeeze(-1)  # (B, T, 1) -> (B, T)


@torch.no_grad()
def attention_maps(model: TinyGPT, input_ids: torch.Tensor) -> list[torch.Tensor]:
    """Each layer's attention weights, (B, H, T, T): how much each position reads each
    earlier one. Recomputed outside the fused attention kernel, which does not return them.
    """
    B, T = input_ids.shape
    x = model.tok_emb(input_ids) + model.pos_emb(torch.arange(T, device=input_ids.device))
    future = torch.ones(T, T, dtype=torch.bool, device=input_ids.device).triu(1)  # (T, T)
    maps = []
    for block in model.blocks:
        D, H = x.shape[-1], block.n_heads
        q, k, _ = block.qkv(block.ln1(x)).split(D, dim=-1)  # each (B, T, D)
        q, k = (t.view(B, T, H, D // H).transpose(1, 2) for t in (q, k))  # (B, H, T, D/H)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(D // H)  # (B, H, T, T)
        maps.append(scores.masked_fill(future, float("-inf")).softmax(-1))
        x = block(x)  # (B, T, D)
    return maps
