"""Field markdown -> the HTML Anki stores, as Obsidian shows it: the renderer, its markdown-it
plugins (math, wikilinks and embeds, comments, callouts, clozes, code), what files links resolve
to and what an embed of a note shows, the render cache, and the rules a rendered note must
pass."""

from notecards.render.cache import RenderCache
from notecards.render.checks import check_note, check_notes, note_problems
from notecards.render.renderer import RenderedField, Renderer
from notecards.render.vault_index import BadReference, VaultIndex, media_kind

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
