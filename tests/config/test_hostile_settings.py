"""Hostile settings: never a traceback, never a hang, every mistake at its own line.

Real files in tmp_path, read by the real `load_config` and `notecards check`. The bombs run
under a short alarm, so one that hangs fails the test instead of stalling the suite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notecards.cli import cli
from notecards.config import CONFIG_FILE, O2A_SETTINGS, VaultConfig, load_config
from notecards.problems import NotecardsError
from tests.helpers.limits import wall_seconds_at_most
from tests.helpers.vault import block, write_vault

YAML, DATA = CONFIG_FILE, O2A_SETTINGS


def problems(root: Path) -> list[tuple[str, int | None, str]]:
    """(path, line, message) of every problem `load_config` raises for the vault."""
    with pytest.raises(NotecardsError) as caught:
        load_config(root)
    return [(p.path, p.line, p.message) for p in caught.value.problems]


def the_problem(root: Path) -> tuple[str, int | None, str]:
    (found,) = problems(root)
    return found


def check_fails(root: Path, *places: str) -> str:
    """`notecards check` as a user runs it: exit 1, no traceback, each `path:line:` shown."""
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for place in places:
        assert f"{root}/{place}" in result.output
    return result.output


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def nine_anchors(prefix: str) -> str:
    """A billion laughs: nine anchors, each a list of nine of the one before (9^9 values)."""
    lines = [f"{prefix.format(name='a')}&a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for before, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{prefix.format(name=name)}&{name} [{', '.join([f'*{before}'] * 9)}]")
    return "\n".join(lines) + "\n"


# The 7th anchor (g) is the first whose expansion passes the limit: a is 37 (a value and
# its characters), b 334, ... f 2.2 million, g 19.7 million.
FIRST_TOO_LARGE = 7

BOMBS = {
    "folder_decks": ("default_deck: ML\nfolder_decks:\n" + nine_anchors("  {name}: "), 2),
    "custom_regexps": ("custom_regexps:\n" + nine_anchors("  {name}: "), 1),
    "css": (
        "note_types:\n  - name: Vocab\n    fields: [Word, Meaning]\n    css:\n"
        + nine_anchors("      - "),
        4,
    ),
}


# --- 1. the alias bomb, and the other limits of the YAML reader --------------------------


@pytest.mark.parametrize("where", sorted(BOMBS))
def test_yaml_alias_bomb_in_folder_decks_fails_fast_at_its_line(tmp_path, where):
    text, lines_before = BOMBS[where]
    write_vault(tmp_path, {YAML: text})
    line = lines_before + FIRST_TOO_LARGE
    with wall_seconds_at_most(3):
        path, found_line, message = the_problem(tmp_path)
        check_fails(tmp_path, f"{YAML}:{line}: ")
    assert (path, found_line) == (YAML, line)
    assert "aliases expand it past the limit" in message and "4 MiB" in message


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("x: " + "[" * 5000 + "]" * 5000 + "\n", 1, "nested more than 50 levels deep"),
        ("x: " + "[" * 1_000_000 + "\n", 1, "nested more than 50 levels deep"),
        ("a:\n" + "".join("  " * i + "b:\n" for i in range(1, 200)), 50, "nested more than 50"),
        ("a: &a [x]\n" + "".join(f"b{i}: *a\n" for i in range(1001)), 1002, "1,000 aliases"),
        ("a: &a [x, *a]\n", 1, "alias *a stands inside its own anchor"),
        ("a: &a {b: 1}\nc: &c\n  d: 1\n  <<: *c\n", 4, "alias *c stands inside its own anchor"),
        ("".join(f"- k{i}\n" for i in range(20_001)), 20_000, "more than 20,000 values"),
        ("# " + "x" * (1 << 20) + "\n", 1, "larger than the limit of 1 MiB"),
        ("a: !!int junk\n", 1, "not valid YAML: 'junk' is not a !!int"),
        ("a: !!timestamp 2024-13-45\n", 1, "is not a !!timestamp"),
        ("a: " + "1" * 5000 + "\n", 1, "is not a !!int"),
        ('a: "\\ud800"\n', 1, "a lone surrogate"),
        ("a: b\x07\n", 1, "U+0007 is not allowed"),
    ],
)
def test_yaml_beyond_the_readers_limits_is_an_error_at_its_line(tmp_path, text, line, message):
    write_vault(tmp_path, {YAML: text})
    with wall_seconds_at_most(15):  # the 20,000 values and the 1 MiB take a second to read
        path, found_line, found = the_problem(tmp_path)
    assert (path, found_line) == (YAML, line)
    assert message in found


def test_aliases_and_merges_a_real_settings_file_uses_still_work(tmp_path):
    text = (
        "folder_tags:\n  a: &tags [x, y]\n  b: *tags\n"
        "note_types:\n  - &vocab\n    name: Vocab\n    fields: [Word, Meaning]\n"
        "  - <<: *vocab\n    name: Vocab 2\n    id: 2\n"
    )
    write_vault(tmp_path, {YAML: text})
    config = load_config(tmp_path)
    assert config.folder_tags == {"a": ("x", "y"), "b": ("x", "y")}
    assert config.note_types["Vocab 2"].fields == ("Word", "Meaning")


# --- 2. tracebacks seen: not UTF-8, nested thousands deep, the wrong shape ------------------


@pytest.mark.parametrize(
    ("rel", "data", "line", "message"),
    [
        (YAML, b"default_deck: ok\nvault_name: caf\xe9\n", 2, "not UTF-8 text (byte 0xe9)"),
        (DATA, b'{\n"settings": {\n"Defaults": {"Deck": "caf\xe9"}}}', 3, "not UTF-8 text"),
        (YAML, "default_deck: ML\n".encode("utf-16"), 1, "UTF-16"),
        (DATA, json.dumps({"settings": {}}).encode("utf-16"), 1, "UTF-16"),
        (YAML, b"\xef\xbb\xbfdefault_deck: ok\n\xff\n", 2, "not UTF-8 text (byte 0xff)"),
    ],
)
def test_settings_that_are_not_utf8_are_an_error_at_the_bad_byte(
    tmp_path, rel, data, line, message
):
    write_vault(tmp_path, {rel: data})
    path, found_line, found = the_problem(tmp_path)
    assert (path, found_line) == (rel, line)
    assert message in found
    check_fails(tmp_path, f"{rel}:{line}: ")


def test_a_utf8_byte_order_mark_is_read(tmp_path):
    data = json.dumps({"settings": {"Defaults": {"Deck": "FromO2A"}}})
    write_vault(
        tmp_path, {DATA: b"\xef\xbb\xbf" + data.encode(), YAML: b"\xef\xbb\xbfvault_name: V"}
    )
    config = load_config(tmp_path)
    assert (config.default_deck, config.vault_name) == ("FromO2A", "V")


@pytest.mark.parametrize(
    ("rel", "text", "line"),
    [
        (DATA, '{"settings":\n' + "[" * 100_000 + "]" * 100_000 + "}", 2),
        (DATA, "[" * 3000 + "]" * 3000, 1),
        (YAML, "default_deck: ML\nfolder_decks:\n  a: " + "{b: " * 3000 + "\n", 3),
    ],
)
def test_settings_nested_thousands_deep_are_an_error_not_a_recursion_error(
    tmp_path, rel, text, line
):
    write_vault(tmp_path, {rel: text})
    with wall_seconds_at_most(3):
        path, found_line, message = the_problem(tmp_path)
    assert (path, found_line) == (rel, line)
    assert "levels deep" in message


def data_json(tmp_path: Path, data: object) -> str:
    """data.json as O2A writes it (indented, a key a line); returns its text."""
    text = json.dumps(data, indent=2)
    write_vault(tmp_path, {DATA: text})
    return text


# (data.json's content, the text on the line that is wrong, what the message says)
WRONG_DATA_JSON = [
    ([{"settings": {}}], "[", "must be a JSON object"),
    (None, "null", "must be a JSON object"),
    (5, "5", "must be a JSON object"),
    ({"settings": []}, '"settings"', '"settings" must be an object'),
    ({"settings": None}, '"settings"', '"settings" must be an object'),
    ({"settings": "x"}, '"settings"', '"settings" must be an object'),
    ({"settings": {"Defaults": []}}, '"Defaults"', '"Defaults" must be an object'),
    ({"settings": {"Defaults": 5}}, '"Defaults"', "must be an object"),
    ({"settings": {"Defaults": {"Deck": 5}}}, '"Deck"', '"Deck" in "Defaults" must be a string'),
    ({"settings": {"Defaults": {"Deck": []}}}, '"Deck"', "must be a string, not a list"),
    ({"settings": {"Defaults": {"Tag": {"a": 1}}}}, '"Tag"', "must be a string, not a mapping"),
    ({"settings": {"Defaults": {"Scan Directory": 1}}}, '"Scan', "must be a string"),
    ({"settings": {"Defaults": {"Add Context": "yes"}}}, '"Add Context"', "true or false"),
    ({"settings": {"Defaults": {"Add File Link": 1}}}, '"Add File', "must be true or false"),
    ({"settings": {"Defaults": {"Add Obsidian Tags": []}}}, '"Add Obs', "true or false"),
    ({"settings": {"CUSTOM_REGEXPS": []}}, '"CUSTOM_REGEXPS"', "must be an object"),
    ({"settings": {"CUSTOM_REGEXPS": {"Basic": 5}}}, '"Basic"', 'in "CUSTOM_REGEXPS" must be'),
    ({"settings": {"CUSTOM_REGEXPS": {"Basic": ["^Q"]}}}, '"Basic"', "must be a string"),
    ({"settings": {"FOLDER_DECKS": "x"}}, '"FOLDER_DECKS"', "must be an object"),
    ({"settings": {"FOLDER_DECKS": {"a": {"b": "c"}}}}, '"a"', '"a" in "FOLDER_DECKS" must'),
    ({"settings": {"FOLDER_TAGS": [1]}}, '"FOLDER_TAGS"', "must be an object"),
    ({"settings": {"FOLDER_TAGS": {"a": ["x"]}}}, '"a"', "must be a string, not a list"),
    ({"settings": {"FOLDER_TAGS": {"a": True}}}, '"a"', "must be a string, not true"),
    ({"settings": {"CONTEXT_FIELDS": "Back"}}, '"CONTEXT_FIELDS"', "must be an object"),
    ({"settings": {"CONTEXT_FIELDS": {"Basic": 1}}}, '"Basic"', "must be a string"),
    ({"settings": {"FILE_LINK_FIELDS": [1]}}, '"FILE_LINK_FIELDS"', "must be an object"),
    ({"settings": {"FILE_LINK_FIELDS": {"Basic": {}}}}, '"Basic"', "must be a string"),
    ({"settings": {"Syntax": []}}, '"Syntax"', '"Syntax" must be an object'),
    ({"settings": {"Syntax": {"Begin Note": ["%%"]}}}, '"Begin Note"', "must be a string"),
    ({"settings": {"Syntax": {"End Note": None}}}, '"End Note"', "must be a string, not null"),
    ({"settings": {"IGNORED_FILE_GLOBS": {"a": 1}}}, '"IGNORED', "must be a list of globs"),
    ({"settings": {"IGNORED_FILE_GLOBS": ["a", 12345]}}, "12345", 'item 2 of "IGNORED_FILE'),
    ({"fields_dict": []}, '"fields_dict"', '"fields_dict" must be an object'),
    ({"fields_dict": {"Vocab": "Word"}}, '"Vocab"', "must be a list of field names"),
    ({"fields_dict": {"Vocab": ["Word", 12345]}}, "12345", 'item 2 of "Vocab" in "fields_dict"'),
    ({"fields_dict": {"Vocab": {"a": 1}}}, '"Vocab"', "must be a list of field names"),
]


@pytest.mark.parametrize(("data", "wrong", "message"), WRONG_DATA_JSON)
def test_wrong_shapes_in_data_json_are_an_error_at_their_line(tmp_path, data, wrong, message):
    text = data_json(tmp_path, data)
    path, line, found = the_problem(tmp_path)
    assert (path, line) == (DATA, line_of(text, wrong))
    assert message in found
    check_fails(tmp_path, f"{DATA}:{line}: ")


def test_null_in_data_json_means_the_default_where_o2a_writes_it(tmp_path):
    keys = ["Defaults", "CUSTOM_REGEXPS", "FOLDER_DECKS", "FOLDER_TAGS", "Syntax"]
    keys += ["CONTEXT_FIELDS", "FILE_LINK_FIELDS"]
    defaults = {"Deck": None, "Tag": None, "Scan Directory": None, "CurlyCloze": None}
    data_json(tmp_path, {"settings": {key: None for key in keys}, "fields_dict": None})
    assert load_config(tmp_path).default_deck == "Default"
    data_json(tmp_path, {"settings": {"Defaults": defaults, "FOLDER_DECKS": {"a": None}}})
    config = load_config(tmp_path)
    assert (config.default_deck, config.scan_dir, config.curly_cloze) == ("Default", "", False)
    assert config.folder_decks == {}


# (notecards.yaml, the line that is wrong, what the message says)
WRONG_NOTECARDS_YAML = [
    ("- a\n- b\n", 1, "must be a mapping of setting: value"),
    ("5\n", 1, "must be a mapping of setting: value"),
    ("vault_name: [a]\n", 1, "vault_name: must be a string, not a list"),
    ("vault_name: ''\n", 1, "vault_name: must not be empty"),
    ("default_deck: 5\n", 1, "default_deck: must be a string, not 5"),
    ("default_deck: ~\n", 1, "default_deck: must be a string, not null"),
    ("default_deck: 2024-01-01\n", 1, "must be a string, not 2024-01-01"),
    ("default_tags: {a: b}\n", 1, "default_tags: must be a list of strings"),
    ("default_tags:\n  - a\n  - {b: c}\n", 3, "default_tags[1]: must be a string, not a mapping"),
    ("default_tags: [a, yes]\n", 1, "default_tags[1]: must be a string, not true; write it in"),
    ("deck_from_folder: 'true'\n", 1, "deck_from_folder: must be true or false"),
    ("curly_cloze: 1\n", 1, "must be true or false"),
    ("highlights_to_cloze: ~\n", 1, "highlights_to_cloze: must be true or false"),
    ("add_context: 'no'\n", 1, "add_context: must be true or false"),
    ("add_file_link: []\n", 1, "add_file_link: must be true or false"),
    ("add_obsidian_tags: {}\n", 1, "add_obsidian_tags: must be true or false"),
    ("folder_decks: [a]\n", 1, "folder_decks: must be a mapping"),
    ("folder_decks:\n  lectures: [x]\n", 2, "folder_decks.lectures: must be a string"),
    ("folder_decks:\n  ~: ML\n", 2, "must be a string, not null; write it in quotes"),
    ("folder_tags: x\n", 1, "folder_tags: must be a mapping"),
    ("folder_tags:\n  a: {b: c}\n", 2, "folder_tags.a: must be a list of strings"),
    ("folder_tags:\n  a:\n    - x\n    - [y]\n", 4, "folder_tags.a[1]: must be a string"),
    ("scan_dir: 5\n", 1, "scan_dir: must be a string"),
    ("scan_dir: [cards]\n", 1, "scan_dir: must be a string, not a list"),
    ("ignore: {a: 1}\n", 1, "ignore: must be a list of strings"),
    ("ignore:\n  - '*.tmp.md'\n  - 5\n", 3, "ignore[1]: must be a string, not 5"),
    ("custom_regexps: [a]\n", 1, "custom_regexps: must be a mapping"),
    ("custom_regexps:\n  Basic: [a]\n", 2, "custom_regexps.Basic: must be a string"),
    ("context_fields:\n  Basic: 5\n", 2, "context_fields.Basic: must be a string"),
    ("file_link_fields: 5\n", 1, "file_link_fields: must be a mapping"),
    ("ankiconnect: [x]\n", 1, "ankiconnect: must be a mapping"),
    ("ankiconnect: http://localhost\n", 1, "ankiconnect: must be a mapping"),
    ("ankiconnect:\n  url: 8765\n", 2, "ankiconnect.url: must be a string, not 8765"),
    ("ankiconnect:\n  url: x\n  port: 8765\n", 3, "ankiconnect.port: unknown key"),
    ("syntax: [a]\n", 1, "syntax: must be a mapping"),
    ("syntax:\n  end_note: '%%'\n  begin_note: [a]\n", 3, "begin_note must be a string"),
    ("syntax:\n  begin_note: 5\n", 2, "begin_note must be a string, not 5"),
    ("syntax:\n  begin_note: '%%'\n  start: x\n", 3, "unknown marker 'start'"),
    ("note_types: {Vocab: [a]}\n", 1, "note_types: must be a list of note types"),
    ("note_types:\n  - Vocab\n", 2, "note_types[0]: must be a note type"),
    ("note_types:\n  - ~\n", 2, "must be a note type (name: ..., fields: [...]), not null"),
    ("note_types:\n  - name: [V]\n    fields: [A]\n", 2, "note_types[0].name: must be a string"),
    ("note_types:\n  - name: ''\n    fields: [A]\n", 2, "note_types[0].name: must not be empty"),
    ("note_types:\n  - name: V\n    fields: A\n", 3, 'needs a list of field names, not "A"'),
    ("note_types:\n  - name: V\n    fields: []\n", 3, "needs a list of field names, not a list"),
    ("note_types:\n  - name: V\n    fields:\n      - A\n      - {b: c}\n", 5, "fields[1]: must"),
    ("note_types:\n  - name: V\n    fields: [A, '']\n", 3, "a field name must not be empty"),
    ("note_types:\n  - name: V\n    fields: [A, A]\n", 3, "field 'A' is listed twice"),
    ("note_types:\n  - name: V\n    fields: [A]\n    cloze: 'yes'\n", 4, "cloze: must be true"),
    ("note_types:\n  - name: V\n    fields: [A]\n    css: [a]\n", 4, "css: must be a string"),
    ("note_types:\n  - name: V\n    fields: [A]\n    css: ~\n", 4, "css: must be a string"),
    ("note_types:\n  - name: V\n    fields: [A]\n    id: '7'\n", 4, "id: must be a positive"),
    ("note_types:\n  - name: V\n    fields: [A]\n    id: true\n", 4, "not true"),
    ("note_types:\n  - name: V\n    fields: [A]\n    id: -1\n", 4, "positive whole number"),
    ("note_types:\n  - name: V\n    fields: [A]\n    id: 1.5\n", 4, "positive whole number"),
    ("note_types:\n  - name: V\n    fields: [A]\n    clozee: true\n", 4, "did you mean cloze?"),
    ("note_types:\n  - name: V\n    fields: [A]\n    templates: {a: b}\n", 4, "a list of templ"),
    ("note_types:\n  - name: V\n    fields: [A]\n    templates: [x]\n", 4, "must be a template"),
    (
        "note_types:\n  - name: V\n    fields: [A]\n    templates:\n"
        "      - name: C\n        qfmt: 5\n        afmt: x\n",
        6,
        "templates[0].qfmt: must be a string, not 5",
    ),
    (
        "note_types:\n  - name: V\n    fields: [A]\n    templates:\n"
        "      - {name: C, qfmt: x, afmt: y, bqfmt: z}\n",
        5,
        "templates[0].bqfmt: unknown key",
    ),
    (
        "note_types:\n  - name: V\n    fields: [A]\n    templates:\n      - {name: C, qfmt: x}\n",
        4,
        "templates: template 1 needs afmt",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), WRONG_NOTECARDS_YAML)
def test_wrong_shapes_in_notecards_yaml_are_an_error_at_their_line(tmp_path, text, line, message):
    write_vault(tmp_path, {YAML: text})
    path, found_line, found = the_problem(tmp_path)
    assert (path, found_line) == (YAML, line)
    assert message in found
    check_fails(tmp_path, f"{YAML}:{line}: ")


# --- 3. plugin settings that were read wrongly without a word ---------------------------


@pytest.mark.parametrize(
    ("settings", "key", "message"),
    [
        ({"IGNORED_FILE_GLOBS": "templates/**"}, '"IGNORED', "must be a list of globs, not"),
        ({"Defaults": {"Deck": float("nan")}}, '"Deck"', "NaN is not JSON"),
        ({"Defaults": {"Deck": float("inf")}}, '"Deck"', "Infinity is not JSON"),
        ({"Defaults": {"CurlyCloze": "false"}}, '"CurlyCloze"', "must be true or false"),
    ],
)
def test_plugin_settings_read_wrongly_before_are_an_error_at_their_line(
    tmp_path, settings, key, message
):
    text = data_json(tmp_path, {"settings": settings})
    path, line, found = the_problem(tmp_path)
    assert (path, line) == (DATA, line_of(text, key))
    assert message in found


def test_a_number_too_long_for_python_is_an_error_at_its_line(tmp_path):
    write_vault(tmp_path, {DATA: '{\n  "settings": {},\n  "x": ' + "1" * 5000 + "\n}"})
    assert the_problem(tmp_path)[:2] == (DATA, 3)


# --- 4. every mistake, each at its own line; duplicate keys ------------------------------


def test_every_note_types_mistake_is_reported_at_its_own_line(tmp_path):
    text = (
        "note_types:\n"  # 1
        "  - name: Vocab\n"  # 2: no fields (said where the list is named, line 1)
        "  - name: Gaps\n"  # 3
        "    fields: [Text, 5]\n"  # 4
        "    cloze: sure\n"  # 5
        "  - 12\n"  # 6
        "  - name: Pinned\n"  # 7
        "    fields: [A]\n"  # 8
        "    id: 0\n"  # 9
        "    css: [red]\n"  # 10
        "    templates:\n"  # 11
        "      - {name: Card 1, qfmt: '{{A}}', afmt: 7}\n"  # 12
        "  - name: Fine\n"  # 13
        "    fields: [A, B]\n"  # 14
        "  - name: Fine\n"  # 15
        "    fields: [C]\n"  # 16
    )
    write_vault(tmp_path, {YAML: text})
    found = sorted((line, message) for _, line, message in problems(tmp_path))
    assert found == [
        (1, "note_types: note type 'Vocab' needs a list of field names"),
        (4, "note_types[1].fields[1]: must be a string, not 5"),
        (5, "note_types[1].cloze: must be true or false"),
        (6, "note_types[2]: must be a note type (name: ..., fields: [...]), not 12"),
        (9, "note_types[3].id: must be a positive whole number, not 0"),
        (10, "note_types[3].css: must be a string, not a list"),
        (12, "note_types[3].templates[0].afmt: must be a string, not 7"),
        (15, "note_types[5].name: note type 'Fine' is defined twice (first at line 13)"),
    ]
    output = check_fails(tmp_path, *(f"{YAML}:{line}: " for line, _ in found))
    assert output.count(f"{YAML}:") == len(found)


@pytest.mark.parametrize(
    ("text", "line", "key", "first"),
    [
        ("default_deck: A\nvault_name: V\ndefault_deck: B\n", 3, "default_deck", 1),
        ("folder_decks:\n  a: A\n  b: B\n  a: C\n", 4, "a", 2),
        ("folder_decks: {a: A, a: B}\n", 1, "a", 1),
        ("note_types:\n  - name: V\n    fields: [A]\n    name: W\n", 4, "name", 2),
        (
            "note_types:\n  - name: V\n    fields: [A]\n    templates:\n"
            "      - {name: C, qfmt: x, afmt: y, qfmt: z}\n",
            5,
            "qfmt",
            5,
        ),
        ("ankiconnect:\n  url: http://127.0.0.1:8765\n  url: http://example.com\n", 3, "url", 2),
        ("syntax:\n  begin_note: '%%'\n  begin_note: '%%%'\n", 3, "begin_note", 2),
        ("custom_regexps:\n  Basic: x\n  'Basic': y\n", 3, "Basic", 2),
    ],
)
def test_a_duplicate_yaml_key_is_an_error_at_the_duplicate(tmp_path, text, line, key, first):
    write_vault(tmp_path, {YAML: text})
    assert the_problem(tmp_path) == (YAML, line, f"duplicate key {key!r} (first at line {first})")
    check_fails(tmp_path, f"{YAML}:{line}: ")


def test_mistakes_in_both_settings_files_are_all_reported(tmp_path):
    text = data_json(tmp_path, {"settings": {"Defaults": {"Deck": 5, "CurlyCloze": "no"}}})
    (tmp_path / YAML).write_text("default_deck: [a]\nfolder_decks: 3\n")
    assert [(path, line) for path, line, _ in problems(tmp_path)] == [
        (DATA, line_of(text, '"Deck"')),
        (DATA, line_of(text, '"CurlyCloze"')),
        (YAML, 1),
        (YAML, 2),
    ]


# --- 5. scan_dir inside the vault, and there ----------------------------------------------


def scan_dir_vault(tmp_path: Path, source: str, folder: str) -> tuple[Path, int]:
    """A vault with notes whose scan directory is `folder`, set in `source`; and its line."""
    root = tmp_path / "vault"
    outside = tmp_path / "outside"
    write_vault(outside, {"stolen.md": block("q", "a")})
    write_vault(root, {"cards/a.md": block("q", "a"), "notes.md": "text\n"})
    (root / "out").symlink_to(outside, target_is_directory=True)
    if source == YAML:
        write_vault(root, {YAML: f"default_deck: ML\nscan_dir: {json.dumps(folder)}\n"})
        return root, 2
    text = json.dumps({"settings": {"Defaults": {"Scan Directory": folder}}}, indent=2)
    write_vault(root, {DATA: text})
    return root, line_of(text, '"Scan Directory"')


@pytest.mark.parametrize("source", [YAML, DATA])
@pytest.mark.parametrize(
    ("folder", "message"),
    [
        ("../../..", '"../../.." has `..` in it'),
        ("cards/../../outside", '"cards/../../outside" has `..` in it'),
        ("/etc", '"/etc" is an absolute path'),
        ("C:/Users", '"C:/Users" is an absolute path'),
        ("out", '"out" leads outside it through a link'),
        ("missing", '"missing" does not exist'),
        ("notes.md", '"notes.md" is not a folder'),
    ],
)
def test_scan_dir_outside_the_vault_or_missing_is_an_error_at_its_line(
    tmp_path, source, folder, message
):
    root, line = scan_dir_vault(tmp_path, source, folder)
    path, found_line, found = the_problem(root)
    assert (path, found_line) == (source, line)
    assert f"must be a folder inside the vault; {message}" in found
    output = check_fails(root, f"{source}:{line}: ")
    assert "0 notes" in output


@pytest.mark.parametrize("source", [YAML, DATA])
def test_a_scan_dir_inside_the_vault_still_reads_only_that_folder(tmp_path, source):
    root, _ = scan_dir_vault(tmp_path, source, "cards/")
    assert load_config(root).scan_dir == "cards"
    result = CliRunner().invoke(cli, ["check", str(root), "--json"])
    assert (result.exit_code, json.loads(result.stdout)["notes"]) == (0, 1)


# --- 6. the rest of their kind: what is not a regular file, too large ---------------------


def make_special(path: Path, kind: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(path.parent / "nowhere")


@pytest.mark.parametrize("rel", [YAML, DATA])
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("folder", "is a folder, not a regular file"),
        ("fifo", "is a FIFO (named pipe), not a regular file"),
        ("dangling link", "is a link to nothing"),
    ],
)
def test_a_settings_path_that_is_not_a_regular_file_is_an_error_at_line_1(
    tmp_path, rel, kind, message
):
    make_special(tmp_path / rel, kind)
    with wall_seconds_at_most(3):  # a FIFO opened for reading would wait for a writer forever
        assert the_problem(tmp_path) == (rel, 1, message)
        check_fails(tmp_path, f"{rel}:1: {message}")


@pytest.mark.parametrize(("rel", "limit"), [(YAML, 1), (DATA, 64)])
def test_a_settings_file_over_its_size_limit_is_an_error_at_line_1(tmp_path, rel, limit):
    write_vault(tmp_path, {rel: b" " * ((limit << 20) + 1)})
    assert the_problem(tmp_path) == (rel, 1, f"larger than the limit of {limit} MiB")


# --- any value at any setting: a config or located problems, nothing else ----------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
O2A_PLACES = [
    (),
    ("settings",),
    ("fields_dict",),
    ("fields_dict", "Vocab"),
    ("settings", "Defaults"),
    *[("settings", key) for key in ("CUSTOM_REGEXPS", "FOLDER_DECKS", "FOLDER_TAGS")],
    *[("settings", key) for key in ("CONTEXT_FIELDS", "FILE_LINK_FIELDS", "IGNORED_FILE_GLOBS")],
    *[("settings", key, "Basic") for key in ("CUSTOM_REGEXPS", "FOLDER_DECKS", "FOLDER_TAGS")],
    ("settings", "Syntax"),
    ("settings", "Syntax", "Begin Note"),
    *[
        ("settings", "Defaults", key)
        for key in ("Deck", "Tag", "Scan Directory", "CurlyCloze", "Add Context", "Add File Link")
    ],
]
YAML_PLACES = [
    (),
    *[(field.name,) for field in VaultConfig.__dataclass_fields__.values()],
    ("ankiconnect",),
    ("ankiconnect", "url"),
    ("syntax", "begin_note"),
    ("folder_decks", "a"),
    ("folder_tags", "a"),
    ("note_types", 0),
    *[("note_types", 0, key) for key in ("name", "fields", "cloze", "templates", "css", "id")],
    ("note_types", 0, "templates", 0),
    ("note_types", 0, "templates", 0, "qfmt"),
]


def placed(place: tuple, value: object, base: object) -> object:
    """`base` (a valid settings document) with `value` put at `place`."""
    if not place:
        return value
    head, *rest = place
    document = list(base) if isinstance(base, list) else dict(base or {})
    inner = document[head] if isinstance(document, list) else document.get(head)
    document[head] = placed(tuple(rest), value, inner if isinstance(inner, dict | list) else {})
    return document


VALID_YAML = {
    "note_types": [
        {"name": "V", "fields": ["A"], "templates": [{"name": "C", "qfmt": "{{A}}", "afmt": "x"}]}
    ]
}


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    o2a=st.tuples(st.sampled_from(O2A_PLACES), JSON_VALUES),
    ours=st.tuples(st.sampled_from(YAML_PLACES), JSON_VALUES),
)
def test_any_json_value_at_any_setting_gives_a_config_or_located_problems(tmp_path, o2a, ours):
    write_vault(
        tmp_path,
        {
            DATA: json.dumps(placed(o2a[0], o2a[1], {"settings": {}}), indent=2),
            YAML: yaml.safe_dump(placed(ours[0], ours[1], VALID_YAML)),
        },
    )
    try:
        config = load_config(tmp_path)
    except NotecardsError as err:
        assert err.problems
        for problem in err.problems:
            assert problem.path in (DATA, YAML)
            assert isinstance(problem.line, int) and problem.line >= 1
    else:
        assert isinstance(config, VaultConfig)
