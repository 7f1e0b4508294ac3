"""The settings a vault can have, and the checks that settings which parse can also work.

Two readers fill a `VaultConfig` (o2a.py for Obsidian_to_Anki's data.json, notecards_yaml.py
for notecards.yaml); both end with `check_settings`, so a regexp that does not compile or a
custom regexp for a type nobody defined is reported at the line that set it, whichever file
that was. `SettingsReport` is what both readers check a value's type and shape with, so a wrong
one is said the same way, at its own line, and reading goes on to find the next.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from notecards.config.js_regexp import compile_js_regexp
from notecards.config.note_types import BUILTIN_NOTE_TYPES
from notecards.config.yaml_document import LONE_SURROGATE
from notecards.model import NoteType
from notecards.problems import Problem

DEFAULT_IGNORE = ("**/*.excalidraw.md",)


@dataclass(frozen=True)
class Syntax:
    """The marker strings, which O2A lets a user rename; matched literally, as O2A does.
    Frozen and hashable: the parser compiles its patterns once per distinct Syntax."""

    begin_note: str = "START"
    end_note: str = "END"
    begin_inline: str = "STARTI"
    end_inline: str = "ENDI"
    target_deck: str = "TARGET DECK"
    file_tags: str = "FILE TAGS"
    delete: str = "DELETE"
    frozen: str = "FROZEN"


DEFAULT_SYNTAX = Syntax()


@dataclass
class VaultConfig:
    vault_name: str  # for obsidian:// links; defaults to the Obsidian vault's name (load.py)
    # The folder's path inside the Obsidian vault it lies in ("" when it is the vault): links
    # name a file by its path from there.
    vault_folder: str = ""
    default_deck: str = "Default"
    default_tags: tuple[str, ...] = ()
    deck_from_folder: bool = False  # deck = the note's folder path, "a/b" -> "a::b"
    folder_decks: dict[str, str] = field(default_factory=dict)  # folder -> deck (O2A)
    folder_tags: dict[str, tuple[str, ...]] = field(default_factory=dict)  # folder -> tags
    curly_cloze: bool = False  # {x}, {2:x}, ... in Cloze note types
    highlights_to_cloze: bool = False  # ==x== is a cloze too
    note_types: dict[str, NoteType] = field(default_factory=lambda: dict(BUILTIN_NOTE_TYPES))
    ignore: tuple[str, ...] = DEFAULT_IGNORE  # globs, vault-relative
    scan_dir: str = ""  # only this folder (recursive) is read, when set
    custom_regexps: dict[str, str] = field(default_factory=dict)  # note type -> regex (O2A)
    add_context: bool = False
    add_file_link: bool = False
    add_obsidian_tags: bool = False  # #tag in a note's text becomes an Anki tag
    # note type -> field that gets the context breadcrumb / file link (default: first field)
    context_fields: dict[str, str] = field(default_factory=dict)
    file_link_fields: dict[str, str] = field(default_factory=dict)
    # `ankiconnect: {url: ..., api_key: ...}` for sync; empty = its defaults (its flags win)
    ankiconnect_url: str = ""
    ankiconnect_api_key: str = ""
    syntax: Syntax = DEFAULT_SYNTAX  # the markers (START, END, ...), renamed in O2A's settings

    def content_settings(self) -> VaultConfig:
        """These settings without the ones that only say where Anki is: what a note's parse
        and HTML follow from (a cache keyed on them survives a new URL or API key)."""
        return replace(self, ankiconnect_url="", ankiconnect_api_key="")


class MarkerError(ValueError):
    """A marker setting that cannot work; `field_name` is the Syntax field to point at."""

    def __init__(self, message: str, field_name: str):
        super().__init__(message)
        self.field_name = field_name


# The markers that say what a whole line is: no two may be equal. (End Inline Note only ends
# a line that Begin Inline Note opened, so it may equal any of them.)
_LINE_MARKERS = (
    "begin_note",
    "end_note",
    "begin_inline",
    "target_deck",
    "file_tags",
    "delete",
    "frozen",
)


def syntax_from(base: Syntax, values: dict[str, Any], label: Callable[[str], str]) -> Syntax:
    """`base` with `values` (Syntax field -> marker) set and checked; `label` names a field
    as the user wrote it. Trailing spaces are dropped: the parser accepts any after a marker."""
    markers = {}
    for field_name, value in values.items():
        if not isinstance(value, str):
            message = f"{label(field_name)} must be a string, not {shown(value)}"
            raise MarkerError(message, field_name)
        if "\n" in value or "\r" in value:
            raise MarkerError(f"{label(field_name)} must be one line: {value!r}", field_name)
        markers[field_name] = value.rstrip(" \t")
        if not markers[field_name]:
            raise MarkerError(f"{label(field_name)} must not be empty", field_name)
    syntax = replace(base, **markers)
    owner: dict[str, str] = {}
    for field_name in _LINE_MARKERS:
        marker = getattr(syntax, field_name)
        other = owner.setdefault(marker, field_name)
        if other != field_name:
            blamed = field_name if field_name in markers else other
            raise MarkerError(
                f"{label(other)} and {label(field_name)} are both {marker!r}:"
                " a line could be either",
                blamed,
            )
    return syntax


def check_settings(config: VaultConfig, line_of: Callable[[str], int], where: str) -> list[Problem]:
    """Settings that parse but cannot work: regexps, unknown types, clashing model ids;
    `line_of(key)` is the line of a setting in the file `where`."""
    problems = []
    for note_type, pattern in config.custom_regexps.items():
        if note_type not in config.note_types:
            message = f"custom regexp for unknown note type {note_type!r}"
            problems.append(Problem.at(where, line_of("custom_regexps"), message))
            continue
        try:
            compile_js_regexp(pattern)
        except (re.error, OverflowError, RecursionError) as err:  # `a{9999999999}`, `((((...`
            message = f"regexp for {note_type!r} does not compile: {err}"
            problems.append(Problem.at(where, line_of("custom_regexps"), message))
    owners: dict[int, str] = {}
    for note_type in config.note_types.values():
        other = owners.setdefault(note_type.model_id, note_type.name)
        if other != note_type.name:
            message = (
                f"note types {other!r} and {note_type.name!r} have the same fields, so the"
                f" same model id {note_type.model_id}; give one an explicit id:"
            )
            problems.append(Problem.at(where, line_of("note_types"), message))
    return problems


# Path of keys and list indexes from the top of a settings file to one value in it.
SettingPath = tuple[Hashable, ...]


def shown(value: Any) -> str:
    """A setting's value in a message: short whatever it holds, never the whole of a large one."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None or isinstance(value, str | bool | int | float):
        text = json.dumps(value)
    else:
        text = str(value)  # a date, from YAML
    return text if len(text) <= 42 else text[:41] + "…"


class SettingsReport:
    """The problems found reading one settings file, each at the line of the value it is about.

    `line_of(path)` is a value's line; `name_of(path)` names it as its file would (YAML's
    `folder_decks.a: `, JSON's `"Deck" in "Defaults" `). Each check returns the value, or None
    (an empty container for `mapping` and `items`) after saying what is wrong with it.
    """

    def __init__(
        self,
        where: str,
        line_of: Callable[[SettingPath], int],
        name_of: Callable[[SettingPath], str],
        mapping_word: str,
    ):
        self.where, self.line_of, self.name_of = where, line_of, name_of
        self.mapping_word = mapping_word
        self.problems: list[Problem] = []

    def at(self, path: SettingPath, message: str) -> None:
        self.problems.append(Problem.at(self.where, self.line_of(path), message))

    def wrong(self, path: SettingPath, what: str) -> None:
        self.at(path, self.name_of(path) + what)

    def text(self, value: Any, path: SettingPath, *, nullable: bool = False) -> str | None:
        """A string (None, when `nullable`, is no value and no mistake)."""
        if isinstance(value, str) and not LONE_SURROGATE.search(value):
            return value
        if value is not None or not nullable:
            self.wrong(path, f"must be a string, not {shown(value)}")
        return None

    def flag(self, value: Any, path: SettingPath, *, nullable: bool = False) -> bool | None:
        if isinstance(value, bool):
            return value
        if value is not None or not nullable:
            self.wrong(path, "must be true or false")
        return None

    def mapping(self, value: Any, path: SettingPath, *, nullable: bool = False) -> dict:
        if isinstance(value, dict):
            return value
        if value is not None or not nullable:
            self.wrong(path, f"must be {self.mapping_word}")
        return {}

    def items(self, value: Any, path: SettingPath, what: str, *, nullable: bool = False) -> list:
        """A list, `what` saying what it must hold."""
        if isinstance(value, list):
            return value
        if value is not None or not nullable:
            self.wrong(path, f"must be {what}, not {shown(value)}")
        return []

    def name(self, key: Any, path: SettingPath) -> str | None:
        """A key that names a folder or a note type: a string, or a number YAML read (`2024:`)."""
        if isinstance(key, int) and not isinstance(key, bool):
            return str(key)
        if isinstance(key, str) and not LONE_SURROGATE.search(key):
            return key
        quote = "" if isinstance(key, dict | list | str) else "; write it in quotes"
        self.wrong(path, f"must be a string, not {shown(key)}{quote}")
        return None

    def folder(self, value: Any, path: SettingPath, root: Path, *, nullable: bool) -> str | None:
        """A folder of the vault to read alone (empty: the whole vault); one that is outside
        the vault or missing is a mistake, not a vault of no notes."""
        text = self.text(value, path, nullable=nullable)
        if text is None:
            return None
        folder = text.rstrip("/")
        if why := _not_a_vault_folder(root, folder):
            self.wrong(path, f"must be a folder inside the vault; {shown(text)} {why}")
            return None
        return folder


def _not_a_vault_folder(root: Path, folder: str) -> str | None:
    if not folder:
        return None
    if folder.startswith(("/", "\\")) or PureWindowsPath(folder).drive:
        return "is an absolute path (write it relative to the vault)"
    if ".." in PurePosixPath(folder).parts:
        return "has `..` in it"
    if "\0" in folder:
        return "holds a NUL character"
    target = root / folder
    try:
        inside = target.resolve().is_relative_to(root.resolve())
        exists, is_dir = target.exists(), target.is_dir()
    except (OSError, RuntimeError) as err:  # a link loop, a name too long
        return f"cannot be looked at: {err}"
    if not inside:
        return "leads outside it through a link"
    if not exists:
        return "does not exist"
    return None if is_dir else "is not a folder"
