"""A JSON document whose last member is a mapping written one entry per line: the sync
state's records and the parse cache's files. It is JSON to any reader; a save copies the
lines of the entries it did not change, as they were read, and encodes only the others
(encoding every entry of a 10,000-card vault again cost a one-card edit more than the rest
of saving it)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_DECODER = json.JSONDecoder()


def entry_line(key: str, value: object) -> str:
    """One entry's line: `"key":value`."""
    return f"{_ENCODER.encode(key)}:{_ENCODER.encode(value)}"


def entries_document(head: Mapping[str, object], name: str, lines: Iterable[str]) -> str:
    """`head`'s members, then `name`: the mapping of these entries' lines, one a line."""
    opening = _ENCODER.encode(dict(head))[:-1] + ("," if head else "")
    return f"{opening}{_ENCODER.encode(name)}:{{\n" + ",\n".join(lines) + "\n}}"


def entry_lines(text: str, name: str, entries: Mapping[str, object]) -> dict[str, str]:
    """Each entry's line in `text`, by key, where `text` decoded to a document whose `name`
    member is `entries` and has the layout `entries_document` writes: its last member, a
    line per entry, each starting with its own key. Else none (the entries are encoded
    anew)."""
    header, *lines = text.split("\n")
    if (
        lines[-1:] != ["}}"]
        or not header.endswith(f"{_ENCODER.encode(name)}:{{")
        or len(lines) - 1 != len(entries)
    ):
        return {}
    found: dict[str, str] = {}
    for line in lines[:-1]:
        try:
            key, end = _DECODER.raw_decode(line)
        except ValueError:
            return {}
        if not isinstance(key, str) or line[end : end + 1] != ":" or key in found:
            return {}
        found[key] = line.removesuffix(",")
    return found if found.keys() == entries.keys() else {}
