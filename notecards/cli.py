"""The `notecards` command line: one small module per command under `commands/`.

Exit codes (documented in README):
  0  success / vault clean
  1  errors in the vault (bad input); nothing written
  2  usage error (click's own)
  3  Anki / AnkiConnect unreachable or refused the request
  4  conflicts left alone (sync without --force)
  5  sync: some notes refused by Anki (named file:line); the rest synced
"""

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
