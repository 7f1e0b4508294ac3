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
    "per_question": whole(2),  # answers compared two by two: one alone makes no pair
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


# One CPU thread. These models are so small (64 wide, batches of 16 to 64 short rows) that a
# second thread adds more synchronisation than it saves, and on shared cores a busy thread
# waits for the other: measured side by side on 2 shared cores (farm-bench, 5 runs each, 80
# pretraining steps + 96 sampled answers), 1 thread took 7.3 s median wall, 2 threads 9.3 s
# (and 1.6x the CPU time). Under heavy load the default thread count took minutes.
CPU_THREADS = 1


def pick_device(name: str) -> torch.device:
    """--device as demo_args checked it; 'auto' is cuda when there is one, else cpu.

    Also sets torch's CPU thread count to CPU_THREADS (on cuda too: the CPU side stays busy).
    """
    torch.set_num_threads(CPU_THREADS)
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
    full_keys = [key for key in defaults if f"full_{key}" in defaults]
    if full_keys:
        parser.add_argument(
            "--full",
            action="store_true",
            help=f"the longer sweep ({', '.join(full_keys)}): well over the default's 30 s",
        )
    parser.add_argument(
        "--plot", type=png_path, metavar="FILE.png", help="save the training curves here"
    )
    quick_keys = [key for key in defaults if f"quick_{key}" in defaults]
    varied = set(quick_keys) | set(full_keys)
    settings = {
        k: v for k, v in defaults.items() if k != "seed" and not k.startswith(("quick_", "full_"))
    }
    for key, value in settings.items():
        quick = f", {defaults[f'quick_{key}']} with --quick" if key in quick_keys else ""
        full = f", {defaults[f'full_{key}']} with --full" if key in full_keys else ""
        check = accepts(key, value)
        parser.add_argument(
            f"--{key.replace('_', '-')}",
            type=check,
            default=None if key in varied else value,  # None: filled in once --quick is known
            help=f"default {value}{quick}{full}; {check.says}",
        )
    value_options = {
        "--seed",
        "--device",
        "--plot",
        *(f"--{k.replace('_', '-')}" for k in settings),
    }
    given = sys.argv[1:] if argv is None else argv
    flags = {"-h", "--help", "--quick", "--full"}
    args = parser.parse_args(attach_values(given, value_options, flags))
    args.full = getattr(args, "full", False)
    if args.quick and args.full:
        parser.error("--quick and --full ask for opposite things: give one")
    for key in varied:
        if getattr(args, key) is None:  # not given: the quick, the full or the default value
            mode = "quick" if args.quick else "full" if args.full else ""
            setattr(args, key, defaults.get(f"{mode}_{key}", defaults[key]))
    return args


def verdict(ok: bool, text: str) -> str:
    """The demo's last line."""
    line = ("PASS: " if ok else "FAIL: ") + text
    print(line)
    sys.stdout.flush()
    return line


def smoothed(values: list[float], half_window: int | None = None) -> list[float]:
    """A centred moving mean (each value with `half_window` neighbours on each side, fewer at
    the ends; by default 1/20 of the curve): the trend through noisy steps, without lag."""
    half = max(1, len(values) // 20) if half_window is None else half_window
    out = []
    for i in range(len(values)):
        part = values[max(0, i - half) : i + half + 1]
        out.append(sum(part) / len(part))
    return out


def save_figure(path: str | None, draw: Callable, title: str, panels: int = 1) -> None:
    """One PNG of `panels` side-by-side axes; `draw(axes)` fills them (a list of matplotlib
    Axes). A message, not a crash, without matplotlib (the optional extra `notecards[demos]`)."""
    if not path:
        return
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("--plot needs matplotlib: pip install 'notecards[demos]' (plot skipped)")
        return
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4), squeeze=False)
    draw(list(axes[0]))
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    print(f"saved {path}")


def curve(ax, ys: list[float], label: str, xs: list[float] | None = None, **style) -> None:
    """A training curve: the raw values faint, their smoothed trend solid, in one colour."""
    xs = list(range(1, len(ys) + 1)) if xs is None else xs
    (line,) = ax.plot(xs, smoothed(ys), label=label, **style)
    ax.plot(xs, ys, color=line.get_color(), alpha=0.25, linewidth=0.8)


def label_axes(ax, title: str, xlabel: str, ylabel: str, legend: bool = True) -> None:
    """Title, axis labels (with units), a light grid and the legend."""
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=8)
