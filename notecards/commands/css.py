"""`notecards css`: print the card stylesheet, to paste into a note type of your own (sync
never changes your note types' styling; a package's note types carry it already)."""

from __future__ import annotations

import click


@click.command()
def css() -> None:
    """Print the stylesheet of notecards' note types (paste it into a note type's Styling)."""
    from notecards.targets.stylesheet import card_css  # importlib.resources: not for --help

    click.echo(card_css(), nl=False)
