"""The unchanged-rebuild path: a build that finds nothing changed renders nothing and
writes nothing, and every change a package follows from still rebuilds it.

Each "must rebuild" case imports the rebuilt package into a real Anki collection and
asserts the change arrived, so a fast path that skips too eagerly fails here.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

import notecards.parse as parse_package  # (load_vault takes parse_file from it when it parses)
from notecards.build import build_vault
from notecards.build import pipeline as build_module
from notecards.build.manifest import note_stamp
from notecards.model import MediaRef, Note, RenderedNote
from notecards.vault import load as vault_module
from notecards.vault.state_dir import BUILD_MANIFEST, CHECKED, RENDER_CACHE, STATE_DIR
from tests.helpers.build import snapshot_bytes
from tests.helpers.collection import AnkiCollection, StoredNote
from tests.helpers.vault import block, ids_in, write_vault

NOTE_ID = 1_700_000_000_001
FRONT = "q [[slides.pdf]] ![[img.png]]"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """A built vault: one card linking a file and embedding an image, with settings."""
    root = write_vault(
        tmp_path / "v",
        {
            "a.md": block(FRONT, "a1", note_id=NOTE_ID),
            "topic/slides.pdf": "linked\n",
            "notecards.yaml": "default_deck: Default\n",
        },
    )
    (root / "img.png").write_bytes(b"first image")
    build_vault(root, output(root))
    return root


def output(root: Path) -> Path:
    return root.parent / "out.apkg"


def no_render(monkeypatch) -> None:
    """Fail the test if the build renders anything."""

    def refuse(*args, **kwargs):
        raise AssertionError("rendered although nothing changed")

    monkeypatch.setattr(build_module, "_render_all", refuse)


def rebuild_and_import(root: Path, tmp_path: Path) -> tuple[StoredNote, AnkiCollection]:
    summary = build_vault(root, output(root))
    assert summary.written
    anki = AnkiCollection(tmp_path / "anki")
    anki.import_package(output(root))
    return anki.notes()[NOTE_ID], anki


def test_nothing_changed_renders_and_writes_nothing(vault, monkeypatch):
    manifest = vault / BUILD_MANIFEST
    before = manifest.stat().st_mtime_ns, output(vault).stat().st_mtime_ns
    no_render(monkeypatch)
    summary = build_vault(vault, output(vault))
    assert not summary.written
    assert (summary.notes, summary.decks, summary.media) == (1, ["Default"], ["img.png"])
    assert (manifest.stat().st_mtime_ns, output(vault).stat().st_mtime_ns) == before


def test_an_edited_card_rebuilds(vault, tmp_path):
    (vault / "a.md").write_text(block(FRONT, "edited", note_id=NOTE_ID))
    note, anki = rebuild_and_import(vault, tmp_path)
    with anki:
        assert note.fields["Back"] == "edited"


def test_a_changed_media_file_rebuilds(vault, tmp_path):
    (vault / "img.png").write_bytes(b"second image, longer")
    _, anki = rebuild_and_import(vault, tmp_path)
    with anki:
        assert anki.media_bytes("img.png") == b"second image, longer"


def test_same_size_media_with_a_new_mtime_rebuilds(vault, tmp_path):
    image = vault / "img.png"
    stat = image.stat()
    image.write_bytes(b"other image")  # as long as the first
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    _, anki = rebuild_and_import(vault, tmp_path)
    with anki:
        assert anki.media_bytes("img.png") == b"other image"


def test_a_changed_setting_rebuilds(vault, tmp_path):
    (vault / "notecards.yaml").write_text("default_deck: Elsewhere\n", encoding="utf-8")
    note, anki = rebuild_and_import(vault, tmp_path)
    with anki:
        assert note.decks == ["Elsewhere"]


def test_a_moved_link_target_rebuilds(vault, tmp_path):
    """Links resolve against the vault's file list, which is not in any card's text."""
    (vault / "elsewhere").mkdir()
    (vault / "topic" / "slides.pdf").rename(vault / "elsewhere" / "slides.pdf")
    note, anki = rebuild_and_import(vault, tmp_path)
    with anki:
        assert "file=elsewhere%2Fslides.pdf" in note.fields["Front"]


@pytest.mark.parametrize(
    ("settings", "embedded"),
    [("scan_dir: cards\n", "side.md"), ("ignore: [side.md]\n", "side.md")],
    ids=["outside scan_dir", "ignored"],
)
def test_an_edited_text_embedded_from_a_file_that_holds_no_notes_rebuilds(
    tmp_path, settings, embedded
):
    """Its bytes are not among the files the build reads: the build must still see the edit."""
    note = "cards/a.md" if "scan_dir" in settings else "a.md"
    root = write_vault(
        tmp_path / "v",
        {
            "notecards.yaml": settings,
            note: block("q ![[side]]", "a1", note_id=NOTE_ID),
            embedded: "the first text\n",
        },
    )
    build_vault(root, output(root))
    (root / embedded).write_text("the second text\n", encoding="utf-8")
    stored, anki = rebuild_and_import(root, tmp_path)
    with anki:
        assert "the second text" in stored.fields["Front"]


def test_a_deleted_package_is_written_again(vault, tmp_path):
    output(vault).unlink()
    note, anki = rebuild_and_import(vault, tmp_path)
    with anki:
        assert note.fields["Back"] == "a1"


def test_a_damaged_package_is_written_again(vault, tmp_path):
    output(vault).write_bytes(b"not a package")
    note, anki = rebuild_and_import(vault, tmp_path)
    with anki:
        assert note.fields["Back"] == "a1"


def test_another_output_path_gets_its_own_package(vault, tmp_path):
    other = tmp_path / "other.apkg"
    assert build_vault(vault, other).written
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(other)
        assert list(anki.notes()) == [NOTE_ID]


def test_a_dry_run_of_a_fresh_vault_leaves_no_state_folder(tmp_path):
    root = write_vault(tmp_path / "fresh", {"a.md": block("q", "a")})
    summary = build_vault(root, tmp_path / "fresh.apkg", dry_run=True)
    assert len(summary.ids_assigned) == 1
    assert not (root / STATE_DIR).exists()
    assert not (tmp_path / "fresh.apkg").exists()


def test_a_build_that_assigns_ids_caches_the_written_files_parse(tmp_path, monkeypatch):
    """The next build reads the file that just got its ID from the parse cache (a new file
    beside it: else that build finds nothing changed from the bytes alone, and parses none)."""
    root = write_vault(tmp_path / "fresh", {"a.md": block("q", "a")})
    assert build_vault(root, output(root)).files_written == ["a.md"]
    (root / "b.md").write_text(block("q2", "a2"), encoding="utf-8")
    parsed = []
    real = parse_package.parse_file
    monkeypatch.setattr(
        parse_package,
        "parse_file",
        lambda text, rel, config: parsed.append(rel) or real(text, rel, config),
    )
    assert build_vault(root, output(root)).files_written == ["b.md"]
    assert parsed == ["b.md"]


def test_a_file_put_back_as_it_was_before_its_id_gets_one_again(tmp_path):
    """Undoing the write-back restores bytes the manifest was made from; the block has
    no ID again, so the build must not take the unchanged path."""
    root = write_vault(tmp_path / "fresh", {"a.md": block("q", "a")})
    original = (root / "a.md").read_bytes()
    build_vault(root, output(root))
    (root / "a.md").write_bytes(original)
    summary = build_vault(root, output(root))
    assert len(summary.ids_assigned) == 1
    assert f"<!--ID: {summary.ids_assigned[0].id}-->" in (root / "a.md").read_text()


@pytest.mark.parametrize("cache_state", ["as built", "garbage", "another layout"])
def test_a_dry_run_of_a_built_vault_leaves_its_state_folder_alone(vault, cache_state):
    """A dry run reads the render cache but never creates, repairs or updates it."""
    cache_file = vault / RENDER_CACHE
    if cache_state == "garbage":
        cache_file.write_bytes(b"not a sqlite file" * 50)
    elif cache_state == "another layout":
        with sqlite3.connect(cache_file) as db:
            db.execute("PRAGMA user_version = 1")
        db.close()
    (vault / "b.md").write_text(block("new", "card"), encoding="utf-8")  # to render and cache
    before = snapshot_bytes(vault)
    summary = build_vault(vault, output(vault), dry_run=True)
    assert [a.path for a in summary.ids_assigned] == ["b.md"]
    assert snapshot_bytes(vault) == before


def test_the_build_after_one_that_wrote_ids_renders_and_writes_nothing(tmp_path, monkeypatch):
    """The manifest records the files as written, IDs in: the very next build is unchanged."""
    root = write_vault(tmp_path / "fresh", {"a.md": block("q", "a"), "b.md": block("q2", "b")})
    assert build_vault(root, output(root)).files_written == ["a.md", "b.md"]
    before = output(root).stat().st_mtime_ns
    no_render(monkeypatch)
    assert not build_vault(root, output(root)).written
    assert output(root).stat().st_mtime_ns == before


def test_a_file_edited_while_its_id_was_written_is_read_again_next_time(tmp_path, monkeypatch):
    """The user's edit lands between the build's read and its write-back: the build did not
    see those bytes, so the next one must not take the file as unchanged."""
    root = write_vault(tmp_path / "fresh", {"a.md": block("q", "a")})
    real_write_back, real_render = build_module.write_back, build_module._render_all

    def edit_first(vault_root, *args, **kwargs):
        path = vault_root / "a.md"
        path.write_text("a line written meanwhile\n" + path.read_text())
        return real_write_back(vault_root, *args, **kwargs)

    monkeypatch.setattr(build_module, "write_back", edit_first)
    build_vault(root, output(root))
    assert (root / "a.md").read_text().startswith("a line") and ids_in(root / "a.md")
    monkeypatch.setattr(build_module, "write_back", real_write_back)
    rendered = []

    def render_all(*args):
        rendered.append(args)
        return real_render(*args)

    monkeypatch.setattr(build_module, "_render_all", render_all)
    build_vault(root, output(root))
    assert rendered  # not the unchanged path


def test_nothing_changed_is_told_from_the_bytes_alone(tmp_path, monkeypatch):
    """The rebuild of files as the last build left them parses nothing (the build's verdict
    on them, render/inputs.py), and its summary, warnings included, is the one a rebuild
    that parses everything gives."""
    root = write_vault(
        tmp_path / "v",
        {
            "a.md": block("q1", "| $a|b$ | c |", note_id=NOTE_ID),  # a rule's warning
            "b.md": "text\nEND\n",  # a parse warning
        },
    )
    build_vault(root, output(root))
    (root / CHECKED).rename(tmp_path / "verdict")
    parsed = build_vault(root, output(root))  # no verdict: the vault is parsed
    assert [p.message for p in parsed.warnings] == ["END without START"]
    (tmp_path / "verdict").rename(root / CHECKED)
    monkeypatch.setattr(build_module, "load_vault", refuse_to_parse)
    assert build_vault(root, output(root)) == parsed


def refuse_to_parse(*args, **kwargs):
    raise AssertionError("parsed although nothing changed")


def test_a_build_after_an_edit_reads_each_file_once(vault, monkeypatch):
    """Asking whether anything changed reads the files; the load that follows parses those
    very reads instead of reading every file a second time."""
    (vault / "b.md").write_text(block("q2", "b", note_id=NOTE_ID + 1), encoding="utf-8")
    build_vault(vault, output(vault))
    (vault / "a.md").write_text(block(FRONT, "edited", note_id=NOTE_ID), encoding="utf-8")
    reads = []
    real = vault_module.read_markdown
    monkeypatch.setattr(
        vault_module, "read_markdown", lambda root, rel: reads.append(rel) or real(root, rel)
    )
    assert build_vault(vault, output(vault)).written
    assert sorted(reads) == ["a.md", "b.md"]


def test_a_notes_digest_is_the_one_earlier_builds_stored():
    """A manifest keeps each note's digest: one taken otherwise than before (a faster encoder,
    other separators) would give every note of every vault a new modification time on the
    next build, and its import would overwrite each edit made in Anki since."""
    note = Note(
        note_type="Basic",
        fields={"Front": "é", "Back": "b"},
        tags=("ml", "dpo"),
        deck="ML::Post-training",
        note_id=1,
        path="a.md",
        start_line=1,
        end_line=5,
    )
    fields = {"Front": "<b>é “q”</b>", "Back": 'a\\b "c"\n'}
    item = RenderedNote(note, fields, (MediaRef("img/x.png", "x.png"),), ())
    stored = "0fe23b8bba717790add2c1d6b169891ab9b2eb489ae1383679a5e846d07a9629"  # (2026-12)
    assert note_stamp(item, None, now=5) == (stored, 5)
    assert note_stamp(item, (stored, 3), now=9) == (stored, 3)
