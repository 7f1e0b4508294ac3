"""A card that embeds a section of a note: built as Obsidian shows it, and built again when that
section changes (the render cache and the unchanged check know the embed, not only the card's
own text). Each rebuilt package is imported into a real Anki collection."""

from __future__ import annotations

from pathlib import Path

import pytest

from notecards.build import build_vault
from notecards.build.manifest import load_manifest
from notecards.vault.state_dir import RENDER_CACHE
from tests.helpers.collection import AnkiCollection
from tests.helpers.vault import block, write_vault

NOTE_ID = 1_700_000_000_007
TOPIC = "# Topic\n\n## Loss\nthe **loss** is $\\ell$\n\n## Other\nnot embedded\n"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = write_vault(
        tmp_path / "v",
        {
            "cards.md": block(
                "what is the loss?", "![[Topic#Loss]] %%a note to self%%", note_id=NOTE_ID
            ),
            "notes/Topic.md": TOPIC,
        },
    )
    assert build_vault(root, output(root)).written
    return root


def output(root: Path) -> Path:
    return root.parent / "out.apkg"


def back_in_anki(root: Path, tmp_path: Path, name: str = "anki") -> str:
    with AnkiCollection(tmp_path / name) as anki:
        anki.import_package(output(root))
        return anki.notes()[NOTE_ID].fields["Back"]


def test_the_embedded_section_is_on_the_card(vault: Path, tmp_path: Path) -> None:
    assert (
        back_in_anki(vault, tmp_path)
        == "<h2>Loss</h2>\n<p>the <strong>loss</strong> is \\(\\ell\\)</p>"
    )


def test_a_change_in_the_embedded_section_rebuilds_the_card(vault: Path, tmp_path: Path) -> None:
    assert (vault / RENDER_CACHE).is_file()  # the card's HTML is cached: it must not be served
    stamp = load_manifest(vault).notes[NOTE_ID]
    (vault / "notes" / "Topic.md").write_text(TOPIC.replace("the **loss**", "the new loss"))
    summary = build_vault(vault, output(vault))
    assert summary.written
    assert back_in_anki(vault, tmp_path) == "<h2>Loss</h2>\n<p>the new loss is \\(\\ell\\)</p>"
    digest, mod = load_manifest(vault).notes[NOTE_ID]
    assert digest != stamp[0] and mod > stamp[1]  # newer: Anki's importer takes it


def test_a_change_elsewhere_in_the_embedded_note_leaves_the_card_as_it_was(vault: Path) -> None:
    stamp = load_manifest(vault).notes[NOTE_ID]
    (vault / "notes" / "Topic.md").write_text(TOPIC.replace("not embedded", "edited"))
    build_vault(vault, output(vault))
    assert load_manifest(vault).notes[NOTE_ID] == stamp  # same HTML, same mod


def test_a_missing_section_is_a_warning_and_a_link(vault: Path, tmp_path: Path) -> None:
    (vault / "notes" / "Topic.md").write_text(TOPIC.replace("## Loss", "## Gain"))
    summary = build_vault(vault, output(vault))
    assert [p.format() for p in summary.warnings] == [
        "cards.md:4: warning: ![[Topic#Loss]]: notes/Topic.md has no heading 'Loss';"
        " shown as a link"
    ]
    back = back_in_anki(vault, tmp_path)
    assert back.startswith('<a href="obsidian://open?vault=v&amp;file=notes%2FTopic%23Loss">')


def test_links_name_the_obsidian_vault_the_folder_lies_in(tmp_path: Path) -> None:
    (tmp_path / "Vault" / ".obsidian").mkdir(parents=True)
    root = write_vault(
        tmp_path / "Vault" / "notes",
        {"cards.md": block("q", "see [[Topic]]", note_id=NOTE_ID), "Topic.md": "t\n"},
    )
    build_vault(root, output(root))
    assert back_in_anki(root, tmp_path) == (
        'see <a href="obsidian://open?vault=Vault&amp;file=notes%2FTopic">Topic</a>'
    )
