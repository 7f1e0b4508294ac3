"""The command line every demo shares and what it leaves behind: the options (one `--key` per
entry of a demo's DEFAULTS), the device, the PASS/FAIL line, and the optional plots.

Every value given on the command line is checked before anything trains: one that cannot work
ends the run with a usage error (exit 2) that names the option and what it accepts.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch


@dataclass(frozen=True)
class Accepts:
    """What a setting accepts: `says` it in words (help and errors); `parse` turns the given
    text into the value, or None where the text is outside."""

    says: str
    parse: Callable[[str], object | None]

    def __call__(self, text: str) -> object:
        """argparse's `type`: the value, or a usage error that says what the option accepts."""
        value = self.parse(text)
        if value is None:
            raise argparse.ArgumentTypeError(f"expects {self.says}, not {text!r}")
        return value


def whole(low: int, high: int | None = None) -> Accepts:
    """A whole number from `low` (up to `high`)."""

    def parse(text: str) -> int | None:
        try:
            value = int(text)
        except ValueError:
            return None
        return value if low <= value and (high is None or value <= high) else None

    return Accepts(
        f"a whole number {f'>= {low}' if high is None else f'from {low} to {high}'}", parse
    )


def number(low: float, high: float = math.inf, above: bool = False) -> Accepts:
    """A finite number from `low` (or, `above`, more than `low`) up to `high`: never nan or inf."""

    def parse(text: str) -> float | None:
        try:
            value = float(text)
        except ValueError:
            return None
        inside = (value > low if above else value >= low) and value <= high
        return value if math.isfinite(value) and inside else None

    if high != math.inf:
        return Accepts(f"a number from {low} to {high}", parse)
    return Accepts(f"a finite number {'>' if above else '>='} {low}", parse)


def number_list(low: float) -> Accepts:
    """Comma-separated numbers of at least `low`; the text itself is the value (the demo splits
    it)."""
    each = number(low)

    def parse(text: str) -> str | None:
        return text if all(each.parse(part) is not None for part in text.split(",")) else None

    return Accepts(f"comma-separated finite numbers >= {low} (as in 0,0.5)", parse)


# What each setting accepts. The rule: a whole number (a count: steps, a batch size, samples,
# print_every, max_new_tokens, show, ...) is at least 1, and a decimal (a learning rate, beta, a
# clip range) is a finite number above 0. The settings named here are the exceptions, in every
# demo that has them.
ACCEPTS: dict[str, Accepts] = {
    "seed": whole(-(2**63), 2**64 - 1),  # what torch.manual_seed takes
    "pretrain_steps": whole(0),  # 0: no pretraining, the base model stays random
    "sft_steps": whole(0),  # 0: pi_SFT is the base model as it is
    "rm_steps": whole(0),  # 0: an untrained reward model
    "held_out": number(0.05, 0.95),  # of 48 questions: at least one held out, one trained on
    "gamma": number(0, 1),  # a discount factor
    "lam": number(0, 1),  # GAE's lambda
    "vf_coef": number(0),  # 0: the value model is not trained
    "betas": number_list(0),  # beta 0 is PPO without the KL penalty
}


def accepts(key: str, default: object) -> Accepts:
    """What --key accepts: its entry in ACCEPTS, else the rule for the type of its default."""
    if key in ACCEPTS:
        return ACCEPTS[key]
    if type(default) is int:
        return whole(1)
    if type(default) is float:
        return number(0, above=True)
    raise TypeError(f"setting {key!r} ({type(default).__name__}) needs an entry in ACCEPTS")


def device_name(text: str) -> str:
    """--device: cpu, auto, or a CUDA device this machine has."""
    if text in ("cpu", "auto"):
        return text
    kind, colon, index = text.partition(":")
    if kind != "cuda" or (colon and not index.isdigit()):
        raise argparse.ArgumentTypeError(f"expects cpu, cuda, cuda:N or auto, not {text!r}")
    if not torch.cuda.is_available():
        raise argparse.ArgumentTypeError("no CUDA device is available here; use --device cpu")
    count = torch.cuda.device_count()
    if colon and int(index) >= count:
        raise argparse.ArgumentTypeError(
            f"expects cuda:0 to cuda:{count - 1} (the CUDA devices here), not {text!r}"
        )
    return text


def can_create_in(folder: Path) -> bool:
    """Whether a file can be made in `folder`: tried with a nameless temporary file."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def png_path(text: str) -> str:
    """--plot: a .png file that can be written, checked now rather than after the whole run."""
    path = Path(text)
    if path.suffix.lower() != ".png":
        raise argparse.ArgumentTypeError(f"expects a file name ending in .png, not {text!r}")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"expects a .png file, not the folder {text!r}")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(
            f"expects a file in an existing folder; there is no folder {str(path.parent)!r}"
        )
    if not can_create_in(path.parent) or (path.exists() and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"expects a file it may write, not {text!r}")
    return text


def pick_device(name: str) -> torch.device:
    """--device as demo_args checked it; 'auto' is cuda when there is one, else cpu."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def attach_values(argv: list[str], value_options: set[str], flags: set[str]) -> list[str]:
    """`--lr -1e-3` as `--lr=-1e-3`: argparse takes '-1e-3' or '-inf' for an option and would
    say only that --lr wants a value, not what it accepts."""
    attached: list[str] = []
    for token in argv:
        option = attached[-1] if attached else ""
        if option in value_options and token.startswith("-") and token not in value_options | flags:
            attached[-1] = f"{option}={token}"
        else:
            attached.append(token)
    return attached


def demo_args(
    name: str, description: str, defaults: dict, argv: list[str] | None = None
) -> argparse.Namespace:
    """The options every demo takes, plus one `--key` per other entry of `defaults`.

    `defaults` names at least `steps` (training steps). An entry `quick_<key>` is the value
    of `<key>` under --quick, unless --<key> is given. A given value the setting does not
    accept (ACCEPTS) is a usage error, raised before the demo does anything.
    """
    parser = argparse.ArgumentParser(prog=f"notecards demo {name}", description=description)
    seed = ACCEPTS["seed"]
    parser.add_argument(
        "--seed", type=seed, default=defaults.get("seed", 0), help=f"random seed; {seed.says}"
    )
    parser.add_argument(
        "--device", type=device_name, default="cpu", help="cpu, cuda, cuda:N, or auto"
    )
    parser.add_argument("--quick", action="store_true", help="a small, test-size run")
    parser.add_argument(
        "--plot", type=png_path, metavar="FILE.png", help="save the training curves here"
    )
    quick_keys = [key for key in defaults if f"quick_{key}" in defaults]
    settings = {k: v for k, v in defaults.items() if k != "seed" and not k.startswith("quick_")}
    for key, value in settings.items():
        quick = f", {defaults[f'quick_{key}']} with --quick" if key in quick_keys else ""
        check = accepts(key, value)
        parser.add_argument(
            f"--{key.replace('_', '-')}",
            type=check,
            default=None if key in quick_keys else value,  # None: filled in once --quick is known
            help=f"default {value}{quick}; {check.says}",
        )
    value_options = {
        "--seed",
        "--device",
        "--plot",
        *(f"--{k.replace('_', '-')}" for k in settings),
    }
    given = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(attach_values(given, value_options, {"-h", "--help", "--quick"}))
    for key in quick_keys:
        if getattr(args, key) is None:  # not given: the quick or the full value
            setattr(args, key, defaults[f"quick_{key}" if args.quick else key])
    return args


def verdict(ok: bool, text: str) -> str:
    """The demo's last line."""
    line = ("PASS: " if ok else "FAIL: ") + text
    print(line)
    sys.stdout.flush()
    return line


def save_plot(path: str | None, curves: dict[str, list[float]], title: str, xlabel: str) -> None:
    """Draw each curve against its index (step 1, 2, ...)."""
    indexed = {label: (list(range(1, len(ys) + 1)), ys) for label, ys in curves.items()}
    save_xy_plot(path, indexed, title, xlabel, ylabel="")


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
