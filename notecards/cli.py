"""The `notecards` command line: one small module per command under `commands/`; the exit
codes every command returns are in `exit_codes.py`.

A command's module is imported only when that command runs (or its help is shown): a
`notecards check` must not pay for the HTTP client, the package writer or torch, and a
`notecards watch` that syncs after every save must start at once (click's LazyGroup)."""

from __future__ import annotations

import importlib
import sys

import click

from notecards import __version__, exit_codes

# Command name -> "module:object". A new command is one line here and one module.
COMMANDS = {
    "build": "notecards.commands.build:build",
    "check": "notecards.commands.check:check",
    "css": "notecards.commands.css:css",
    "demo": "notecards.commands.demo:demo",
    "pull": "notecards.commands.sync:pull",
    "sync": "notecards.commands.sync:sync",
    "watch": "notecards.commands.watch:watch",
}


class LazyGroup(click.Group):
    """A group that imports a command's module the first time click asks for the command."""

    def __init__(self, *args, lazy_commands: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            module, name = self.lazy_commands[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="notecards")
def cli() -> None:
    """Turn Obsidian flashcards into Anki cards, and run the demos they teach."""


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
