"""Whether two fields show the same in Anki: what a sync compares, in both directions.

Equal once both are in the form Anki's editor keeps (`anki_form`), and up to the line breaks
between block elements (`</p>\\n<ul>`), which show nothing: the renderer writes one there, as
markdown-it does, and Anki's editor writes none where a person types (Return splits a `<p>`
or a `<pre>` into two, adds a `<li>` right after the last). Without this, an edit made in Anki
could never come home as markdown, which always renders them.
"""

from __future__ import annotations

import re

from notecards.render.anki_form import anki_form

_BLOCK = (
    "address|article|aside|blockquote|dd|details|div|dl|dt|figcaption|figure|footer|h[1-6]"
    "|header|hr|li|ol|p|pre|section|summary|table|tbody|td|tfoot|th|thead|tr|ul"
)
# A run of line breaks with a block tag on each side (the tags a serialised field holds are
# whole, so `[^>]*` stops within the tag: linear).
_BETWEEN_BLOCKS = re.compile(rf"(</?(?:{_BLOCK})\b[^>]*>)\n+(?=</?(?:{_BLOCK})\b)")


def shows_the_same(html: str, other: str) -> bool:
    """Whether Anki shows `html` and `other` alike (see the module's docstring). `other`'s
    form first: where that is `html`, so is `html`'s (`anki_form` is idempotent), and `html`
    (a rendering, say) is not parsed."""
    if html == other:
        return True
    kept = anki_form(other)
    return kept == html or _collapsed(anki_form(html)) == _collapsed(kept)


def shows_as_rendered(rendered: str, other: str) -> bool:
    """`shows_the_same(rendered, other)` for the renderer's own output, which it writes in the
    form Anki's editor keeps (renderer.py): only `other` is brought into that form."""
    return rendered == other or _collapsed(rendered) == _collapsed(anki_form(other))


def _collapsed(html: str) -> str:
    return _BETWEEN_BLOCKS.sub(r"\1", html)
