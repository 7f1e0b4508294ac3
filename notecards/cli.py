"""The `notecards` command line: one small module per command under `commands/`; the exit
codes every command returns are in `exit_codes.py`."""

from __future__ import annotations

import click

from notecards import __version__
from notecards.commands.build import build
from notecards.commands.check import check
from notecards.commands.demo import demo
from notecards.commands.sync import sync


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="notecards")
def cli() -> None:
    """Turn Obsidian flashcards into Anki cards, and run the demos they teach."""


cli.add_command(build)
cli.add_command(check)
cli.add_command(sync)
cli.add_command(demo)


def main() -> None:
    cli()
