"""`notecards build` (placeholder until its issue lands)."""

import click


@click.command()
def build() -> None:
    """Not implemented yet."""
    raise click.ClickException("not implemented yet")
