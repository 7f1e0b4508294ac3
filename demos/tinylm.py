"""The plumbing every demo shares: a character tokenizer, a tiny GPT, a toy world to learn, and
the command-line options. Each demo keeps its own formula and the loop that trains with it
(pipeline.py borrows dpo.train_dpo, preferences.py sft.train_sft); only what would otherwise be
copied into every file lives here.

Conventions (the same as Hugging Face TRL):
  logits[:, t] predict input_ids[:, t+1];
  response_mask[:, t] = 1 where input_ids[:, t] is a token of the response Y;
  a sequence's log-probability is the sum over its response tokens.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

# -------------------------------------------------------------------------------------------------
# tokenizer: one token per character, so every tensor can be read back as text


PAD = "_"  # fills the end of shorter rows in a batch; never predicted
EOS = "|"  # ends a response: the model learns to stop by predicting it
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 .,:;?!'->\n" + PAD + EOS


class CharTokenizer:
    """Maps each character of `alphabet` to one id; PAD and EOS must be in it."""

    def __init__(self, alphabet: str):
        self.alphabet = alphabet
        self.stoi = {ch: i for i, ch in enumerate(alphabet)}
        self.pad_id = self.stoi[PAD]
        self.eos_id = self.stoi[EOS]
        self.vocab_size = len(alphabet)

    def encode(self, text: str) -> list[int]:
        try:
            return [self.stoi[ch] for ch in text]
        except KeyError as err:
            raise ValueError(f"character {err.args[0]!r} is not in the demo alphabet") from None

    def decode(self, ids: list[int] | torch.Tensor) -> str:
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return "".join(self.alphabet[i] for i in ids)


TOKENIZER = CharTokenizer(ALPHABET)


# -------------------------------------------------------------------------------------------------
# model: a decoder-only transformer in the style of nanoGPT, small enough to train in seconds


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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=-1)
        # (B, T, D) -> (B, heads, T, D/heads)
        q, k, v = (t.view(B, T, self.n_heads, D // self.n_heads).transpose(1, 2) for t in (q, k, v))
        drop = self.dropout if self.training else 0.0
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=drop)
        x = x + self.proj(att.transpose(1, 2).reshape(B, T, D))
        return x + self.mlp(self.ln2(x))


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

    def hidden(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(B, T) token ids -> (B, T, d_model) final hidden states (what a scalar head reads)."""
        seq_len = input_ids.shape[1]
        if seq_len > self.max_len:
            raise ValueError(f"{seq_len} tokens are more than max_len={self.max_len}")
        pos = torch.arange(seq_len, device=input_ids.device)
        x = self.tok_emb(input_ids) + self.pos_emb(pos)
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(B, T) token ids -> (B, T, vocab) logits; logits[:, t] predict input_ids[:, t+1]."""
        return self.lm_head(self.hidden(input_ids))


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
        return self.head(self.body.hidden(input_ids)).squeeze(-1)


def last_token_index(response_mask: torch.Tensor) -> torch.Tensor:
    """(B, T) response mask -> (B,) the position of each row's last response token."""
    positions = torch.arange(response_mask.shape[1], device=response_mask.device)
    return (positions * response_mask).argmax(dim=1)


def last_token_values(values: torch.Tensor, response_mask: torch.Tensor) -> torch.Tensor:
    """(B, T) per-position scalars -> (B,) the scalar at each row's last response token.

    A reward model scores a whole response where it has read all of it.
    """
    return values.gather(1, last_token_index(response_mask)[:, None]).squeeze(1)


def token_logprobs(logits: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
    """(B, T) log P(input_ids[:, t] | input_ids[:, <t]), aligned with input_ids.

    Position 0 has no prediction and gets 0, so the result lines up with response_mask.
    """
    logps = logits[:, :-1].log_softmax(-1).gather(-1, input_ids[:, 1:, None]).squeeze(-1)
    return F.pad(logps, (1, 0))


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of x over the positions where mask is set (all response tokens of the batch)."""
    mask = mask.to(x.dtype)
    return (x * mask).sum() / mask.sum()


def sampled_kl(
    logprobs: torch.Tensor, ref_logprobs: torch.Tensor, response_mask: torch.Tensor
) -> torch.Tensor:
    """KL(pi || pi_ref) = E_{Y~pi}[log pi(Y|X) - log pi_ref(Y|X)], estimated from samples Y ~ pi.

    `logprobs`: what pi gave its own sampled tokens (sample() returns them); `ref_logprobs`:
    what pi_ref gives the same tokens. Summed over each Y, averaged over the samples.
    """
    return ((logprobs - ref_logprobs) * response_mask).sum(1).mean()


def lm_loss(
    model: TinyGPT, ids: torch.Tensor, loss_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Next-token cross-entropy, the pretraining loss: logits[:, t] predict ids[:, t+1].

    With `loss_mask` (B, T) bool only the tokens it marks are predicted (and averaged over);
    the rest are still read as context.
    """
    logits = model(ids[:, :-1])
    targets = ids[:, 1:]
    if loss_mask is not None:
        targets = targets.masked_fill(~loss_mask[:, 1:], -100)  # cross_entropy skips -100
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


# -------------------------------------------------------------------------------------------------
# batches


def pad_batch(
    prompts: Sequence[str], responses: Sequence[str], device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Prompt + response + EOS per row, right-padded.

    Returns input_ids (B, T) long and response_mask (B, T) float marking the response tokens
    (EOS included: stopping is part of the answer). No attention mask is needed: causal
    attention never lets a token see the padding after it.
    """
    rows, masks = [], []
    for prompt, response in zip(prompts, responses, strict=True):
        x = TOKENIZER.encode(prompt)
        y = TOKENIZER.encode(response) + [TOKENIZER.eos_id]
        rows.append(x + y)
        masks.append([0.0] * len(x) + [1.0] * len(y))
    T = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), T), TOKENIZER.pad_id, dtype=torch.long)
    response_mask = torch.zeros(len(rows), T)
    for i, (row, mask) in enumerate(zip(rows, masks, strict=True)):
        input_ids[i, : len(row)] = torch.tensor(row)
        response_mask[i, : len(row)] = torch.tensor(mask)
    return input_ids.to(device), response_mask.to(device)


# -------------------------------------------------------------------------------------------------
# generation


@torch.no_grad()
def sample(
    model: TinyGPT,
    prompts_ids: list[list[int]],
    max_new_tokens: int,
    greedy: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Continue each prompt until EOS or max_new_tokens; all rows at once.

    Returns input_ids (B, T) (prompt + response, right-padded), response_mask (B, T) marking
    the generated tokens (EOS included), and logprobs (B, T): the log-probability each generated
    token had when it was sampled (0 elsewhere), i.e. PPO's "old" log-probs.
    The model samples in eval mode (no dropout) and is given back in the mode it was in.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    B = len(prompts_ids)
    lengths = [len(p) for p in prompts_ids]
    T = min(max(lengths) + max_new_tokens, model.max_len)
    input_ids = torch.full((B, T), TOKENIZER.pad_id, dtype=torch.long, device=device)
    for i, p in enumerate(prompts_ids):
        input_ids[i, : len(p)] = torch.tensor(p, device=device)
    response_mask = torch.zeros(B, T, device=device)
    logprobs = torch.zeros(B, T, device=device)
    cursor = torch.tensor(lengths, device=device)  # where each row writes its next token
    done = torch.zeros(B, dtype=torch.bool, device=device)
    rows = torch.arange(B, device=device)
    for _ in range(max_new_tokens):
        done |= cursor >= T
        if done.all():
            break
        # no KV cache: the model is tiny, and re-reading the buffer keeps this easy to follow
        logits = model(input_ids)[rows, (cursor - 1).clamp(max=T - 1)]
        logp = logits.log_softmax(-1)
        if greedy:
            token = logp.argmax(-1)
        else:
            token = torch.multinomial(logp.exp(), 1, generator=generator).squeeze(-1)
        active = rows[~done]
        at = cursor[active]
        input_ids[active, at] = token[active]
        response_mask[active, at] = 1.0
        logprobs[active, at] = logp[active, token[active]]
        done |= token == TOKENIZER.eos_id
        cursor = torch.where(done, cursor, cursor + 1)
    used = int(
        ((response_mask.sum(0) > 0) | (input_ids != TOKENIZER.pad_id).any(0)).nonzero().max()
    )
    model.train(was_training)
    return input_ids[:, : used + 1], response_mask[:, : used + 1], logprobs[:, : used + 1]


def answer_batch(model: TinyGPT, prompts: list[str], max_new_tokens: int = 16) -> list[str]:
    """Greedy answers to many prompts at once; an answer ends with EOS if the model stopped."""
    prompts_ids = [TOKENIZER.encode(p) for p in prompts]
    ids, mask, _ = sample(model, prompts_ids, max_new_tokens, greedy=True)
    return response_texts(ids, mask)


def response_texts(input_ids: torch.Tensor, response_mask: torch.Tensor) -> list[str]:
    """The response part of each row as text (EOS kept, so a finished answer ends with '|')."""
    return [
        TOKENIZER.decode(row[m.bool()]) for row, m in zip(input_ids, response_mask, strict=True)
    ]


# -------------------------------------------------------------------------------------------------
# the toy world: a few nouns with three facts each (German word, plural, category)


@dataclass(frozen=True)
class Word:
    english: str
    german: str
    plural: str
    category: str


WORDS: list[Word] = [
    Word("cat", "katze", "cats", "animal"),
    Word("dog", "hund", "dogs", "animal"),
    Word("mouse", "maus", "mice", "animal"),
    Word("bird", "vogel", "birds", "animal"),
    Word("cow", "kuh", "cows", "animal"),
    Word("apple", "apfel", "apples", "food"),
    Word("egg", "ei", "eggs", "food"),
    Word("cake", "kuchen", "cakes", "food"),
    Word("tree", "baum", "trees", "plant"),
    Word("flower", "blume", "flowers", "plant"),
    Word("book", "buch", "books", "thing"),
    Word("chair", "stuhl", "chairs", "thing"),
    Word("car", "auto", "cars", "thing"),
    Word("key", "schluessel", "keys", "thing"),
    Word("child", "kind", "children", "person"),
    Word("man", "mann", "men", "person"),
]

RELATIONS = ("german", "plural", "category")
FAQ_SHARE = 0.5  # share of facts the pretraining text states as "question? answer." lines


def answer(word: Word, relation: str) -> str:
    """The fact `relation` of `word`: the German word, the plural, or the category."""
    return getattr(word, relation)


def ask(word: Word, relation: str) -> str:
    """The question whose answer is the fact `relation` of `word`."""
    return {
        "german": f"what is the german word for {word.english}?",
        "plural": f"what is the plural of {word.english}?",
        "category": f"what kind of thing is a {word.english}?",
    }[relation]


def fact_sentence(word: Word, relation: str, faq: bool = False) -> str:
    """How the pretraining text states a fact: as a statement, or as a line of an FAQ page."""
    if faq:
        return f"{ask(word, relation)} {answer(word, relation)}."
    if relation == "german":
        return f"the german word for {word.english} is {word.german}."
    if relation == "plural":
        return f"one {word.english}, two {word.plural}."
    article = "an" if word.category[0] in "aeiou" else "a"
    return f"a {word.english} is {article} {word.category}."


def story_sentence(rng: random.Random) -> str:
    """Filler text without facts: the base model should mostly continue text like this."""
    a, b = rng.sample(WORDS, 2)
    verb = rng.choice(["sees", "likes", "finds", "has", "wants"])
    return f"the {a.english} {verb} the {b.english}."


def pretraining_text(rng: random.Random, n_lines: int) -> str:
    """A corpus of facts and filler, one sentence a line; every fact appears many times."""
    lines = []
    for _ in range(n_lines):
        if rng.random() < 0.1:
            lines.append(story_sentence(rng))
        else:
            faq = rng.random() < FAQ_SHARE
            lines.append(fact_sentence(rng.choice(WORDS), rng.choice(RELATIONS), faq))
    return "\n".join(lines) + "\n"


def question(word: Word, relation: str) -> str:
    """An instruction in the q/a format that SFT teaches; the base model never saw this format."""
    return f"q: {ask(word, relation)}\na: "


def instruction_pairs() -> list[tuple[Word, str]]:
    """Every (word, relation) the world knows, in a fixed order (demos shuffle and split it)."""
    return [(w, r) for w in WORDS for r in RELATIONS]


# -------------------------------------------------------------------------------------------------
# pretraining: the base model several demos start from


PRETRAIN_LR = 1e-2  # high for a transformer, fine for one this small
PRETRAIN_BATCH_SIZE = 32
PRETRAIN_BLOCK = 48  # tokens a window predicts: a few sentences
PRETRAIN_PRINT_EVERY = 100


def text_windows(
    ids: torch.Tensor, batch_size: int, block: int, generator: torch.Generator
) -> torch.Tensor:
    """Random windows of block + 1 tokens from a token stream: (B, block + 1).

    The model reads the first block tokens of a window and predicts the last block."""
    starts = torch.randint(len(ids) - block - 1, (batch_size,), generator=generator)
    return torch.stack([ids[s : s + block + 1] for s in starts])


_TRAINED: dict[tuple, dict[str, torch.Tensor]] = {}  # (stage, its settings) -> weights


def load_trained(key: tuple, device: torch.device | str) -> TinyGPT | None:
    """A fresh copy of the model trained under `key` earlier in this process, else None.

    Several demos start from the same base model (and pi_SFT): a process trains each once."""
    if key not in _TRAINED:
        return None
    model = TinyGPT(TOKENIZER.vocab_size).to(device)
    model.load_state_dict(_TRAINED[key])
    return model


def keep_trained(key: tuple, model: TinyGPT) -> None:
    """Remember the weights of `model`, trained under `key`, for load_trained."""
    _TRAINED[key] = {k: v.detach().clone() for k, v in model.state_dict().items()}


def pretrain(steps: int = 300, seed: int = 0, device: torch.device | str = "cpu") -> TinyGPT:
    """Stage 1: next-token prediction on raw text. Returns a base model that continues text.

    Within one process it is trained once; each caller gets its own copy.
    """
    key = ("pretrain", steps, seed, str(device))
    model = load_trained(key, device)
    if model is not None:
        print(f"pretrain: reusing the base model trained earlier ({steps} steps, seed {seed})")
        return model
    model = TinyGPT(TOKENIZER.vocab_size).to(device)
    rng = random.Random(seed)
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    ids = torch.tensor(TOKENIZER.encode(pretraining_text(rng, 4000)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=PRETRAIN_LR, weight_decay=0.0)
    for step in range(1, steps + 1):
        for group in optimizer.param_groups:  # linear decay: big steps first, then settle
            group["lr"] = PRETRAIN_LR * (1 - (step - 1) / steps)
        windows = text_windows(ids, PRETRAIN_BATCH_SIZE, PRETRAIN_BLOCK, generator)
        loss = lm_loss(model, windows.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % PRETRAIN_PRINT_EVERY == 0 or step == steps:
            print(f"pretrain step {step}: loss {loss.item():.3f}")
    keep_trained(key, model)
    return model


# -------------------------------------------------------------------------------------------------
# setup shared by every demo's main()


def set_seed(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def pick_device(name: str) -> torch.device:
    """'cpu', 'cuda', or 'auto' (cuda when there is one)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available here; use --device cpu")
    return torch.device(name)


def demo_args(
    name: str, description: str, defaults: dict, argv: list[str] | None = None
) -> argparse.Namespace:
    """The options every demo takes, plus one `--key` per other entry of `defaults`.

    `defaults` names at least `steps` (training steps). An entry `quick_<key>` is the value
    of `<key>` under --quick, unless --<key> is given.
    """
    parser = argparse.ArgumentParser(prog=f"notecards demo {name}", description=description)
    parser.add_argument("--seed", type=int, default=defaults.get("seed", 0), help="random seed")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, or auto")
    parser.add_argument("--quick", action="store_true", help="a small, test-size run")
    parser.add_argument("--plot", metavar="FILE.png", help="save the training curves here")
    quick_keys = [key for key in defaults if f"quick_{key}" in defaults]
    for key, value in defaults.items():
        if key == "seed" or key.startswith("quick_"):
            continue
        quick = f", {defaults[f'quick_{key}']} with --quick" if key in quick_keys else ""
        parser.add_argument(
            f"--{key.replace('_', '-')}",
            type=type(value),
            default=None if key in quick_keys else value,  # None: filled in once --quick is known
            help=f"default {value}{quick}",
        )
    args = parser.parse_args(argv)
    for key in quick_keys:
        if getattr(args, key) is None:  # not given: the quick or the full value
            setattr(args, key, defaults[f"quick_{key}" if args.quick else key])
    return args


def save_plot(path: str | None, curves: dict[str, list[float]], title: str, xlabel: str) -> None:
    """Draw each curve against its index (step 1, 2, ...)."""
    indexed = {label: (list(range(1, len(ys) + 1)), ys) for label, ys in curves.items()}
    save_xy_plot(path, indexed, title, xlabel, ylabel="")


def smooth(values: list[float], window: int = 20) -> float:
    """Mean of the last `window` values: a steadier number to print than one noisy step."""
    tail = values[-window:]
    return sum(tail) / len(tail) if tail else math.nan


def verdict(ok: bool, text: str) -> str:
    """The demo's last line."""
    line = ("PASS: " if ok else "FAIL: ") + text
    print(line)
    sys.stdout.flush()
    return line


def save_xy_plot(
    path: str | None,
    curves: dict[str, tuple[list[float], list[float]]],
    title: str,
    xlabel: str,
    ylabel: str,
) -> None:
    """Curves as (xs, ys), e.g. reward against KL per beta; a message, not a crash, without
    matplotlib (an optional extra)."""
    if not path:
        return
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("--plot needs matplotlib: pip install 'notecards[demos]' (plot skipped)")
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (xs, ys) in curves.items():
        ax.plot(xs, ys, marker="." if len(xs) < 50 else None, label=label)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    print(f"saved {path}")


@torch.no_grad()
def attention_maps(model: TinyGPT, input_ids: torch.Tensor) -> list[torch.Tensor]:
    """Each layer's attention weights, (B, heads, T, T): how much each position reads each
    earlier one. Recomputed outside the fused attention kernel, which does not return them.
    """
    B, T = input_ids.shape
    x = model.tok_emb(input_ids) + model.pos_emb(torch.arange(T, device=input_ids.device))
    future = torch.ones(T, T, dtype=torch.bool, device=input_ids.device).triu(1)
    maps = []
    for block in model.blocks:
        D, H = x.shape[-1], block.n_heads
        q, k, _ = block.qkv(block.ln1(x)).split(D, dim=-1)
        q, k = (t.view(B, T, H, D // H).transpose(1, 2) for t in (q, k))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(D // H)
        maps.append(scores.masked_fill(future, float("-inf")).softmax(-1))
        x = block(x)
    return maps
