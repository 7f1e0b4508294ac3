"""A user's custom regexp (O2A's "Custom Regexps", written for JavaScript) as Python's `re`.

Here, beside the settings, because two stages need it: the settings check compiles each one
(so a broken regexp is reported at its line), and the parser runs them.
"""

from __future__ import annotations

import re


def compile_js_regexp(pattern: str) -> re.Pattern[str]:
    """A JavaScript regexp source as Python: named groups and backrefs, `gm` flags."""
    translated = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern)
    translated = re.sub(r"\\k<([A-Za-z_]\w*)>", r"(?P=\1)", translated)
    return re.compile(translated, re.MULTILINE | re.ASCII)
