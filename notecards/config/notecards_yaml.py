"""notecards.yaml: the vault's own settings, which override O2A's key by key.

Every mistake is reported as `notecards.yaml:LINE: message`.
"""

from __future__ import annotations

import difflib
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from notecards.config.note_types import make_note_type
from notecards.config.schema import Syntax, VaultConfig, check_settings, syntax_from
from notecards.model import NoteType
from notecards.problems import NotecardsError, Problem

CONFIG_FILE = "notecards.yaml"

_BOOL_KEYS = {
    "deck_from_folder",
    "curly_cloze",
    "highlights_to_cloze",
    "add_context",
    "add_file_link",
    "add_obsidian_tags",
}
_KEYS = {f.name for f in fields(VaultConfig)} - {"ankiconnect_url", "ankiconnect_api_key"}
_KEYS.add("ankiconnect")
_SYNTAX_FIELDS = tuple(f.name for f in fields(Syntax))


def apply_yaml(config: VaultConfig, path: Path) -> None:
    """Read notecards.yaml into `config`, key by key over what is there; raises NotecardsError."""
    text = path.read_text(encoding="utf-8-sig")
    loader = yaml.SafeLoader(text)
    try:  # one parse: the node tree gives each key's line, the data is built from it
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        message = getattr(err, "problem", None) or "invalid YAML"
        raise NotecardsError([Problem.at(CONFIG_FILE, line, f"not valid YAML: {message}")]) from err
    finally:
        loader.dispose()
    if data is None:
        return
    if not isinstance(data, dict):
        raise NotecardsError([Problem.at(CONFIG_FILE, 1, "must be a mapping of setting: value")])
    lines = {key.value: key.start_mark.line + 1 for key, _ in node.value}
    problems: list[Problem] = []
    for key, value in data.items():
        line = lines.get(key, 1)
        try:
            _set_key(config, str(key), value)
        except ValueError as err:
            problems.append(Problem.at(CONFIG_FILE, line, f"{key}: {err}"))
    problems += check_settings(config, lambda key: lines.get(key, 1), CONFIG_FILE)
    if problems:
        raise NotecardsError(problems)


def _set_key(config: VaultConfig, key: str, value: Any) -> None:
    if key not in _KEYS:
        close = difflib.get_close_matches(key, sorted(_KEYS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown setting{hint}")
    if key in _BOOL_KEYS:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        setattr(config, key, value)
    elif key in ("vault_name", "default_deck", "scan_dir"):
        if not isinstance(value, str):
            raise ValueError("must be a string")
        setattr(config, key, value.strip("/") if key == "scan_dir" else value)
    elif key in ("default_tags", "ignore"):
        setattr(config, key, tuple(_words(value)))
    elif key == "folder_tags":
        config.folder_tags = {
            str(k).strip("/"): tuple(_words(v)) for k, v in _mapping(value).items()
        }
    elif key == "folder_decks":
        config.folder_decks = {str(k).strip("/"): str(v) for k, v in _mapping(value).items()}
    elif key in ("custom_regexps", "context_fields", "file_link_fields"):
        setattr(config, key, {str(k): str(v) for k, v in _mapping(value).items() if v})
    elif key == "ankiconnect":
        settings = _mapping(value)
        unknown = set(settings) - {"url", "api_key"}
        if unknown or not all(isinstance(v, str) for v in settings.values()):
            raise ValueError("must be a mapping with url and/or api_key (strings)")
        config.ankiconnect_url = settings.get("url", "")
        config.ankiconnect_api_key = settings.get("api_key", "")
    elif key == "syntax":
        markers = _mapping(value)
        if unknown := sorted(set(map(str, markers)) - set(_SYNTAX_FIELDS)):
            raise ValueError(f"unknown marker {unknown[0]!r}; known: {', '.join(_SYNTAX_FIELDS)}")
        config.syntax = syntax_from(config.syntax, markers, str)
    elif key == "note_types":
        if not isinstance(value, list):
            raise ValueError("must be a list of note types")
        for entry in value:
            note_type = _note_type(entry)
            config.note_types[note_type.name] = note_type


def _words(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return [str(v) for v in value]
    raise ValueError("must be a list of strings")


def _mapping(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValueError("must be a mapping")
    return value


def _note_type(entry: Any) -> NoteType:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ValueError("each note type needs a name")
    name = entry["name"]
    field_names = entry.get("fields")
    if (
        not isinstance(field_names, list)
        or not field_names
        or not all(isinstance(f, str) and f for f in field_names)
    ):
        raise ValueError(f"note type {name!r} needs a list of field names")
    is_cloze = entry.get("cloze", "Cloze" in name)
    if not isinstance(is_cloze, bool):
        raise ValueError(f"note type {name!r}: cloze must be true or false")
    templates = entry.get("templates", [])
    if not isinstance(templates, list) or not all(
        isinstance(t, dict) and {"name", "qfmt", "afmt"} <= set(t) for t in templates
    ):
        raise ValueError(f"note type {name!r}: each template needs name, qfmt and afmt")
    id_seed = entry.get("id")
    if id_seed is not None and (not isinstance(id_seed, int) or id_seed <= 0):
        raise ValueError(f"note type {name!r}: id must be a positive integer")
    return make_note_type(
        name,
        tuple(field_names),
        is_cloze,
        tuple({k: str(t[k]) for k in ("name", "qfmt", "afmt")} for t in templates),
        str(entry.get("css", "")),
        id_seed,
    )
