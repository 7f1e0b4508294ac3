"""Fenced code, highlighted with inline styles: they travel with the card (no CSS needed) and
look the same on every device, offline."""

from __future__ import annotations

from functools import lru_cache

import pygments
from markdown_it.common.utils import escapeHtml
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

_CODE_FORMATTER = HtmlFormatter(noclasses=True, nowrap=True)
_CODE_BACKGROUND = HtmlFormatter(noclasses=True).style.background_color


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    try:
        return get_lexer_by_name(language)
    except ClassNotFound:
        return None


def highlight_code(code: str, language: str, attrs: object) -> str:
    """markdown-it's `highlight` option: the code coloured, or "" for an unknown language, so
    markdown-it emits plain escaped code."""
    lexer = _lexer(language.lower()) if language else None
    if lexer is None:
        return ""
    spans = pygments.highlight(code, lexer, _CODE_FORMATTER)
    style = f"background: {_CODE_BACKGROUND}; padding: 0.5em; overflow-x: auto;"
    code_class = f"language-{escapeHtml(language)}"
    return f'<pre style="{style}"><code class="{code_class}">{spans}</code></pre>'
