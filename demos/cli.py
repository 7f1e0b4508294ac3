"""The command line every demo shares and what it leaves behind: the options (one `--key` per
entry of a demo's DEFAULTS), the device, the PASS/FAIL line, and the optional plots.
"""

from __future__ import annotations

import argparse
import sys

import torch


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
