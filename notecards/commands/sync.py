"""`notecards sync` (placeholder until its issue lands)."""

import click


@click.command()
def sync() -> None:
    """Not implemented yet."""
    raise click.ClickException("not implemented yet")
