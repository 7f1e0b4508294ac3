"""One field edited in Anki, brought home: the markdown to write, checked by rendering it.

The guarantee every result keeps: its markdown renders to what Anki holds, in the form Anki's
editor keeps (up to the line breaks between blocks, render/compare.py). So the sync that
follows sends nothing for the field, and a second sync is a no-op. What cannot keep it is not
written (`NotPulled`, with the reason for the user).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from notecards.problems import NotecardsError
from notecards.pull.merge import Conflict, merge_field
from notecards.pull.patch import place_edit
from notecards.render.compare import shows_the_same

# markdown -> the field's HTML in Anki's form; raises NotecardsError (a bad reference).
RenderField = Callable[[str], str]
# Anki's HTML -> markdown.
ConvertHtml = Callable[[str], str]


@dataclass(frozen=True)
class Pulled:
    markdown: str
    how: str  # "patch": the edit placed on the author's text; "rewrite": the field converted


@dataclass(frozen=True)
class NotPulled:
    reason: str


def pull_field(
    markdown: str, base_html: str, anki_html: str, render: RenderField, convert: ConvertHtml
) -> Pulled | NotPulled:
    """`markdown` (which rendered to `base_html`) with the edit that turned `base_html` into
    `anki_html`: placed as a small patch where it can be, else the whole field converted.
    Either must render back to what Anki holds."""
    before, after = convert(base_html), convert(anki_html)
    placed = place_edit(before, after, markdown)
    embeds = _NOTE_EMBED.findall(markdown)
    if placed is not None and _keeps(embeds, placed) and _renders_to(placed, anki_html, render):
        return Pulled(placed, "patch")
    if embeds:  # the converted field would hold the embedded text, and lose the embed
        return NotPulled(
            "the edit is in text this field embeds from another note, or cannot be placed"
            " around its embeds: make it in the vault"
        )
    if _renders_to(after, anki_html, render):
        return Pulled(after, "rewrite")
    return NotPulled("Anki's version of this field has no markdown that renders back to it")


# `![[Note]]`, `![[Note#Heading]]`, `![[Note#^block]]`: an embed of text, not of a media file.
_NOTE_EMBED = re.compile(r"!\[\[(?![^\]|#]*\.(?!md\b)\w{1,5}[\]|#])[^\]\n]+\]\]")


def _keeps(embeds: list[str], markdown: str) -> bool:
    """Whether every note embed of the field is still in `markdown`, as written."""
    return all(markdown.count(e) >= embeds.count(e) for e in set(embeds))


def merge_edits(
    base: str, vault: str, base_html: str, anki_html: str, render: RenderField, convert: ConvertHtml
) -> str | Conflict | NotPulled:
    """A field edited on both sides since the last sync (`base`, rendered to `base_html`, is
    what was pushed then): Anki's edit placed on `base`, then merged with the vault's."""
    anki = pull_field(base, base_html, anki_html, render, convert)
    if isinstance(anki, NotPulled):
        return anki
    merged = merge_field(base, vault, anki.markdown)
    if isinstance(merged, str):
        try:
            render(merged)
        except NotecardsError as error:
            return NotPulled(f"the merged field does not render ({error.problems[0].message})")
    return merged


def _renders_to(markdown: str, target: str, render: RenderField) -> bool:
    try:
        return shows_the_same(render(markdown), target)
    except NotecardsError:
        return False
