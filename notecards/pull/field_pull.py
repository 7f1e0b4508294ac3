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

from diff_match_patch import diff_match_patch

from notecards.problems import NotecardsError
from notecards.pull.merge import Conflict, merge_field
from notecards.pull.patch import place_edit
from notecards.render.anki_form import anki_form
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
    """`markdown` (which rendered to `base_html`, in the form Anki's editor keeps) with the
    edit that turned `base_html` into `anki_html`: placed as a small patch where it can be,
    else the whole field converted. Either must render back to what Anki holds.

    An edit of plain words (a typo fixed, a sentence added) is placed from the two HTMLs
    themselves first, in the form Anki's editor keeps: their text is the markdown's there,
    and converting both fields back costs most of a pull. Rendered back to what Anki holds,
    that is the patch; else the fields are converted."""
    embeds = _NOTE_EMBED.findall(markdown)
    # Anki's field as it is first: a typo fixed there is in the form the editor keeps already
    # (the rendering tells), and bringing each field into it cost a sixth of a pull of 100.
    placed = _in_text(base_html, anki_html, markdown)
    if placed is None and (kept := anki_form(anki_html)) != anki_html:
        placed = _in_text(base_html, kept, markdown)
    if placed is not None and _keeps(embeds, placed) and _renders_to(placed, anki_html, render):
        return Pulled(placed, "patch")
    before, after = convert(base_html), convert(anki_html)
    placed = place_edit(before, after, markdown)
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


# What an edit of plain words removes and adds: letters, digits, spaces and punctuation that
# is no markup in HTML or markdown (no `&`, `;`, `<`, `*`, `_`, line break...).
_PLAIN = re.compile(r"(?:[^\W_]|[ ,.:?'\"])*")
_PLAIN_END = re.compile(rf"{_PLAIN.pattern}$")
_DIFF = diff_match_patch()  # its common prefix and suffix: a binary search, not a loop
_CONTEXT = 24  # characters of the text each side of the edit that find its place


def _in_text(base_html: str, anki_html: str, markdown: str) -> str | None:
    """`markdown` with the edit from `base_html` to `anki_html` made, where that edit is one
    run of plain words within one text (outside tags, not next to an entity) and that text
    around it, as far as it is plain, is as many times in the field's HTML as in `markdown`:
    the edit goes to the same one of them (most often the only one; where the markdown puts
    them in another order, a footnote's text say, the rendering tells: pull_field); else
    None."""
    start = _DIFF.diff_commonPrefix(base_html, anki_html)
    end = _DIFF.diff_commonSuffix(base_html[start:], anki_html[start:])  # (not into the prefix)
    removed = base_html[start : len(base_html) - end]
    added = anki_html[start : len(anki_html) - end]
    before, after = base_html[:start], base_html[len(base_html) - end :]
    if (
        base_html == anki_html
        or _PLAIN.fullmatch(removed) is None
        or _PLAIN.fullmatch(added) is None
        or before.rfind("<") > before.rfind(">")
        or "&" in before[-_CONTEXT:]  # (an entity's name is plain)
    ):
        return None
    # The plain text each side, which markdown spells the same.
    left = _PLAIN_END.search(before[-_CONTEXT:])[0]  # type: ignore[index]
    right = _PLAIN.match(after, 0, _CONTEXT)[0]  # type: ignore[index]
    needle = left + removed + right
    if not needle:
        return None
    in_markdown, in_html = _places(markdown, needle), _places(base_html, needle)
    if len(in_markdown) != len(in_html):
        return None
    at = in_markdown[in_html.index(start - len(left))] + len(left)
    return markdown[:at] + added + markdown[at + len(removed) :]


def _places(text: str, needle: str) -> list[int]:
    """Where `needle` starts in `text`, each place (overlapping ones too)."""
    places = []
    at = text.find(needle)
    while at >= 0:
        places.append(at)
        at = text.find(needle, at + 1)
    return places


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
