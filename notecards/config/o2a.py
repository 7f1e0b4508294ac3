"""Obsidian_to_Anki's own settings (its `data.json`), read so a migrating vault needs no new file.

Each value notecards reads is checked for its type, so `"CurlyCloze": "false"` does not turn
cloze on and `"IGNORED_FILE_GLOBS": "a"` is not split into characters; every mistake is
reported at its line in data.json. The json module keeps no positions, so the lines are found
afterwards, by a scan of the text that only runs when there is a mistake to place.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notecards.config.note_types import make_note_type
from notecards.config.schema import (
    MarkerError,
    SettingPath,
    SettingsReport,
    VaultConfig,
    check_settings,
    syntax_from,
)
from notecards.problems import Problem

O2A_SETTINGS = ".obsidian/plugins/obsidian-to-anki-plugin/data.json"
# O2A keeps a hash of every note and media file in the same file, so it grows with the vault.
O2A_MAX_BYTES = 64 << 20

# O2A's "Syntax" settings keys, in its order, and the Syntax field each one sets.
O2A_SYNTAX_KEYS = {
    "Begin Note": "begin_note",
    "End Note": "end_note",
    "Begin Inline Note": "begin_inline",
    "End Inline Note": "end_inline",
    "Target Deck Line": "target_deck",
    "File Tags Line": "file_tags",
    "Delete Note Line": "delete",
    "Frozen Fields Line": "frozen",
}
# O2A's on/off "Defaults" and the VaultConfig field each one sets.
_O2A_FLAGS = {
    "CurlyCloze": "curly_cloze",
    "CurlyCloze - Highlights to Clozes": "highlights_to_cloze",
    "Add Context": "add_context",
    "Add File Link": "add_file_link",
    "Add Obsidian Tags": "add_obsidian_tags",
}
# Where in data.json the settings that `check_settings` names come from.
_CHECKED_AT = {"custom_regexps": ("settings", "CUSTOM_REGEXPS"), "note_types": ("fields_dict",)}
_DEFAULTS = ("settings", "Defaults")


def apply_o2a(config: VaultConfig, text: str, root: Path) -> list[Problem]:
    """Read the settings O2A users already have into `config`; returns every mistake found
    (the values without one are applied all the same)."""
    data, problems = _parse(text)
    if problems:
        return problems
    lines = _JsonLines(text)
    report = SettingsReport(O2A_SETTINGS, lines, _json_name, "an object")
    if not isinstance(data, dict):
        report.at((), "must be a JSON object holding the plugin's settings")
        return report.problems
    settings = report.mapping(data.get("settings", {}), ("settings",))
    defaults = report.mapping(settings.get("Defaults"), _DEFAULTS, nullable=True)
    _defaults(config, defaults, report, root)
    _fields_dict(config, data.get("fields_dict"), report)
    config.custom_regexps = _strings_by_name(settings, "CUSTOM_REGEXPS", report)
    folder_decks = _strings_by_name(settings, "FOLDER_DECKS", report)
    config.folder_decks = {folder.strip("/"): deck for folder, deck in folder_decks.items()}
    folder_tags = _strings_by_name(settings, "FOLDER_TAGS", report)
    config.folder_tags = {folder.strip("/"): tuple(t.split()) for folder, t in folder_tags.items()}
    config.context_fields = _strings_by_name(settings, "CONTEXT_FIELDS", report, keep_empty=True)
    config.file_link_fields = _strings_by_name(
        settings, "FILE_LINK_FIELDS", report, keep_empty=True
    )
    if "IGNORED_FILE_GLOBS" in settings:
        path = ("settings", "IGNORED_FILE_GLOBS")
        items = report.items(settings[path[1]], path, "a list of globs", nullable=True)
        globs = (report.text(item, (*path, index)) for index, item in enumerate(items))
        config.ignore = tuple(glob for glob in globs if glob is not None)
    syntax = report.mapping(settings.get("Syntax"), ("settings", "Syntax"), nullable=True)
    _o2a_syntax(config, syntax, report)
    return report.problems + check_settings(
        config, lambda key: lines(_CHECKED_AT.get(key, ())), O2A_SETTINGS
    )


def _defaults(config: VaultConfig, defaults: dict, report: SettingsReport, root: Path) -> None:
    """O2A's "Defaults"; a key that is missing or null keeps notecards' default."""
    if deck := report.text(defaults.get("Deck"), (*_DEFAULTS, "Deck"), nullable=True):
        config.default_deck = deck
    tags = report.text(defaults.get("Tag"), (*_DEFAULTS, "Tag"), nullable=True)
    config.default_tags = tuple((tags or "").split())
    at = (*_DEFAULTS, "Scan Directory")
    config.scan_dir = report.folder(defaults.get(at[-1]), at, root, nullable=True) or ""
    for key, name in _O2A_FLAGS.items():
        if (flag := report.flag(defaults.get(key), (*_DEFAULTS, key), nullable=True)) is not None:
            setattr(config, name, flag)


def _fields_dict(config: VaultConfig, value: Any, report: SettingsReport) -> None:
    """The note types O2A found in Anki, by name; the ones notecards knows keep their fields."""
    for name, field_names in report.mapping(value, ("fields_dict",), nullable=True).items():
        at = ("fields_dict", name)
        items = report.items(field_names, at, "a list of field names", nullable=True)
        names = [report.text(item, (*at, index)) for index, item in enumerate(items)]
        known = report.name(name, at)
        if known and names and None not in names and known not in config.note_types:
            config.note_types[known] = make_note_type(known, tuple(names))


def _strings_by_name(
    settings: dict, key: str, report: SettingsReport, keep_empty: bool = False
) -> dict[str, str]:
    """One of O2A's maps of folder or note type to a string; an empty string means none
    unless `keep_empty`, and a null value always does."""
    path = ("settings", key)
    found = {}
    for name, value in report.mapping(settings.get(key), path, nullable=True).items():
        at = (*path, name)
        text = report.text(value, at, nullable=True)
        known = report.name(name, at)
        if known is not None and text is not None and (text or keep_empty):
            found[known] = text
    return found


def _o2a_syntax(config: VaultConfig, syntax: dict, report: SettingsReport) -> None:
    """O2A's renamed markers; a missing key keeps its default (O2A fills in the same)."""
    path = ("settings", "Syntax")
    keys = {field_name: key for key, field_name in O2A_SYNTAX_KEYS.items()}
    values = {O2A_SYNTAX_KEYS[k]: v for k, v in syntax.items() if k in O2A_SYNTAX_KEYS}
    try:
        config.syntax = syntax_from(config.syntax, values, lambda name: f'"{keys[name]}"')
    except MarkerError as err:
        report.at((*path, keys[err.field_name]), str(err))


def _json_name(path: SettingPath) -> str:
    """`"Deck" in "Defaults" `, `item 2 of "IGNORED_FILE_GLOBS" `: a value as O2A names it."""
    if not path:
        return ""
    *parents, last = path
    if isinstance(last, int):
        return f"item {last + 1} of {_json_name(tuple(parents))}"
    name = json.dumps(last)
    if parents and parents[-1] != "settings" and isinstance(parents[-1], str):
        name += f" in {json.dumps(parents[-1])}"
    return name + " "


_CONSTANTS = ("NaN", "Infinity", "-Infinity")


def _parse(text: str) -> tuple[Any, list[Problem]]:
    """data.json's value, or why it has none: what json refuses, and what it lets through
    that O2A's JSON.parse refuses (NaN, Infinity)."""
    constants: list[str] = []
    try:
        data = json.loads(text, parse_constant=constants.append)
    except json.JSONDecodeError as err:
        return None, [Problem.at(O2A_SETTINGS, err.lineno, f"not valid JSON: {err.msg}")]
    except RecursionError:
        line = _scan_json(text, stop_too_deep=True).too_deep or 1
        message = f"nested more than {_DEEPEST_PLACED} levels deep: too deep to read"
        return None, [Problem.at(O2A_SETTINGS, line, message)]
    except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
        odd = _scan_json(text).odd
        line = next((line for line, token in odd if token not in _CONSTANTS), 1)
        message = f"a whole number of over {sys.get_int_max_str_digits():,} digits: too long"
        return None, [Problem.at(O2A_SETTINGS, line, message)]
    if constants:
        message = "{} is not JSON (it has no NaN or Infinity); write a number or a string"
        return None, [
            Problem.at(O2A_SETTINGS, line, message.format(token))
            for line, token in _scan_json(text).odd
            if token in _CONSTANTS
        ]
    return data, []


class _JsonLines:
    """The line of a value in a JSON text by its path (its key's line in an object), or of
    the closest enclosing one; the text is scanned on the first question only."""

    def __init__(self, text: str):
        self._text = text
        self._lines: dict[SettingPath, int] | None = None

    def __call__(self, path: SettingPath) -> int:
        if self._lines is None:
            self._lines = _scan_json(self._text).lines
        while path not in self._lines:
            path = path[:-1]
        return self._lines[path]


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}:,]|[^\s\[\]{}:,"]+', re.DOTALL)
_INTEGER = re.compile(r"-?\d+")
_DEEPEST_PLACED = 64  # levels whose values get a line; settings use four


@dataclass
class _Open:
    """An object or array the scan is inside: its path, and the key or index it is at."""

    path: SettingPath
    is_object: bool
    slot: Any = 0
    wants_key: bool = True


@dataclass
class _JsonScan:
    lines: dict[SettingPath, int] = field(default_factory=lambda: {(): 1})
    too_deep: int | None = None  # the line of the first value nested past _DEEPEST_PLACED
    odd: list[tuple[int, str]] = field(default_factory=list)  # NaN, Infinity, huge integers


def _scan_json(text: str, stop_too_deep: bool = False) -> _JsonScan:
    """Where each value of a JSON text is, token by token; tolerant of text json refuses, as
    it also finds where a file nests too deep for json (`stop_too_deep`: stop right there)."""
    scan = _JsonScan()
    stack: list[_Open] = []
    line, last = 1, 0
    digits = sys.get_int_max_str_digits()
    for match in _JSON_TOKEN.finditer(text):
        line += text.count("\n", last, match.start())
        last = match.start()
        token = match.group()
        top = stack[-1] if stack else None
        if token in ("]", "}"):
            if stack:
                stack.pop()
        elif token == ",":
            if top is not None and top.is_object:
                top.wants_key = True
            elif top is not None:
                top.slot += 1
        elif token == ":":
            continue
        elif top is not None and top.is_object and top.wants_key:
            top.slot, top.wants_key = _json_key(token), False
            if len(stack) <= _DEEPEST_PLACED:  # a key given twice: the last one counts
                scan.lines[(*top.path, top.slot)] = line
        else:
            if top is None or len(stack) <= _DEEPEST_PLACED:
                path = (*top.path, top.slot) if top is not None else ()
                scan.lines.setdefault(path, line)
            else:  # counted, not placed: a path a level would make the scan quadratic
                path = top.path
            if token in ("{", "["):
                stack.append(_Open(path, token == "{"))
                if len(stack) > _DEEPEST_PLACED and scan.too_deep is None:
                    scan.too_deep = line
                    if stop_too_deep:
                        break
            elif token in _CONSTANTS or (
                digits and _INTEGER.fullmatch(token) and len(token.lstrip("-")) > digits
            ):
                scan.odd.append((line, token))
    return scan


def _json_key(token: str) -> str:
    try:
        return json.loads(token)
    except ValueError:  # a bad escape, in a file json refused anyway
        return token.strip('"')
