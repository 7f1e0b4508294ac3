"""The training plumbing the demos share: log-probs and losses over response tokens, batches,
sampling, and the base model several demos start from (trained once per process). Each demo
keeps its own formula and the loop that trains with it; only what would otherwise be copied
into every demo lives here.

Conventions (the same as Hugging Face TRL):
  logits[:, t] predict input_ids[:, t+1];
  response_mask[:, t] = 1 where input_ids[:, t] is a token of the response Y;
  a sequence's log-probability is the sum over its response tokens.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

try:
    from .tinylm import KVCache, TinyGPT
    from .toyworld import TOKENIZER, pretraining_text
except ImportError:  # run as a script: python demos/NAME.py
    from tinylm import KVCache, TinyGPT
    from toyworld import TOKENIZER, pretraining_text

# settings of the base model the demos share (stage 1); each demo's --pretrain-steps defaults
# to PRETRAIN_STEPS, the rest are fixed so that every demo starts from the same kind of model
PRETRAIN_STEPS = 300  # next-token prediction on raw sentences
PRETRAIN_LR = 1e-2  # high for a transformer, fine for one this small; decays linearly to 0
PRETRAIN_BATCH_SIZE = 32  # text windows per step
PRETRAIN_BLOCK = 48  # tokens a window predicts: a few sentences
PRETRAIN_LINES = 4000  # sentences of pretraining text
PRETRAIN_PRINT_EVERY = 100  # steps between progress lines


# -------------------------------------------------------------------------------------------------
# log-probabilities and losses


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
    r"""The KL of the card, estimated from samples Y ~ pi:

    .. math:: \mathrm{KL}(\pi \| \pi_\mathrm{ref}) = \mathbb{E}_{Y\sim\pi}\left[
        \log \pi(Y \mid X) - \log \pi_\mathrm{ref}(Y \mid X)\right]


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


def last_token_index(response_mask: torch.Tensor) -> torch.Tensor:
    """(B, T) response mask -> (B,) the position of each row's last response token."""
    positions = torch.arange(response_mask.shape[1], device=response_mask.device)
    return (positions * response_mask).argmax(dim=1)


def last_token_values(values: torch.Tensor, response_mask: torch.Tensor) -> torch.Tensor:
    """(B, T) per-position scalars -> (B,) the scalar at each row's last response token.

    A reward model scores a whole response where it has read all of it.
    """
    return values.gather(1, last_token_index(response_mask)[:, None]).squeeze(1)


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


def text_windows(
    ids: torch.Tensor, batch_size: int, block: int, generator: torch.Generator
) -> torch.Tensor:
    """Random windows of block + 1 tokens from a token stream: (B, block + 1).

    The model reads the first block tokens of a window and predicts the last block."""
    starts = torch.randint(len(ids) - block - 1, (batch_size,), generator=generator)
    return torch.stack([ids[s : s + block + 1] for s in starts])


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
    lengths = torch.tensor([len(p) for p in prompts_ids], device=device)
    T = min(int(lengths.max()) + max_new_tokens, model.max_len)
    input_ids = torch.full((B, T), TOKENIZER.pad_id, dtype=torch.long, device=device)
    for i, p in enumerate(prompts_ids):
        input_ids[i, : len(p)] = torch.tensor(p, device=device)
    response_mask = torch.zeros(B, T, device=device)
    logprobs = torch.zeros(B, T, device=device)
    cursor = lengths.clone()  # where each row writes its next token
    done = torch.zeros(B, dtype=torch.bool, device=device)
    rows = torch.arange(B, device=device)
    # Column by column, all rows together: the shortest prompt is read at once, then one
    # position a step through a KV cache. A row still in its prompt at a column keeps the
    # prompt's token; causal attention makes each position's logits those of a full re-read.
    first = int(lengths.min())
    cache = KVCache(len(model.blocks))
    logits = model(input_ids[:, :first], cache)[:, -1]  # (B, V): predict column `first`
    for column in range(first, T):
        done |= (cursor >= T) | (cursor - lengths >= max_new_tokens)
        if done.all():
            break
        writing = rows[(cursor == column) & ~done]
        if len(writing):
            logp = logits[writing].log_softmax(-1)
            if greedy:
                token = logp.argmax(-1)
            else:
                token = torch.multinomial(logp.exp(), 1, generator=generator).squeeze(-1)
            input_ids[writing, column] = token
            response_mask[writing, column] = 1.0
            logprobs[writing, column] = logp.gather(1, token[:, None]).squeeze(1)
            stopped = token == TOKENIZER.eos_id
            done[writing[stopped]] = True
            cursor[writing[~stopped]] += 1
        if column + 1 < T:
            logits = model(input_ids[:, column : column + 1], cache)[:, -1]
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
# the base model several demos start from, trained once per process


_TRAINED: dict[tuple, dict[str, torch.Tensor]] = {}  # (stage, its settings) -> weights
CACHE_ENV = "NOTECARDS_DEMO_CACHE"  # the folder for trained weights; "off": train every time
# the code the base model's and pi_SFT's weights follow from, besides their settings
TRAINED_BY = ("tinylm.py", "toyworld.py", "training.py", "sft.py", "preferences.py")


def cache_folder() -> Path | None:
    """Where trained base models and pi_SFT are kept between runs: $NOTECARDS_DEMO_CACHE,
    else the user's cache folder ($XDG_CACHE_HOME or ~/.cache, then notecards/demos)."""
    given = os.environ.get(CACHE_ENV)
    if given == "off":
        return None
    if given:
        return Path(given)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "notecards/demos"


@functools.cache
def code_digest() -> str:
    """A digest of TRAINED_BY and torch's version: a change to either trains anew."""
    digest = hashlib.sha256(torch.__version__.encode())
    for name in TRAINED_BY:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()


def cache_file(key: tuple) -> Path | None:
    """The file of the weights trained under `key` (None: no cache)."""
    folder = cache_folder()
    if folder is None:
        return None
    name = hashlib.sha256(f"{key!r} {code_digest()}".encode()).hexdigest()[:24]
    return folder / f"{key[0]}-{name}.pt"


def fresh_model(seed: int, device: torch.device | str) -> TinyGPT:
    """The untrained model of the shared stages: its initial weights fixed by `seed` (and the
    global generator left as training it would leave it, so a cached run goes on the same)."""
    torch.manual_seed(seed)
    return TinyGPT(TOKENIZER.vocab_size).to(device)


def load_trained(key: tuple, model: TinyGPT) -> bool:
    """Load into `model` the weights trained under `key` earlier in this process or, kept in
    cache_folder(), in an earlier run; False when there are none (or they cannot be read).

    Several demos start from the same base model and pi_SFT: each is trained once."""
    if key not in _TRAINED:
        path = cache_file(key)
        if path is None or not path.is_file():
            return False
        try:
            _TRAINED[key] = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # a partial or foreign file: train again (and replace it)
            return False
    model.load_state_dict(_TRAINED[key])
    return True


def keep_trained(key: tuple, model: TinyGPT) -> None:
    """Remember the weights of `model`, trained under `key`, for load_trained: in this process
    and, where the cache folder can be written, for later runs (written whole, then renamed)."""
    _TRAINED[key] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    path = cache_file(key)
    if path is None:
        return
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as file:
            temporary = Path(file.name)
            torch.save(_TRAINED[key], file)
        os.replace(temporary, path)
    except OSError:  # a read-only or full disk: the cache is optional
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def pretrain(
    steps: int = PRETRAIN_STEPS, seed: int = 0, device: torch.device | str = "cpu"
) -> TinyGPT:
    """Stage 1: next-token prediction on raw text. Returns a base model that continues text.

    Trained once (load_trained); each caller gets its own copy.
    """
    key = ("pretrain", steps, seed, str(device))
    model = fresh_model(seed, device)  # its initial weights are part of what `key` names
    if load_trained(key, model):
        print(f"pretrain: reusing the base model trained earlier ({steps} steps, seed {seed})")
        return model
    rng = random.Random(seed)
    generator = torch.Generator().manual_seed(seed)
    ids = torch.tensor(TOKENIZER.encode(pretraining_text(rng, PRETRAIN_LINES)))
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
# reproducible runs, readable numbers


def set_seed(seed: int) -> None:
    """Seed Python's and torch's global generators: the same seed, the same run."""
    random.seed(seed)
    torch.manual_seed(seed)


def smooth(values: list[float], window: int = 20) -> float:
    """Mean of the last `window` values: a steadier number to print than one noisy step."""
    tail = values[-window:]
    return sum(tail) / len(tail) if tail else math.nan
