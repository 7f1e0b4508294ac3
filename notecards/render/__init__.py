"""Field markdown -> the HTML Anki stores, as Obsidian shows it: the renderer, its markdown-it
plugins (math, wikilinks and embeds, comments, callouts, clozes, code), what files links resolve
to and what an embed of a note shows, the render cache, and the rules a rendered note must
pass.

Each name is imported on first use (PEP 562): a module of this folder that needs no markdown
library (the vault scan, the last build's verdict that `check` reads) imports none."""

from __future__ import annotations

from typing import TYPE_CHECKING

from notecards.lazy import lazy_exports

if TYPE_CHECKING:
    from notecards.render.cache import RenderCache
    from notecards.render.checks import check_note, check_notes, note_problems
    from notecards.render.renderer import RenderedField, Renderer
    from notecards.render.vault_index import BadReference, VaultIndex, media_kind

_MODULES = {
    "BadReference": "vault_index",
    "RenderCache": "cache",
    "RenderedField": "renderer",
    "Renderer": "renderer",
    "VaultIndex": "vault_index",
    "check_note": "checks",
    "check_notes": "checks",
    "media_kind": "vault_index",
    "note_problems": "checks",
}
__all__ = [
    "BadReference",
    "RenderCache",
    "RenderedField",
    "Renderer",
    "VaultIndex",
    "check_note",
    "check_notes",
    "media_kind",
    "note_problems",
]

__getattr__ = lazy_exports(__name__, _MODULES)
