"""Whether two fields show the same in Anki: what a sync compares, in both directions.

Equal once both are in the form Anki's editor keeps (`anki_form`), and up to the line breaks
between block elements (`</p>\\n<ul>`), which show nothing: the renderer writes one there, as
markdown-it does, and Anki's editor writes none where a person types (Return splits a `<p>`
or a `<pre>` into two, adds a `<li>` right after the last). Without this, an edit made in Anki
could never come home as markdown, which always renders them.

And up to a paragraph's `<p>` around text beside blocks: a line a person types or pastes in
Anki's editor after a list or a heading can stay bare between the blocks (`</ul>text`), which
no markdown renders to (its text beside a block is a paragraph). Anki shows it as the same
line, a paragraph's margin apart at most. Told apart, that edit could never come home and
would be reported at every sync; so it comes home as its own paragraph, and stays as typed in
Anki.
"""

from __future__ import annotations

import re

from diff_match_patch import diff_match_patch

from notecards.render.anki_form import VOID, anki_form

_BLOCK = (
    "address|article|aside|blockquote|dd|details|div|dl|dt|figcaption|figure|footer|h[1-6]"
    "|header|hr|li|ol|p|pre|section|summary|table|tbody|td|tfoot|th|thead|tr|ul"
)
# A run of line breaks with a block tag on each side (the tags a serialised field holds are
# whole, so `[^>]*` stops within the tag: linear).
_BETWEEN_BLOCKS = re.compile(rf"(</?(?:{_BLOCK})\b[^>]*>)\n+(?=</?(?:{_BLOCK})\b)")
_TAG = re.compile(r"<!--.*?-->|<(/?)([A-Za-z][^\s/>]*)[^>]*>", re.S)
_BLOCK_NAME = re.compile(rf"(?:{_BLOCK})")
# Letters, digits, spaces and punctuation that is no markup in HTML (no `&`, `;`, `<`, `\\`).
_PLAIN = re.compile(r"(?:[^\W_]|[ ,.:?'\"])*")
_DIFF = diff_match_patch()  # its common prefix and suffix: a binary search, not a loop
# Elements whose text a serialised field holds unescaped (a `<` in it is no tag).
_RAW = re.compile(r"<(?:style|script|xmp|iframe|noembed|noframes|plaintext|noscript)\b", re.I)


def shows_the_same(html: str, other: str) -> bool:
    """Whether Anki shows `html` and `other` alike (see the module's docstring). `other`'s
    form first: where that is `html`, so is `html`'s (`anki_form` is idempotent), and `html`
    (a rendering, say) is not parsed."""
    if html == other:
        return True
    kept = anki_form(other)
    return kept == html or _alike(anki_form(html), kept)


def shows_as_rendered(rendered: str, other: str) -> bool:
    """`shows_the_same(rendered, other)` for the renderer's own output, which it writes in the
    form Anki's editor keeps (renderer.py): only `other` is brought into that form, unless it
    differs by words alone (`words_apart`)."""
    if rendered == other:
        return True
    return not words_apart(rendered, other) and _alike(rendered, anki_form(other))


def words_apart(kept: str, other: str) -> bool:
    """Whether `other` is `kept` (a field in the form Anki's editor keeps) with one run of
    plain words changed (letters, digits, spaces, `,.:?'"`) in one text, outside any tag: a
    typo fixed in Anki. Anki shows them differently, which needs no parse (a pull of 100
    notes spent a sixth of its time bringing each such field into Anki's form)."""
    start = _DIFF.diff_commonPrefix(kept, other)
    end = _DIFF.diff_commonSuffix(kept[start:], other[start:])  # (not into the prefix)
    removed, added = kept[start : len(kept) - end], other[start : len(other) - end]
    before = kept[:start]
    return (
        kept != other
        and _PLAIN.fullmatch(removed) is not None
        and _PLAIN.fullmatch(added) is not None
        and before.rfind("<") <= before.rfind(">")
        and "<!--" not in kept
        and _RAW.search(kept) is None
    )


def _alike(html: str, other: str) -> bool:
    """Two fields in Anki's form, alike up to line breaks between blocks and paragraphs."""
    html, other = _collapsed(html), _collapsed(other)
    return html == other or _collapsed(_paragraphs(html)) == _collapsed(_paragraphs(other))


def _collapsed(html: str) -> str:
    return _BETWEEN_BLOCKS.sub(r"\1", html)


def _paragraphs(html: str) -> str:
    """A field in Anki's form with each run of text and inline elements that stands beside a
    block at its top level in `<p>` (without the line breaks at its ends), as markdown writes
    a paragraph there. A field with no block at its top level is as it was."""
    if _RAW.search(html):
        return html
    pieces: list[str] = []
    run: list[str] = []  # the top level's inline content since its last block
    depth = 0  # within a block of the top level (0: outside any)
    inline = 0  # within the top level's inline elements
    at = blocks = 0

    def flush() -> None:
        text = "".join(run).strip("\n")
        pieces.append(f"<p>{text}</p>" if text.strip(" \t") else "".join(run))
        run.clear()

    for tag in _TAG.finditer(html):
        closing, name = tag[1], (tag[2] or "").lower()
        (pieces if depth else run).append(html[at : tag.start()])
        at = tag.end()
        nests = bool(name) and name not in VOID
        if not depth and not inline and not closing and _BLOCK_NAME.fullmatch(name):
            flush()
            blocks += 1
        elif not depth:
            run.append(tag[0])
            if nests:
                inline = max(inline - 1, 0) if closing else inline + 1
            continue
        pieces.append(tag[0])
        if nests:
            depth = max(depth - 1, 0) if closing else depth + 1
    (pieces if depth else run).append(html[at:])
    if not blocks:
        return html
    flush()
    return "".join(pieces)
