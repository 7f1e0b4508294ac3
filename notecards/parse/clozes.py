"""What a cloze looks like in a field's text, before and after rendering.

Anki's own `{{c1::x}}` passes through the renderer untouched, so one pattern answers for
markdown and HTML alike; curly and highlight clozes count only where the vault enables them.
"""

from __future__ import annotations

import re

from notecards.config import VaultConfig

ANKI_CLOZE = re.compile(r"\{\{c(\d+)::")
_MATH_OR_CODE = re.compile(r"\$\$[\s\S]*?\$\$|\$[^$\n]*\$|```[\s\S]*?```|`[^`]*`")
_CURLY = re.compile(r"\{(?:c?\d+[:|])?[^{}]+\}")
_HIGHLIGHT = re.compile(r"==[^=\n]+==")


def cloze_numbers(html_or_markdown: str) -> set[int]:
    """The distinct `{{cN::` numbers: one card per number."""
    return {int(n) for n in ANKI_CLOZE.findall(html_or_markdown)}


def has_cloze(text: str, config: VaultConfig) -> bool:
    """Whether a field holds a cloze, counting curly and highlight clozes when enabled
    (math and code never hold one)."""
    plain = _MATH_OR_CODE.sub(" ", text)
    if ANKI_CLOZE.search(plain):
        return True
    if config.curly_cloze and _CURLY.search(plain):
        return True
    return config.highlights_to_cloze and bool(_HIGHLIGHT.search(plain))
