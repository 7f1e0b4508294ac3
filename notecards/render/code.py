"""Fenced code, highlighted with inline styles: they travel with the card (no CSS needed) and
look the same on every device, offline. Written as Anki's editor keeps it (quotes as they are,
see `anki_form.py`), so that opening the note does not rewrite it."""

from __future__ import annotations

from functools import lru_cache

import pygments
from markdown_it.common.utils import escapeHtml
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from notecards.render.anki_form import escape_text

_CODE_FORMATTER = HtmlFormatter(noclasses=True, nowrap=True)
_CODE_BACKGROUND = HtmlFormatter(noclasses=True).style.background_color
# Pygments escapes quotes in text, a browser writes them as they are.
_AS_BROWSER_WRITES = str.maketrans({"\xa0": "&nbsp;"})


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    try:
        return get_lexer_by_name(language)
    except ClassNotFound:
        return None


def highlight_code(code: str, language: str, attrs: object) -> str:
    """markdown-it's `highlight` option: the code coloured, or for an unknown language (or
    none) only escaped, for markdown-it to wrap in `<pre><code>`."""
    return _highlighted(code, language)


@lru_cache(maxsize=256)  # a vault repeats its snippets; highlighting is a third of a field
def _highlighted(code: str, language: str) -> str:
    lexer = _lexer(language.lower()) if language else None
    if lexer is None:
        return escape_text(code)
    spans = pygments.highlight(code, lexer, _CODE_FORMATTER)
    spans = spans.replace("&quot;", '"').replace("&#39;", "'").translate(_AS_BROWSER_WRITES)
    style = f"background: {_CODE_BACKGROUND}; padding: 0.5em; overflow-x: auto;"
    code_class = f"language-{escapeHtml(language)}"
    return f'<pre style="{style}"><code class="{code_class}">{spans}</code></pre>'
