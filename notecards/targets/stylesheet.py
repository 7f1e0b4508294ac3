"""The stylesheet of the note types notecards makes: `card.css`, beside this module, kept as a
CSS file so that it reads as one (and `notecards css` prints it without loading genanki)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def card_css() -> str:
    """The stylesheet's text."""
    return files(__package__).joinpath("card.css").read_text(encoding="utf-8")
