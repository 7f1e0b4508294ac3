"""The note types a package carries: notecards' names and stylesheet, proven by importing into
a real Anki collection; and `notecards css`, which prints the same stylesheet."""

from __future__ import annotations

import re
import time
from pathlib import Path

import genanki
from click.testing import CliRunner

from notecards import hashing
from notecards.cli import cli
from notecards.config import BUILTIN_NOTE_TYPES
from notecards.render.callouts import _COLOURS
from notecards.targets.package import write_package
from notecards.targets.stylesheet import card_css
from tests.helpers.build import run_build
from tests.helpers.collection import AnkiCollection
from tests.helpers.vault import block, write_vault

CLOZE = "START\nCloze\nText: {{c1::x}} y\nEND\n"
REVERSED = "START\nBasic (and reversed card)\nFront: f\nBack: b\nEND\n"
OPTIONAL = "START\nBasic (optional reversed card)\nFront: f\nBack: b\nEND\n"
TYPED = "START\nBasic (type in the answer)\nFront: f\nBack: b\nEND\n"
GENANKI_IDS = {
    "Basic": genanki.BASIC_MODEL.model_id,
    "Basic (and reversed card)": genanki.BASIC_AND_REVERSED_CARD_MODEL.model_id,
    "Basic (optional reversed card)": genanki.BASIC_OPTIONAL_REVERSED_CARD_MODEL.model_id,
    "Basic (type in the answer)": genanki.BASIC_TYPE_IN_THE_ANSWER_MODEL.model_id,
    "Cloze": genanki.CLOZE_MODEL.model_id,
}


def _models(anki: AnkiCollection) -> dict[str, dict]:
    return {m.name: anki.col.models.get(m.id) for m in anki.col.models.all_names_and_ids()}


def _names(anki: AnkiCollection) -> set[str]:
    return {m.name for m in anki.col.models.all_names_and_ids()}


def _build(vault: Path, out: Path) -> None:
    result = run_build(str(vault), "-o", str(out), "--quiet")
    assert result.exit_code == 0, result.output


def _genanki_package(path: Path) -> Path:
    """What builds of earlier versions wrote: genanki's stock Basic, named "Basic (genanki)"."""
    deck = genanki.Deck(1, "Default")
    deck.add_note(genanki.Note(model=genanki.BASIC_MODEL, fields=["old q", "a"], guid="old"))
    write_package(genanki.Package([deck]), path)
    return path


def test_every_builtin_type_arrives_named_for_notecards_with_its_stylesheet(tmp_path):
    cards = block("Q", "A") + REVERSED + OPTIONAL + TYPED + CLOZE
    vault = write_vault(tmp_path / "v", {"a.md": cards})
    _build(vault, tmp_path / "out.apkg")
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(tmp_path / "out.apkg")
        models = _models(anki)
        for name, model_id in GENANKI_IDS.items():
            model = models[f"{name} (notecards)"]
            assert model["id"] == model_id  # the id older packages carried: no second type
            assert model["css"] == card_css()
            assert [f["name"] for f in model["flds"]] == list(BUILTIN_NOTE_TYPES[name].fields)
        assert models["Basic"]["css"] != card_css()  # Anki's own type is not touched
        assert sorted(n.note_type for n in anki.notes().values()) == sorted(
            f"{name} (notecards)" for name in GENANKI_IDS
        )


def test_a_type_an_older_package_brought_is_renamed_and_restyled_in_place(tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "A")})
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(_genanki_package(tmp_path / "old.apkg"))
        before = _names(anki)  # not `_models`: the collection caches the types it was asked
        assert "Basic (genanki)" in before
        time.sleep(1.1)  # Anki takes a type of the same id only when the package's is newer (s)
        _build(vault, tmp_path / "out.apkg")
        anki.import_package(tmp_path / "out.apkg")
        models = _models(anki)
        assert set(models) == before - {"Basic (genanki)"} | {"Basic (notecards)"}
        assert models["Basic (notecards)"]["id"] == genanki.BASIC_MODEL.model_id
        assert models["Basic (notecards)"]["css"] == card_css()
        types = {n.fields["Front"]: n.note_type for n in anki.notes().values()}
        assert types == {"old q": "Basic (notecards)", "Q": "Basic (notecards)"}


def test_the_name_survives_a_collection_that_already_has_a_basic_plus(tmp_path):
    """Why not "Basic+": any shared deck with a type named "Basic" takes that name first, and
    Anki then imports ours as "Basic++"."""
    shared = genanki.Model(123456789, "Basic", fields=[{"name": "Front"}, {"name": "Back"}],
                           templates=genanki.BASIC_MODEL.templates)  # fmt: skip
    deck = genanki.Deck(1, "Default")
    deck.add_note(genanki.Note(model=shared, fields=["shared", "a"], guid="shared"))
    write_package(genanki.Package([deck]), tmp_path / "shared.apkg")
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "A")})
    _build(vault, tmp_path / "out.apkg")
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(tmp_path / "shared.apkg")
        assert "Basic+" in _names(anki)
        anki.import_package(tmp_path / "out.apkg")
        types = {n.fields["Front"]: n.note_type for n in anki.notes().values()}
        assert types == {"shared": "Basic+", "Q": "Basic (notecards)"}


def test_a_custom_type_without_css_gets_the_stylesheet_and_one_with_css_keeps_its_own(tmp_path):
    config = (
        "note_types:\n"
        "  - {name: Plain, fields: [Word, Meaning]}\n"
        "  - {name: Styled, fields: [Term, Gloss], css: '.card { color: teal }'}\n"
    )
    cards = "START\nPlain\nWord: w\nMeaning: m\nEND\n" + "START\nStyled\nTerm: t\nGloss: g\nEND\n"
    vault = write_vault(tmp_path / "v", {"notecards.yaml": config, "a.md": cards})
    _build(vault, tmp_path / "out.apkg")
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(tmp_path / "out.apkg")
        models = _models(anki)
        assert models["Plain"]["css"] == card_css()
        assert models["Styled"]["css"] == ".card { color: teal }"


def test_notecards_css_prints_the_stylesheet_on_stdout_alone():
    result = CliRunner().invoke(cli, ["css"])
    assert result.exit_code == 0
    assert result.stdout == card_css()
    assert result.stderr == ""


def test_the_stylesheet_colours_each_callout_type_as_the_renderer_does():
    """The renderer's inline border and the stylesheet's title colour are one colour."""
    css = card_css()
    rules = re.findall(r"\.card \.callout([^{]*)\{([^}]*)\}", css)
    colour_of: dict[str, str] = {}
    for selector, body in rules:
        colour = re.search(r"--callout-color: ([\d, ]+);", body)
        if colour:
            for kind in re.findall(r'data-callout="([\w-]+)"', selector) or ["note"]:
                colour_of[kind] = colour[1]
    assert {kind: colour_of.get(kind, colour_of["note"]) for kind in _COLOURS} == _COLOURS


def test_a_changed_stylesheet_changes_the_code_digest(tmp_path, monkeypatch):
    """Every cache and the build's unchanged check are keyed on the code digest: a new
    stylesheet must reach the next package as a code change does."""
    package = tmp_path / "notecards"
    (package / "targets").mkdir(parents=True)
    (package / "cli.py").write_text("")
    (package / "targets" / "card.css").write_text(".card { text-align: left; }")
    monkeypatch.setattr(hashing, "_PACKAGE", package)
    before = hashing.code_digest.__wrapped__()
    (package / "targets" / "card.css").write_text(".card { text-align: center; }")
    assert hashing.code_digest.__wrapped__() != before
