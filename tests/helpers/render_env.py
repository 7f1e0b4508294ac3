"""The env `Renderer.render_field` hands markdown-it, for tests that parse with the
renderer's parser directly (links resolve against an empty vault)."""

from __future__ import annotations

from notecards.render import renderer
from notecards.render.cloze import ENV_IS_CLOZE


def field_env(cloze: bool) -> dict:
    """A fresh env for one field of deck.md, line 1."""
    return {
        ENV_IS_CLOZE: cloze,
        "path": "deck.md",
        "folder": "",
        "line": 1,
        "problems": [],
        "warnings": [],
        "media": {},
        "deps": [],
        "origin": "",
        "embedding": (),
        "budget": {"left": renderer.MAX_EMBEDDED_CHARS, "spent": False},
    }
