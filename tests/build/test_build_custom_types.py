"""Note types declared in notecards.yaml, built into a package and imported into a real Anki."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from notecards.cli import cli
from notecards.config import derived_model_id, load_config
from tests.helpers.build import run_build
from tests.helpers.collection import AnkiCollection
from tests.helpers.vault import ids_in, write_vault

VOCAB_ID = 1607392319
VOCAB_QFMT = "<div class=word>{{Word}}</div>"
VOCAB_AFMT = "{{FrontSide}}<hr id=answer>{{Meaning}}<br><i>{{Example}}</i>"
VOCAB_CSS = ".card { font-size: 20px }"
GAP_CSS = ".cloze { color: teal }"

CONFIG = f"""\
default_deck: Words
note_types:
  - name: Vocab
    fields: [Word, Meaning, Example]
    cloze: false
    templates:
      - name: Recall
        qfmt: "{VOCAB_QFMT}"
        afmt: "{VOCAB_AFMT}"
    css: "{VOCAB_CSS}"
    id: {VOCAB_ID}
  - name: Gap
    fields: [Passage, Source]
    cloze: true
    templates:
      - name: Gap card
        qfmt: "{{{{cloze:Passage}}}}"
        afmt: "{{{{cloze:Passage}}}}<br>{{{{Source}}}}"
    css: "{GAP_CSS}"
"""

VOCAB_CARD = """\
START
Vocab
entropy
Meaning: {meaning}
Example: The entropy of a fair coin is one bit.
END
"""

GAP_CARD = """\
START
Gap
{{{{c1::Gradient descent}}}} follows the {{{{c2::negative gradient}}}}.
Source: lecture 3
END
"""


def _vault(root: Path, meaning: str = "expected surprise", config: str = CONFIG) -> Path:
    return write_vault(
        root,
        {
            "notecards.yaml": config,
            "words.md": VOCAB_CARD.format(meaning=meaning) + "\n" + GAP_CARD.format(),
        },
    )


def _build(vault: Path, out: Path) -> None:
    result = run_build(str(vault), "-o", str(out), "--quiet")
    assert result.exit_code == 0, result.output


def _models(anki: AnkiCollection) -> dict[str, dict]:
    return {m.name: anki.col.models.get(m.id) for m in anki.col.models.all_names_and_ids()}


def test_custom_types_arrive_with_fields_templates_css_and_ids(tmp_path):
    vault = _vault(tmp_path / "vault")
    _build(vault, tmp_path / "out.apkg")
    vocab_id, gap_id = ids_in(vault / "words.md")
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(tmp_path / "out.apkg")
        models = _models(anki)
        vocab, gap = models["Vocab"], models["Gap"]

        assert vocab["id"] == derived_model_id(("Word", "Meaning", "Example"), False, VOCAB_ID)
        assert [f["name"] for f in vocab["flds"]] == ["Word", "Meaning", "Example"]
        assert [(t["name"], t["qfmt"], t["afmt"]) for t in vocab["tmpls"]] == [
            ("Recall", VOCAB_QFMT, VOCAB_AFMT)
        ]
        assert vocab["css"] == VOCAB_CSS
        assert vocab["type"] == 0  # standard

        assert gap["id"] == derived_model_id(("Passage", "Source"), True)
        assert [f["name"] for f in gap["flds"]] == ["Passage", "Source"]
        assert gap["tmpls"][0]["qfmt"] == "{{cloze:Passage}}"
        assert gap["css"] == GAP_CSS
        assert gap["type"] == 1  # cloze

        notes = anki.notes()
        assert set(notes) == {vocab_id, gap_id}
        assert notes[vocab_id].note_type == "Vocab"
        assert notes[vocab_id].fields["Word"] == "entropy"
        assert "expected surprise" in notes[vocab_id].fields["Meaning"]
        assert "fair coin" in notes[vocab_id].fields["Example"]
        assert len(notes[vocab_id].card_ids) == 1
        assert notes[gap_id].note_type == "Gap"
        assert "{{c1::Gradient descent}}" in notes[gap_id].fields["Passage"]
        assert "lecture 3" in notes[gap_id].fields["Source"]
        ords = sorted(anki.col.get_card(c).ord for c in notes[gap_id].card_ids)
        assert ords == [0, 1]  # one card per cloze number


def test_edit_and_rebuild_updates_in_place_without_duplicate_types(tmp_path):
    vault = _vault(tmp_path / "vault")
    _build(vault, tmp_path / "1.apkg")
    words = vault / "words.md"
    ids = ids_in(words)
    words.write_text(
        words.read_text(encoding="utf-8").replace("expected surprise", "average information"),
        encoding="utf-8",
        newline="",
    )
    _build(vault, tmp_path / "2.apkg")
    assert ids_in(words) == ids
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(tmp_path / "1.apkg")
        anki.import_package(tmp_path / "2.apkg")
        notes = anki.notes()
        assert set(notes) == set(ids)
        assert "average information" in notes[ids[0]].fields["Meaning"]
        names = [m.name for m in anki.col.models.all_names_and_ids()]
        assert names.count("Vocab") == 1 and names.count("Gap") == 1
        assert not any(n.startswith(("Vocab", "Gap")) and n not in ("Vocab", "Gap") for n in names)


def test_changed_field_list_gets_a_new_model_id(tmp_path):
    """Same id with another field list would make Anki reject or mangle the import."""
    without_id = CONFIG.replace(f"    id: {VOCAB_ID}\n", "")
    before = load_config(_vault(tmp_path / "a", config=without_id)).note_types
    more_fields = without_id.replace("[Passage, Source]", "[Passage, Source, Hint]")
    more_fields = more_fields.replace("[Word, Meaning, Example]", "[Word, Meaning]")
    after = load_config(_vault(tmp_path / "b", config=more_fields)).note_types
    assert before["Vocab"].model_id != after["Vocab"].model_id
    assert before["Gap"].model_id != after["Gap"].model_id
    renamed = load_config(_vault(tmp_path / "c", config=without_id.replace("Gap", "Hole")))
    assert renamed.note_types["Hole"].model_id == before["Gap"].model_id  # id from fields


def test_check_accepts_the_vault(tmp_path):
    vault = _vault(tmp_path / "vault")
    result = CliRunner().invoke(cli, ["check", str(vault)], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_field_change_through_anki_never_reuses_the_old_model_id(tmp_path):
    """Anki keeps one field list per model id: the old type must stay intact, not be mangled.

    Anki itself reports the existing note as conflicting (a package cannot change a note's
    type unless the user merges note types on import), so the note keeps its old type.
    """
    config = CONFIG.replace(f"    id: {VOCAB_ID}\n", "")
    vault = _vault(tmp_path / "vault", config=config)
    _build(vault, tmp_path / "1.apkg")
    (vault / "notecards.yaml").write_text(
        config.replace("[Word, Meaning, Example]", "[Word, Meaning, Example, Note]"),
        encoding="utf-8",
    )
    _build(vault, tmp_path / "2.apkg")
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(tmp_path / "1.apkg")
        anki.import_package(tmp_path / "2.apkg")
        by_fields = {
            tuple(f["name"] for f in m["flds"]): m["id"]
            for name, m in _models(anki).items()
            if name.startswith("Vocab")
        }
        assert set(by_fields) == {
            ("Word", "Meaning", "Example"),
            ("Word", "Meaning", "Example", "Note"),
        }
        old, new = ("Word", "Meaning", "Example"), ("Word", "Meaning", "Example", "Note")
        assert by_fields[old] == derived_model_id(old, False)
        assert by_fields[new] == derived_model_id(new, False) != by_fields[old]
        assert len(anki.notes()) == 2  # no duplicate note
