"""`notecards demo`: run the demo a card links to, list them, or time them.

Torch is imported only when a demo runs, so the flashcard commands (and `--list`) work
without it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
from pathlib import Path

import click

from notecards.demo_catalog import DEMOS, linked_demos, unknown_demo

INSTALL_HINT = "the demos need PyTorch: pip install torch==2.13.0 && pip install 'notecards[demos]'"


def demo_module(name: str) -> str:
    """The module of demo NAME: `notecards.demos.NAME` where the package is installed,
    `demos.NAME` in a source checkout, whose own `notecards/` (first on sys.path when run
    from the repo root) has no `demos/` inside."""
    if importlib.util.find_spec("notecards.demos") is not None:
        return f"notecards.demos.{name}"
    return f"demos.{name}"


def require_torch() -> None:
    """A clear sentence instead of a traceback when the optional extra is missing."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise click.ClickException(INSTALL_HINT) from None


def check_name(name: str) -> None:
    if message := unknown_demo(name):
        raise click.ClickException(message)


def card_title(fields: dict[str, str]) -> str:
    """The first line of a card's first field: how a learner recognises the card."""
    first = next(iter(fields.values()), "").strip()
    return first.splitlines()[0] if first else "(empty card)"


def linking_cards(vault: Path) -> dict[str, list[str]]:
    """Demo name -> the cards (`path:line title`) in `vault` that link to it."""
    from notecards.problems import NotecardsError
    from notecards.vault import load_vault

    links: dict[str, list[str]] = {name: [] for name in DEMOS}
    if not vault.is_dir():
        return links
    try:
        notes = load_vault(vault).parsed.notes
    except NotecardsError:
        return links  # bad settings: the list still names the demos
    for note in notes:
        named = {demo for text in note.fields.values() for demo, _ in linked_demos(text)}
        for name in sorted(named):
            links.setdefault(name, []).append(f"{note.location} {card_title(note.fields)}")
    return links


def print_list(vault: Path, as_json: bool) -> None:
    import json  # here, as subprocess below: `notecards --help` reads this module

    links = linking_cards(vault)
    if as_json:
        rows = [{"name": n, "shows": DEMOS[n], "cards": links.get(n, [])} for n in DEMOS]
        click.echo(json.dumps(rows, indent=2))
        return
    for name, shows in DEMOS.items():
        click.echo(f"{name:14} {shows}")
        for card in links.get(name, []):
            click.echo(f"{'':14}   card: {card}")


def time_demo(name: str) -> float:
    """Wall seconds of one demo at its default settings, in a fresh process (no shared cache)."""
    import subprocess

    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", demo_module(name)], capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:  # its last line says why; the traceback above it is the demo's
        why = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise click.ClickException(f"demo {name} failed (exit {result.returncode}): {why}")
    return seconds


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("--list", "list_demos", is_flag=True, help="Name each demo and the cards using it.")
@click.option("--time", "time_demos", is_flag=True, help="Time demos at their default settings.")
@click.option(
    "--vault",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("notes"),
    show_default=True,
    help="Vault scanned by --list for cards that link to demos.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable --list / --time output.")
@click.argument("name", required=False)
@click.argument("demo_args", nargs=-1, type=click.UNPROCESSED)
def demo(
    list_demos: bool,
    time_demos: bool,
    vault: Path,
    as_json: bool,
    name: str | None,
    demo_args: tuple[str, ...],
) -> None:
    """Run demo NAME (options after NAME go to the demo: --seed, --steps, --device, --quick,
    --plot FILE.png), or --list the demos, or --time them."""
    if name is not None and name.startswith("-"):  # click leaves an unknown option here
        raise click.UsageError(
            f"no option {name}; a demo's own options go after its name: "
            f"notecards demo NAME {name} ..."
        )
    if list_demos:
        print_list(vault, as_json)
        return
    if name is not None:
        check_name(name)
    if time_demos and demo_args:
        raise click.UsageError(
            "--time times each demo at its default settings; it takes no options "
            f"({' '.join(demo_args)})"
        )
    if time_demos:
        require_torch()
        timings = {}
        for each in [name] if name else list(DEMOS):
            timings[each] = time_demo(each)
            if not as_json:
                click.echo(f"{each:14} {timings[each]:6.1f} s")
        if as_json:
            import json

            click.echo(json.dumps(timings))
        return
    if name is None:
        raise click.UsageError("name a demo to run, or use --list")
    require_torch()
    module = importlib.import_module(demo_module(name))
    module.main(list(demo_args))
