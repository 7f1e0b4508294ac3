"""The `notecards` command line: one small module per command under `commands/`; the exit
codes every command returns are in `exit_codes.py`."""

from __future__ import annotations

import sys

import click

from notecards import __version__, exit_codes
from notecards.commands.build import build
from notecards.commands.check import check
from notecards.commands.css import css
from notecards.commands.demo import demo
from notecards.commands.sync import pull, sync


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="notecards")
def cli() -> None:
    """Turn Obsidian flashcards into Anki cards, and run the demos they teach."""


cli.add_command(build)
cli.add_command(check)
cli.add_command(sync)
cli.add_command(pull)
cli.add_command(demo)
cli.add_command(css)


def main() -> None:
    """The installed `notecards` command: click's own handling, but Ctrl-C exits 130 (as
    shells report SIGINT) with a sentence; every file notecards writes is whole by then."""
    try:
        code = cli.main(prog_name="notecards", standalone_mode=False)
    except click.exceptions.Abort:  # click's name for a KeyboardInterrupt
        click.echo("interrupted: no file was left half-written", err=True)
        sys.exit(exit_codes.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else exit_codes.OK)
