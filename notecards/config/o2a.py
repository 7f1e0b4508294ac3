"""Obsidian_to_Anki's own settings (its `data.json`), read so a migrating vault needs no new file.

Bad values are reported at their line in data.json.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from notecards.config.note_types import make_note_type
from notecards.config.schema import MarkerError, VaultConfig, check_settings, syntax_from
from notecards.problems import NotecardsError, Problem

O2A_SETTINGS = ".obsidian/plugins/obsidian-to-anki-plugin/data.json"

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


def apply_o2a(config: VaultConfig, path: Path) -> None:
    """Read the settings O2A users already have into `config`; raises NotecardsError."""
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        message = f"not valid JSON: {err.msg}"
        raise NotecardsError([Problem.at(O2A_SETTINGS, err.lineno, message)]) from err
    settings = data.get("settings", {}) if isinstance(data, dict) else {}
    if not isinstance(settings, dict):
        raise NotecardsError([Problem.at(O2A_SETTINGS, 1, '"settings" must be an object')])
    defaults = settings.get("Defaults", {}) or {}
    config.default_deck = str(defaults.get("Deck") or config.default_deck)
    config.default_tags = tuple(str(defaults.get("Tag") or "").split())
    config.scan_dir = str(defaults.get("Scan Directory") or "").strip("/")
    config.curly_cloze = bool(defaults.get("CurlyCloze", config.curly_cloze))
    config.highlights_to_cloze = bool(defaults.get("CurlyCloze - Highlights to Clozes", False))
    config.add_context = bool(defaults.get("Add Context", False))
    config.add_file_link = bool(defaults.get("Add File Link", False))
    config.add_obsidian_tags = bool(defaults.get("Add Obsidian Tags", False))
    for name, field_names in (data.get("fields_dict") or {}).items():
        if name not in config.note_types and field_names:
            config.note_types[name] = make_note_type(name, tuple(field_names))
    config.custom_regexps = {k: v for k, v in (settings.get("CUSTOM_REGEXPS") or {}).items() if v}
    config.folder_decks = {
        k.strip("/"): v for k, v in (settings.get("FOLDER_DECKS") or {}).items() if v
    }
    config.folder_tags = {
        k.strip("/"): tuple(str(v).split())
        for k, v in (settings.get("FOLDER_TAGS") or {}).items()
        if v
    }
    config.context_fields = dict(settings.get("CONTEXT_FIELDS") or {})
    config.file_link_fields = dict(settings.get("FILE_LINK_FIELDS") or {})
    if "IGNORED_FILE_GLOBS" in settings:
        config.ignore = tuple(settings.get("IGNORED_FILE_GLOBS") or ())
    problems = _o2a_syntax(config, settings.get("Syntax"), text)
    problems += check_settings(config, lambda key: 1, O2A_SETTINGS)
    if problems:
        raise NotecardsError(problems)


def _o2a_syntax(config: VaultConfig, syntax: Any, text: str) -> list[Problem]:
    """O2A's renamed markers; a missing key keeps its default (O2A fills in the same)."""
    if syntax is None:
        return []
    if not isinstance(syntax, dict):
        line = _json_key_line(text, "Syntax")
        return [Problem.at(O2A_SETTINGS, line, '"Syntax" must be an object')]
    keys = {field_name: key for key, field_name in O2A_SYNTAX_KEYS.items()}
    values = {O2A_SYNTAX_KEYS[k]: v for k, v in syntax.items() if k in O2A_SYNTAX_KEYS}
    try:
        config.syntax = syntax_from(config.syntax, values, lambda name: f'"{keys[name]}"')
    except MarkerError as err:
        line = _json_key_line(text, keys[err.field_name], after='"Syntax"')
        return [Problem.at(O2A_SETTINGS, line, str(err))]
    return []


def _json_key_line(text: str, key: str, after: str = "") -> int:
    """The line of `"key":` in a JSON text (the first after `after`), for error messages:
    the json module keeps no positions."""
    begin = max(text.find(after), 0) if after else 0
    found = re.compile(re.escape(json.dumps(key)) + r"\s*:").search(text, begin)
    return text.count("\n", 0, found.start()) + 1 if found else 1
