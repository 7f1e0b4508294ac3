"""Vault settings: O2A's data.json for migrating users, notecards.yaml on top."""

from __future__ import annotations

import json

import pytest

from notecards.config import (
    BUILTIN_NOTE_TYPES,
    O2A_SETTINGS,
    derived_model_id,
    load_config,
)
from notecards.parse.placement import deck_for_folder, tags_for_folder
from notecards.problems import NotecardsError
from tests.helpers.paths import FIXTURES
from tests.helpers.vault import write_vault


def test_defaults_without_any_settings(tmp_path):
    config = load_config(tmp_path)
    assert config.vault_name == tmp_path.name
    assert config.default_deck == "Default"
    assert config.note_types == BUILTIN_NOTE_TYPES
    assert config.ignore == ("**/*.excalidraw.md",)


def test_o2a_settings_are_read():
    config = load_config(FIXTURES / "migrated")
    assert config.default_deck == "Inbox"
    assert config.default_tags == ("from_o2a",)
    assert config.custom_regexps == {"Basic": "^Q: (.+)\nA: (.+)"}
    assert config.folder_decks == {"langs": "Languages"}
    assert config.folder_tags == {"langs": ("words",), "langs/french": ("fr",)}
    assert (config.curly_cloze, config.add_context, config.add_obsidian_tags) == (True, True, True)
    assert config.context_fields == {"Basic": "Back"}
    vocab = config.note_types["Vocab"]
    assert vocab.fields == ("Word", "Meaning") and not vocab.is_cloze


def test_yaml_overrides_o2a(tmp_path):
    o2a = json.dumps({"settings": {"Defaults": {"Deck": "FromO2A"}}})
    yaml_text = "default_deck: FromYaml\nvault_name: Mine\n"
    write_vault(tmp_path, {O2A_SETTINGS: o2a, "notecards.yaml": yaml_text})
    config = load_config(tmp_path)
    assert (config.default_deck, config.vault_name) == ("FromYaml", "Mine")


def test_custom_note_type_from_yaml(tmp_path):
    write_vault(
        tmp_path,
        {
            "notecards.yaml": "note_types:\n"
            "  - name: Vocab\n"
            "    fields: [Word, Meaning]\n"
            "  - name: Gaps\n"
            "    fields: [Text]\n"
            "    cloze: true\n"
            "    css: '.card {}'\n"
            "  - name: Pinned\n"
            "    fields: [A, B]\n"
            "    id: 123\n"
        },
    )
    types = load_config(tmp_path).note_types
    assert types["Vocab"].model_id == derived_model_id(("Word", "Meaning"), False)
    assert types["Vocab"].templates[0]["qfmt"] == "{{Word}}"
    assert types["Gaps"].is_cloze and types["Gaps"].templates[0]["qfmt"] == "{{cloze:Text}}"
    assert types["Gaps"].css == ".card {}"
    assert types["Pinned"].model_id == derived_model_id(("A", "B"), False, 123)
    assert "Basic" in types


def test_model_id_depends_on_fields_and_cloze_never_the_name():
    assert derived_model_id(("A", "B"), False) != derived_model_id(("A", "B"), True)
    assert derived_model_id(("A", "B"), False) != derived_model_id(("B", "A"), False)


@pytest.mark.parametrize(
    ("yaml_text", "line", "message"),
    [
        ("default_deck: A\ndefualt_tags: [x]\n", 2, "unknown setting; did you mean default_tags"),
        ("curly_cloze: yes please\n", 1, "must be true or false"),
        ("default_deck: [a, b]\n", 1, "must be a string"),
        ("default_deck: A\nfolder_decks: [a]\n", 2, "must be a mapping"),
        ("note_types:\n  - name: X\n", 1, "needs a list of field names"),
        ("a: [1\nb: 2\n", 2, "not valid YAML"),
        ("custom_regexps:\n  Basic: '(unclosed'\n", 1, "does not compile"),
        ("custom_regexps:\n  Nope: 'x'\n", 1, "unknown note type 'Nope'"),
        (
            "note_types:\n  - {name: A, fields: [X]}\n  - {name: B, fields: [X]}\n",
            1,
            "same model id",
        ),
    ],
)
def test_bad_yaml_settings_name_their_line(tmp_path, yaml_text, line, message):
    write_vault(tmp_path, {"notecards.yaml": yaml_text})
    with pytest.raises(NotecardsError) as caught:
        load_config(tmp_path)
    (problem,) = caught.value.problems
    assert (problem.path, problem.line) == ("notecards.yaml", line)
    assert message in problem.message


def test_bad_data_json_names_the_file(tmp_path):
    write_vault(tmp_path, {O2A_SETTINGS: '{"settings": {\n  "Defaults": ,\n}}'})
    with pytest.raises(NotecardsError) as caught:
        load_config(tmp_path)
    (problem,) = caught.value.problems
    assert (problem.path, problem.line) == (O2A_SETTINGS, 2)


def test_folder_deck_and_tags_are_inherited(tmp_path):
    write_vault(
        tmp_path, {"notecards.yaml": "folder_decks: {a: A}\nfolder_tags: {a: [ta], a/b: tb}\n"}
    )
    config = load_config(tmp_path)
    assert deck_for_folder(config, "a/b/c/n.md") == "A"
    assert deck_for_folder(config, "n.md") is None
    assert tags_for_folder(config, "a/b/n.md") == ["tb", "ta"]


def test_deck_from_folder(tmp_path):
    write_vault(tmp_path, {"notecards.yaml": "deck_from_folder: true\nfolder_decks: {x: X}\n"})
    config = load_config(tmp_path)
    assert deck_for_folder(config, "lectures/week 1/n.md") == "lectures::week 1"
    assert deck_for_folder(config, "x/y/n.md") == "X"  # an explicit folder deck wins
    assert deck_for_folder(config, "n.md") is None


def test_a_pinned_id_still_changes_with_the_field_list():
    """`id:` tells apart types with the same fields; it never keeps an id across a field change."""
    pinned = derived_model_id(("A", "B"), False, 1607392319)
    assert pinned != derived_model_id(("A", "B"), False)
    assert pinned != derived_model_id(("A", "B", "C"), False, 1607392319)
