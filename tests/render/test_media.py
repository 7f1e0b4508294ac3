"""Which vault file a reference names, and what it is called in Anki's media folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notecards.render import BadReference, VaultIndex, media_kind


@pytest.fixture
def index(tmp_path: Path) -> VaultIndex:
    for name in (
        "root.png",
        "notes/near.png",
        "notes/sub/deep.png",
        "far/unique.mp3",
        "a/same.png",
        "b/same.png",
        "notes/Topic.md",
        "Topic.md",
        "x/y/Other.md",
        ".obsidian/hidden.png",
        "notes/.trash/gone.png",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    return VaultIndex.scan(tmp_path)


KINDS = [
    ("a.png", "image"),
    ("a.JPG", "image"),
    ("a.svg", "image"),
    ("a.avif", "image"),
    ("a.tiff", "image"),
    ("a.mp3", "sound"),
    ("a.flac", "sound"),
    ("a.opus", "sound"),
    ("a.webm", "sound"),
    ("a.pdf", None),
    ("Note", None),
]


@pytest.mark.parametrize(("name", "kind"), KINDS)
def test_media_kind(name: str, kind: str | None) -> None:
    assert media_kind(name) == kind


RESOLVE = [
    ("near.png", "notes", "notes/near.png"),  # next to the note
    ("sub/deep.png", "notes", "notes/sub/deep.png"),
    ("root.png", "notes", "root.png"),  # from the vault root
    ("notes/near.png", "notes", "notes/near.png"),
    ("../root.png", "notes", "root.png"),
    ("./near.png", "notes", "notes/near.png"),
    ("unique.mp3", "notes", "far/unique.mp3"),  # the one file with that name
    ("NEAR.PNG", "notes", "notes/near.png"),  # case-insensitive, as Obsidian
]


@pytest.mark.parametrize(("reference", "folder", "source"), RESOLVE)
def test_resolve_file(index: VaultIndex, reference: str, folder: str, source: str) -> None:
    assert index.resolve_file(reference, folder) == source


REFUSED = [
    ("../../etc/passwd", "notes", "points outside the vault"),
    ("../x.png", "", "points outside the vault"),
    ("/etc/passwd", "", "absolute path"),
    ("C:\\x.png", "", "absolute path"),
    ("~/x.png", "", "absolute path"),
    ("same.png", "", "ambiguous: the vault has a/same.png, b/same.png"),
    ("hidden.png", "", "not found"),  # hidden folders are not part of the vault
    ("gone.png", "notes", "not found"),
    ("nothing.png", "", "not found"),
]


@pytest.mark.parametrize(("reference", "folder", "message"), REFUSED)
def test_refused_references(index: VaultIndex, reference: str, folder: str, message: str) -> None:
    with pytest.raises(BadReference, match=re.escape(message)):
        index.resolve_file(reference, folder)


def test_anki_name_is_the_basename_unless_shared(index: VaultIndex) -> None:
    assert index.anki_name("notes/near.png") == "near.png"
    first, second = index.anki_name("a/same.png"), index.anki_name("b/same.png")
    assert first != second
    assert re.fullmatch(r"same-[0-9a-f]{8}\.png", first)
    assert index.anki_name("a/same.png") == first  # stable


NOTES = [
    ("Topic", "notes", "notes/Topic"),  # same folder first
    ("Topic", "x", "Topic"),  # else the shortest path
    ("Other", "", "x/y/Other"),
    ("x/y/Other", "", "x/y/Other"),
    ("Topic.md", "", "Topic"),
    ("topic", "", "Topic"),
    ("Missing", "", None),
]


@pytest.mark.parametrize(("target", "folder", "path"), NOTES)
def test_find_note(index: VaultIndex, target: str, folder: str, path: str | None) -> None:
    assert index.find_note(target, folder) == path


def test_symlinks_out_of_the_vault_are_marked(tmp_path: Path) -> None:
    vault, outside = tmp_path / "vault", tmp_path / "outside"
    vault.mkdir()
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"s")
    (vault / "inside.png").write_bytes(b"i")
    (vault / "leak.png").symlink_to(outside / "secret.png")
    (vault / "leakdir").symlink_to(outside, target_is_directory=True)
    (vault / "alias.png").symlink_to(vault / "inside.png")
    index = VaultIndex.scan(vault)
    assert index.resolve_file("alias.png", "") == "alias.png"  # a link within the vault is fine
    for reference in ("leak.png", "leakdir/secret.png"):
        with pytest.raises(BadReference, match="symlink that leads outside"):
            index.resolve_file(reference, "")
