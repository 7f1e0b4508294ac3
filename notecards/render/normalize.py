"""markdown-it's `normalize` core rule, without its two passes over a field that has nothing
for them to change.

Stock `normalize` runs two regex substitutions over every source, `\\r\\n` and `\\r` to `\\n`
and NUL to U+FFFD, copying the text each time (2% of a field's render): a field written in
Obsidian has neither character, which a search finds at C speed. Where it has one, the same
substitutions run, so the text is markdown-it's byte for byte (tests/render/test_normalize.py).
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_core.normalize import NEWLINES_RE, NULL_RE
from markdown_it.rules_core.state_core import StateCore


def _normalize(state: StateCore) -> None:
    """As markdown-it's `normalize`: line breaks to `\\n`, NUL to the replacement character."""
    text = state.src
    if "\r" in text:  # (its pattern's `\n` alternative replaces a `\n` by itself)
        text = NEWLINES_RE.sub("\n", text)
    if "\0" in text:
        text = NULL_RE.sub("\ufffd", text)
    state.src = text


def normalize_plugin(md: MarkdownIt) -> None:
    """Replace markdown-it's `normalize` core rule with the one that searches first."""
    md.core.ruler.at("normalize", _normalize)
