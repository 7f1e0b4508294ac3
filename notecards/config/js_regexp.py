"""A user's custom regexp (O2A's "Custom Regexps", written for JavaScript) as a Python regexp.

Here, beside the settings, because two stages need it: the settings check compiles each one
(so a broken regexp is reported at its line), and the parser runs them. Compiled with the
`regex` package, not `re`: its searches take a timeout, so a regexp that backtracks without
end can be stopped (see parse/regex_notes.py).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by the first custom regexp: most vaults have none
    import regex

# What `re` reads as a repeat count; any other `{` is text to it (and to JavaScript).
_REPEAT = re.compile(r"\{(?:\d+(?:,\d*)?|,\d*)\}")
# A set's opening: `]` first in a set (after any `^`) is a member, not its end.
_SET_START = re.compile(r"\[\^?\]?")


def compile_js_regexp(pattern: str) -> regex.Pattern[str]:
    """A JavaScript regexp source as Python: named groups and backrefs, `gm` flags.

    A pattern compiles where `re` compiles it, and raises `re.error` where `re` does not
    (`regex` alone would take more: `\\p{L}`, a group name used twice), meaning what `re`
    read it as."""
    import regex

    translated = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern)
    translated = re.sub(r"\\k<([A-Za-z_]\w*)>", r"(?P=\1)", translated)
    re.compile(translated, re.M | re.A)
    try:
        return regex.compile(_as_text_where_re_reads_text(translated), regex.M | regex.A)
    except regex.error as err:  # should `regex` refuse what `re` took
        raise re.error(err.msg, err.pattern, err.pos) from err


def _as_text_where_re_reads_text(pattern: str) -> str:
    """Escape the two things `regex` reads as syntax where `re` reads text: a `[` inside a
    set (`[[:alpha:]]`, a POSIX class to `regex`) and a `{` that is no repeat count
    (`a{e<=1}`, fuzzy matching to `regex`); so a pattern means what it meant under `re`."""
    out: list[str] = []
    at, in_set = 0, False
    while at < len(pattern):
        char = pattern[at]
        if char == "\\":
            out.append(pattern[at : at + 2])
            at += 2
            continue
        if in_set:
            in_set = char != "]"
            out.append("\\[" if char == "[" else char)
        elif char == "[":
            in_set = True
            lead = _SET_START.match(pattern, at)[0]
            out.append(lead)
            at += len(lead)
            continue
        elif char == "{" and not _REPEAT.match(pattern, at):
            out.append("\\{")
        else:
            out.append(char)
        at += 1
    return "".join(out)
