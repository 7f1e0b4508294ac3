"""`notecards demo` (placeholder until its issue lands)."""

import click


@click.command()
def demo() -> None:
    """Not implemented yet."""
    raise click.ClickException("not implemented yet")
