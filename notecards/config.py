"""Vault settings: notecards.yaml, or Obsidian_to_Anki's data.json for migrating vaults.

`load_config(root)` first reads O2A's settings when the vault has them
(`.obsidian/plugins/obsidian-to-anki-plugin/data.json`), so a migrating user gets
the same decks, tags and custom regexps without writing anything; then an optional
`notecards.yaml` at the vault root overrides any of the keys below (the keys are
the VaultConfig field names):

    vault_name: My Vault            # for obsidian:// links (default: the folder's name)
    default_deck: ML                # deck for notes without TARGET DECK / folder deck
    default_tags: [ml]              # added to every note
    deck_from_folder: true          # deck = the note's folder path, a/b -> a::b
    folder_decks: {lectures: ML::Lectures}
    folder_tags: {lectures: [lecture]}
    curly_cloze: true               # {x}, {2:x} ... in Cloze note types
    highlights_to_cloze: false      # ==x== is a cloze too
    scan_dir: cards                 # only this folder is read
    ignore: ["**/*.excalidraw.md", "templates/**"]
    custom_regexps: {Basic: "^Q: (.+)\\nA: (.+)"}
    add_context: false              # O2A's heading breadcrumb, appended to a field
    add_file_link: false            # O2A's "Obsidian" link back to the file
    add_obsidian_tags: false        # #tag in a note's text becomes an Anki tag
    context_fields: {Basic: Back}   # which field gets the breadcrumb (default: first)
    file_link_fields: {Basic: Front}
    ankiconnect: {url: "http://127.0.0.1:8765", api_key: secret}  # for `notecards sync`
    syntax: {begin_note: "%%anki", end_note: "%%"}  # renamed markers (O2A's "Syntax")
    note_types:
      - name: Vocab
        fields: [Word, Meaning]
        cloze: false
        templates:
          - {name: Card 1, qfmt: "{{Word}}", afmt: "{{FrontSide}}<hr id=answer>{{Meaning}}"}
        css: ".card { font-size: 20px }"
        id: 1607392319               # optional: tells apart two types with the same fields;
                                     # mixed with the field list into the model id
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from notecards.model import BUILTIN_NOTE_TYPES, NotecardsError, NoteType, Problem

CONFIG_FILE = "notecards.yaml"
O2A_SETTINGS = ".obsidian/plugins/obsidian-to-anki-plugin/data.json"
DEFAULT_IGNORE = ("**/*.excalidraw.md",)


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
    vault_name: str  # for obsidian:// links; defaults to the vault folder's name
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


def load_config(root: Path) -> VaultConfig:
    """The vault's settings: defaults, then O2A's data.json, then notecards.yaml."""
    config = VaultConfig(vault_name=root.resolve().name)
    if (root / O2A_SETTINGS).is_file():
        _apply_o2a(config, root / O2A_SETTINGS)
    if (root / CONFIG_FILE).is_file():
        _apply_yaml(config, root / CONFIG_FILE)
    return config


# --- placement: which deck and tags a file's folder gives ----------------------------


def _ancestors(path: str) -> list[str]:
    """A note's folders, innermost first ("a/b/n.md" -> ["a/b", "a", ""])."""
    parents = [str(p) for p in PurePosixPath(path).parents]
    return ["" if p == "." else p for p in parents]


def folder_deck(config: VaultConfig, path: str) -> str | None:
    """The deck a note's folder gives: innermost O2A folder deck, or its folder path."""
    for folder in _ancestors(path):
        if config.folder_decks.get(folder):
            return config.folder_decks[folder]
    parent = _ancestors(path)[0]
    if config.deck_from_folder and parent:
        return parent.replace("/", "::")
    return None


def folder_tags(config: VaultConfig, path: str) -> list[str]:
    """Tags from every folder above a note, innermost first (as O2A collects them)."""
    return [tag for folder in _ancestors(path) for tag in config.folder_tags.get(folder, ())]


def derived_model_id(field_names: tuple[str, ...], is_cloze: bool, seed: int | None = None) -> int:
    """A note type's model id from what Anki's model is made of (and the user's optional
    `id:` seed), never from its name: renaming a type keeps every card in Anki, and a
    changed field list always gets a new id (Anki refuses new fields under an old id)."""
    kind = "cloze:" if is_cloze else "standard:"
    key = (f"{seed}:" if seed is not None else "") + kind + "\x1f".join(field_names)
    return (1 << 40) + int(hashlib.sha256(key.encode()).hexdigest()[:10], 16)


def default_templates(field_names: tuple[str, ...], is_cloze: bool) -> tuple[dict[str, str], ...]:
    first, rest = field_names[0], field_names[1:]
    if is_cloze:
        back = "".join(f"<br>{{{{{name}}}}}" for name in rest)
        return (
            {
                "name": "Cloze",
                "qfmt": f"{{{{cloze:{first}}}}}",
                "afmt": f"{{{{cloze:{first}}}}}{back}",
            },
        )
    answer = "<br>".join(f"{{{{{name}}}}}" for name in rest)
    afmt = f"{{{{FrontSide}}}}<hr id=answer>{answer}"
    return ({"name": "Card 1", "qfmt": f"{{{{{first}}}}}", "afmt": afmt},)


def make_note_type(
    name: str,
    field_names: tuple[str, ...],
    is_cloze: bool | None = None,
    templates: tuple[dict[str, str], ...] = (),
    css: str = "",
    id_seed: int | None = None,
) -> NoteType:
    cloze = "Cloze" in name if is_cloze is None else is_cloze
    return NoteType(
        name=name,
        fields=field_names,
        model_id=derived_model_id(field_names, cloze, id_seed),
        is_cloze=cloze,
        templates=templates or default_templates(field_names, cloze),
        css=css,
    )


# --- O2A's data.json -------------------------------------------------------------------


def _apply_o2a(config: VaultConfig, path: Path) -> None:
    """Read the settings O2A users already have; bad values name data.json."""
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise NotecardsError(
            [Problem(O2A_SETTINGS, err.lineno, f"not valid JSON: {err.msg}")]
        ) from err
    settings = data.get("settings", {}) if isinstance(data, dict) else {}
    if not isinstance(settings, dict):
        raise NotecardsError([Problem(O2A_SETTINGS, 1, '"settings" must be an object')])
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
    problems += _check(config, lambda key: 1, O2A_SETTINGS)
    if problems:
        raise NotecardsError(problems)


def _o2a_syntax(config: VaultConfig, syntax: Any, text: str) -> list[Problem]:
    """O2A's renamed markers; a missing key keeps its default (O2A fills in the same)."""
    if syntax is None:
        return []
    if not isinstance(syntax, dict):
        return [Problem(O2A_SETTINGS, _json_key_line(text, "Syntax"), '"Syntax" must be an object')]
    keys = {field_name: key for key, field_name in O2A_SYNTAX_KEYS.items()}
    values = {O2A_SYNTAX_KEYS[k]: v for k, v in syntax.items() if k in O2A_SYNTAX_KEYS}
    try:
        config.syntax = syntax_from(config.syntax, values, lambda name: f'"{keys[name]}"')
    except MarkerError as err:
        line = _json_key_line(text, keys[err.field_name], after='"Syntax"')
        return [Problem(O2A_SETTINGS, line, str(err))]
    return []


def _json_key_line(text: str, key: str, after: str = "") -> int:
    """The line of `"key":` in a JSON text (the first after `after`), for error messages:
    the json module keeps no positions."""
    begin = max(text.find(after), 0) if after else 0
    found = re.compile(re.escape(json.dumps(key)) + r"\s*:").search(text, begin)
    return text.count("\n", 0, found.start()) + 1 if found else 1


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
            shown = json.dumps(value, default=str)
            raise MarkerError(f"{label(field_name)} must be a string, not {shown}", field_name)
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


# --- notecards.yaml ---------------------------------------------------------------------

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


def _apply_yaml(config: VaultConfig, path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    loader = yaml.SafeLoader(text)
    try:  # one parse: the node tree gives each key's line, the data is built from it
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        message = getattr(err, "problem", None) or "invalid YAML"
        raise NotecardsError([Problem(CONFIG_FILE, line, f"not valid YAML: {message}")]) from err
    finally:
        loader.dispose()
    if data is None:
        return
    if not isinstance(data, dict):
        raise NotecardsError([Problem(CONFIG_FILE, 1, "must be a mapping of setting: value")])
    lines = {key.value: key.start_mark.line + 1 for key, _ in node.value}
    problems: list[Problem] = []
    for key, value in data.items():
        line = lines.get(key, 1)
        try:
            _set_key(config, str(key), value)
        except ValueError as err:
            problems.append(Problem(CONFIG_FILE, line, f"{key}: {err}"))
    problems += _check(config, lambda key: lines.get(key, 1), CONFIG_FILE)
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


def _check(config: VaultConfig, line_of, where: str) -> list[Problem]:
    """Settings that parse but cannot work: regexps, unknown types, clashing model ids."""
    from notecards.parse.regex_notes import compile_js_regexp  # parse imports this module

    problems = []
    for note_type, pattern in config.custom_regexps.items():
        if note_type not in config.note_types:
            problems.append(
                Problem(
                    where,
                    line_of("custom_regexps"),
                    f"custom regexp for unknown note type {note_type!r}",
                )
            )
            continue
        try:
            compile_js_regexp(pattern)
        except re.error as err:
            problems.append(
                Problem(
                    where,
                    line_of("custom_regexps"),
                    f"regexp for {note_type!r} does not compile: {err}",
                )
            )
    owners: dict[int, str] = {}
    for note_type in config.note_types.values():
        other = owners.setdefault(note_type.model_id, note_type.name)
        if other != note_type.name:
            problems.append(
                Problem(
                    where,
                    line_of("note_types"),
                    f"note types {other!r} and {note_type.name!r} have the same fields, so the"
                    f" same model id {note_type.model_id}; give one an explicit id:",
                )
            )
    return problems
