"""notecards.yaml: the vault's own settings, which override O2A's key by key.

Every mistake is reported as `notecards.yaml:LINE: message`, all of them, each at the line of
the key or list entry that is wrong; a key that a note type or a template lacks is reported
where its list is named, as it has no line of its own.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import fields
from pathlib import Path
from typing import Any

from notecards.config.bounded_yaml import YamlProblem, load_yaml
from notecards.config.note_types import make_note_type
from notecards.config.schema import (
    MarkerError,
    SettingPath,
    SettingsReport,
    Syntax,
    VaultConfig,
    check_settings,
    shown,
    syntax_from,
)
from notecards.model import NoteType
from notecards.problems import Problem

CONFIG_FILE = "notecards.yaml"

_BOOL_KEYS = {
    "deck_from_folder",
    "curly_cloze",
    "highlights_to_cloze",
    "add_context",
    "add_file_link",
    "add_obsidian_tags",
}
# vault_folder is where the vault lies in Obsidian's (load.py), found, not set.
_KEYS = {f.name for f in fields(VaultConfig)} - {
    "ankiconnect_url",
    "ankiconnect_api_key",
    "vault_folder",
}
_KEYS.add("ankiconnect")
_SYNTAX_FIELDS = tuple(f.name for f in fields(Syntax))
_ANKICONNECT_KEYS = ("url", "api_key")
_NOTE_TYPE_KEYS = ("name", "fields", "cloze", "templates", "css", "id")
_TEMPLATE_KEYS = ("name", "qfmt", "afmt")


def apply_yaml(config: VaultConfig, text: str, root: Path) -> list[Problem]:
    """Read notecards.yaml's text into `config`, key by key over what is there; returns every
    mistake found (the keys without one are applied all the same)."""
    try:
        document = load_yaml(text)
    except YamlProblem as err:
        return [Problem.at(CONFIG_FILE, err.line, err.message)]
    if document.data is None:
        return []
    if not isinstance(document.data, dict):
        return [Problem.at(CONFIG_FILE, 1, "must be a mapping of setting: value")]
    report = SettingsReport(CONFIG_FILE, document.line_of, _yaml_name, "a mapping")
    for key, value in document.data.items():
        _set_key(config, key, value, report, root)
    return report.problems + check_settings(
        config, lambda key: document.line_of((key,)), CONFIG_FILE
    )


def _yaml_name(path: SettingPath) -> str:
    """`folder_decks.lectures: `, `note_types[0].fields: `: a value as its place in the file."""
    first, *rest = path
    steps = [f"[{s}]" if isinstance(s, int) and not isinstance(s, bool) else f".{s}" for s in rest]
    return f"{first}{''.join(steps)}: "


def _set_key(config: VaultConfig, key: Any, value: Any, report: SettingsReport, root: Path) -> None:
    path = (key,)
    if key not in _KEYS:
        report.wrong(path, f"unknown setting{_did_you_mean(key, _KEYS)}")
    elif key in _BOOL_KEYS:
        if (flag := report.flag(value, path)) is not None:
            setattr(config, key, flag)
    elif key in ("vault_name", "default_deck"):
        text = report.text(value, path)
        if text is not None and not text.strip():
            report.wrong(path, "must not be empty")
        elif text is not None:
            setattr(config, key, text)
    elif key == "scan_dir":
        if (folder := report.folder(value, path, root, nullable=False)) is not None:
            config.scan_dir = folder
    elif key in ("default_tags", "ignore"):
        setattr(config, key, tuple(_words(value, path, report, names=key == "default_tags")))
    elif key == "folder_tags":
        config.folder_tags = {
            folder.strip("/"): tuple(_words(words, at, report, names=True))
            for folder, words, at in _named_entries(value, path, report)
        }
    elif key == "folder_decks":
        config.folder_decks = {
            folder.strip("/"): deck
            for folder, setting, at in _named_entries(value, path, report)
            if (deck := report.name(setting, at)) is not None
        }
    elif key in ("custom_regexps", "context_fields", "file_link_fields"):
        setattr(
            config,
            key,
            {
                name: text
                for name, setting, at in _named_entries(value, path, report)
                if setting not in (None, "") and (text := report.text(setting, at)) is not None
            },
        )
    elif key == "ankiconnect":
        _ankiconnect(config, value, report)
    elif key == "syntax":
        _syntax(config, value, report)
    else:  # note_types
        _note_types(config, value, report)


def _did_you_mean(key: Any, known: Collection[str]) -> str:
    close = difflib.get_close_matches(str(key), sorted(known), n=3)
    return f"; did you mean {', '.join(close)}?" if close else ""


def _words(value: Any, path: SettingPath, report: SettingsReport, names: bool) -> list[str]:
    """Tags or globs: a list, or one string of them separated by spaces. A tag may be a
    number (`2024`); a glob must be a string."""
    if isinstance(value, str):
        return (report.text(value, path) or "").split()
    read = report.name if names else report.text
    items = report.items(value, path, "a list of strings")
    words = (read(item, (*path, index)) for index, item in enumerate(items))
    return [word for word in words if word is not None]


def _named_entries(value: Any, path: SettingPath, report: SettingsReport):
    """(name, value, path) for each entry of a mapping keyed by folder or note type name."""
    for key, setting in report.mapping(value, path).items():
        at = (*path, key)
        if (name := report.name(key, at)) is not None:
            yield name, setting, at


def _ankiconnect(config: VaultConfig, value: Any, report: SettingsReport) -> None:
    for key, setting in report.mapping(value, ("ankiconnect",)).items():
        at = ("ankiconnect", key)
        if key not in _ANKICONNECT_KEYS:
            report.wrong(at, f"unknown key; ankiconnect has {' and '.join(_ANKICONNECT_KEYS)}")
        elif (text := report.text(setting, at)) is not None:
            setattr(config, f"ankiconnect_{key}", text)


def _syntax(config: VaultConfig, value: Any, report: SettingsReport) -> None:
    markers = {}
    for key, marker in report.mapping(value, ("syntax",)).items():
        if key in _SYNTAX_FIELDS:
            markers[key] = marker
        else:
            known = ", ".join(_SYNTAX_FIELDS)
            report.wrong(("syntax", key), f"unknown marker {str(key)!r}; known: {known}")
    try:
        config.syntax = syntax_from(config.syntax, markers, str)
    except MarkerError as err:
        report.wrong(("syntax", err.field_name), str(err))


def _note_types(config: VaultConfig, value: Any, report: SettingsReport) -> None:
    first_line: dict[str, int] = {}
    for index, entry in enumerate(report.items(value, ("note_types",), "a list of note types")):
        note_type = _note_type(entry, ("note_types", index), report)
        if note_type is None:
            continue
        at = ("note_types", index, "name")
        if note_type.name in first_line:
            first = first_line[note_type.name]
            report.wrong(
                at, f"note type {note_type.name!r} is defined twice (first at line {first})"
            )
        else:
            first_line[note_type.name] = report.line_of(at)
            config.note_types[note_type.name] = note_type


def _note_type(entry: Any, at: SettingPath, report: SettingsReport) -> NoteType | None:
    """One `note_types` entry, every mistake in it reported; None when it has any."""
    if not isinstance(entry, dict):
        report.wrong(at, f"must be a note type (name: ..., fields: [...]), not {shown(entry)}")
        return None
    before = len(report.problems)
    _unknown_keys(entry, at, _NOTE_TYPE_KEYS, "a note type", report)
    name = _required(entry, "name", at, report, "each note type needs a name")
    if name is not None and not name.strip():
        report.wrong((*at, "name"), "must not be empty")
    label = repr(name) if name else f"number {at[-1] + 1}"
    field_names = _field_names(entry, at, report, f"note type {label} needs a list of field names")
    is_cloze = report.flag(entry["cloze"], (*at, "cloze")) if "cloze" in entry else None
    templates = _templates(entry.get("templates", []), (*at, "templates"), report)
    css = report.text(entry["css"], (*at, "css")) if "css" in entry else ""
    id_seed = entry.get("id")
    if id_seed is not None and (
        not isinstance(id_seed, int) or isinstance(id_seed, bool) or id_seed <= 0
    ):
        report.wrong((*at, "id"), f"must be a positive whole number, not {shown(id_seed)}")
    if len(report.problems) > before or name is None or not field_names:
        return None
    return make_note_type(name, field_names, is_cloze, templates, css or "", id_seed)


def _unknown_keys(
    entry: dict, at: SettingPath, known: tuple[str, ...], what: str, report: SettingsReport
) -> None:
    for key in entry:
        if key not in known:
            hint = _did_you_mean(key, known) or f"; {what} has {', '.join(known)}"
            report.wrong((*at, key), f"unknown key{hint}")


def _required(
    entry: dict, key: str, at: SettingPath, report: SettingsReport, missing: str
) -> str | None:
    """A string the mapping at `at` must have; `missing` is said where its list is named."""
    if key not in entry:
        report.wrong(at[:-1], missing)
        return None
    return report.text(entry[key], (*at, key))


def _field_names(
    entry: dict, at: SettingPath, report: SettingsReport, missing: str
) -> tuple[str, ...]:
    if "fields" not in entry:
        report.wrong(at[:-1], missing)
        return ()
    path = (*at, "fields")
    if not isinstance(entry["fields"], list) or not entry["fields"]:
        report.wrong(path, f"{missing}, not {shown(entry['fields'])}")
        return ()
    names: list[str] = []
    for index, item in enumerate(entry["fields"]):
        name = report.text(item, (*path, index))
        if name is not None and not name.strip():
            report.wrong((*path, index), "a field name must not be empty")
        elif name in names:
            report.wrong((*path, index), f"field {name!r} is listed twice")
        elif name is not None:
            names.append(name)
    return tuple(names)


def _templates(value: Any, path: SettingPath, report: SettingsReport) -> tuple[dict, ...]:
    templates = []
    for index, template in enumerate(report.items(value, path, "a list of templates")):
        at = (*path, index)
        if not isinstance(template, dict):
            report.wrong(at, f"must be a template (name, qfmt, afmt), not {shown(template)}")
            continue
        _unknown_keys(template, at, _TEMPLATE_KEYS, "a template", report)
        templates.append(
            {
                key: _required(template, key, at, report, f"template {index + 1} needs {key}")
                for key in _TEMPLATE_KEYS
            }
        )
    return tuple(templates)
