"""Tags as notecards reads them: space-separated words, Obsidian `#tags`, YAML lists.

Anki tags cannot hold spaces and use `::` for hierarchy where Obsidian uses `/`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# `#tag` at the start of the text or after whitespace; Obsidian tags need a
# non-digit (so `#1` is not a tag) and may nest with `/`.
_OBSIDIAN_TAG = re.compile(r"(?<!\S)#(?P<tag>[\w/\-]*[^\W\d][\w/\-]*)")
# Spans where `#` is never a tag: fenced and inline code, display and inline math.
_NOT_TEXT = re.compile(
    r"(?P<fence>^(?:```|~~~)[\s\S]*?(?:^(?:```|~~~)|\Z))"
    r"|(?P<code>`+)[\s\S]*?(?P=code)"
    r"|\$\$[\s\S]*?\$\$"
    r"|(?<![\\$])\$(?=\S)[^$\n]*?(?<=\S)\$",
    re.MULTILINE,
)


def split_tags(text: str) -> list[str]:
    return [tag for word in text.split() if (tag := to_anki_tag(word))]


def to_anki_tag(tag: str) -> str:
    """`#a/b` -> `a::b`: Obsidian's nesting as Anki's hierarchy."""
    return tag.strip().lstrip("#").replace("/", "::")


def frontmatter_tags(value: object) -> list[str]:
    """Obsidian's `tags:` property: a list, or a string of comma/space-separated tags."""
    if value is None:
        return []
    items = value if isinstance(value, list) else re.split(r"[,\s]+", str(value))
    return [tag for item in items if item is not None for tag in split_tags(str(item))]


def strip_obsidian_tags(text: str) -> tuple[str, list[str]]:
    """Remove `#tag`s from a field's text (O2A's "Add Obsidian Tags") and return them.

    The whitespace around a tag stays, as O2A leaves it. Unlike O2A, `#` inside
    code or math, a heading's `# `, and `#` in the middle of a word are left alone.
    """
    protected = [m.span() for m in _NOT_TEXT.finditer(text)]
    tags: list[str] = []
    pieces: list[str] = []
    last = 0
    for match in _OBSIDIAN_TAG.finditer(text):
        if any(start <= match.start() < end for start, end in protected):
            continue
        tags.append(to_anki_tag(match.group("tag")))
        pieces.append(text[last : match.start()])
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces), tags


def dedupe(tags: Iterable[str]) -> tuple[str, ...]:
    """Keep the first of each tag, in order (Anki compares tags case-insensitively)."""
    seen: set[str] = set()
    result: list[str] = []
    for tag in tags:
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            result.append(tag)
    return tuple(result)
