"""ID write-back: only the ID line is added; encoding, newlines, mode and user edits survive."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from notecards.config import VaultConfig
from notecards.model import FileSnapshot, ParsedVault
from notecards.parse import parse_file, read_markdown
from notecards.writeback import write_back

CARD = "START\nBasic\nWhat is {n}?\nBack: answer {n}\nTags: ml\nEND\n"


def vault_with(tmp_path: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    return tmp_path


def parse(root: Path, rel: str) -> tuple[ParsedVault, FileSnapshot]:
    text, snapshot = read_markdown(root, rel)
    return parse_file(text, rel, VaultConfig(vault_name=root.name)), snapshot


def assign(root: Path, rel: str, *ids: int, parsed=None, snapshot=None):
    """Give each note without an ID in `rel` the next of `ids`, as the build does."""
    if parsed is None:
        parsed, snapshot = parse(root, rel)
    fresh = [n for n in parsed.notes if n.note_id is None]
    assert len(fresh) == len(ids)
    keys = {(n.path, n.start_line): i for n, i in zip(fresh, ids, strict=True)}
    return write_back(root, {rel: snapshot}, keys, notes=fresh)


def two_cards(newline: str = "\n") -> str:
    text = "# Title\n\n" + CARD.format(n=1) + "\nprose\n\n" + CARD.format(n=2)
    return text.replace("\n", newline)


def expected_after(text: str, ids: tuple[int, ...], newline: str = "\n") -> str:
    """The same text with `<!--ID: N-->` just above each END, nothing else changed."""
    parts = text.split(f"END{newline}")
    out = "".join(
        f"{part}<!--ID: {i}-->{newline}END{newline}" for part, i in zip(parts, ids, strict=False)
    )
    return out + parts[-1]


@pytest.mark.parametrize(
    ("name", "encoding", "newline", "trailing"),
    [
        ("lf", "utf-8", "\n", True),
        ("crlf", "utf-8", "\r\n", True),
        ("bom", "utf-8-sig", "\n", True),
        ("bom-crlf", "utf-8-sig", "\r\n", True),
        ("no-trailing-newline", "utf-8", "\n", False),
    ],
)
def test_only_the_id_lines_are_added(tmp_path, name, encoding, newline, trailing):
    text = two_cards(newline) + "after ünïcode"
    if trailing:
        text += newline
    root = vault_with(tmp_path, {"a.md": text.encode(encoding)})
    result = assign(root, "a.md", 101, 102)
    assert result.problems == []
    assert result.files_written == ["a.md"]
    assert (root / "a.md").read_bytes() == expected_after(text, (101, 102), newline).encode(
        encoding
    )
    reparsed, _ = parse(root, "a.md")
    assert [n.note_id for n in reparsed.notes] == [101, 102]


def test_file_mode_is_kept(tmp_path):
    root = vault_with(tmp_path, {"a.md": two_cards().encode()})
    os.chmod(root / "a.md", 0o640)
    assign(root, "a.md", 1, 2)
    assert stat.S_IMODE((root / "a.md").stat().st_mode) == 0o640


def test_untouched_file_is_not_rewritten(tmp_path):
    text = "START\nBasic\nq\nBack: a\n<!--ID: 5-->\nEND\n"
    root = vault_with(tmp_path, {"done.md": text.encode(), "new.md": two_cards().encode()})
    before = (root / "done.md").stat()
    parsed_new, snap_new = parse(root, "new.md")
    _, snap_done = parse(root, "done.md")
    fresh = parsed_new.notes
    result = write_back(
        root,
        {"done.md": snap_done, "new.md": snap_new},
        {(n.path, n.start_line): i for n, i in zip(fresh, (8, 9), strict=True)},
        notes=fresh,
    )
    assert result.files_written == ["new.md"]
    after = (root / "done.md").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_nothing_to_write_writes_nothing(tmp_path):
    root = vault_with(tmp_path, {"a.md": two_cards().encode()})
    before = (root / "a.md").stat()
    result = write_back(root, {}, {})
    assert result.files_written == [] and result.problems == []
    assert (root / "a.md").stat().st_mtime_ns == before.st_mtime_ns


def test_edit_between_read_and_write_is_kept_and_id_still_lands(tmp_path):
    root = vault_with(tmp_path, {"a.md": two_cards().encode()})
    parsed, snapshot = parse(root, "a.md")
    # The user adds lines above both cards and edits the prose while the build runs.
    edited = "new intro\nmore\n\n" + two_cards().replace("prose", "better prose")
    (root / "a.md").write_text(edited, newline="")
    result = assign(root, "a.md", 11, 12, parsed=parsed, snapshot=snapshot)
    assert result.problems == []
    assert (root / "a.md").read_bytes().decode() == expected_after(edited, (11, 12))


def test_note_edited_away_is_reported_not_written(tmp_path):
    root = vault_with(tmp_path, {"a.md": two_cards().encode()})
    parsed, snapshot = parse(root, "a.md")
    edited = two_cards().replace("answer 2", "a different answer")
    (root / "a.md").write_text(edited, newline="")
    result = assign(root, "a.md", 11, 12, parsed=parsed, snapshot=snapshot)
    assert [p.line for p in result.problems] == [parsed.notes[1].start_line]
    assert "changed on disk" in result.problems[0].message
    text = (root / "a.md").read_bytes().decode()
    assert "<!--ID: 11-->" in text and "<!--ID: 12-->" not in text
    assert "a different answer" in text


def test_failed_rename_leaves_original_intact(tmp_path, monkeypatch):
    original = two_cards().encode()
    root = vault_with(tmp_path, {"a.md": original})

    def fail(*_args):  # a crash at the rename the real filesystem won't produce on demand
        raise OSError("simulated failure")

    monkeypatch.setattr("notecards.atomic.os.replace", fail)
    result = assign(root, "a.md", 1, 2)
    assert result.files_written == []
    assert "simulated failure" in result.problems[0].message
    assert (root / "a.md").read_bytes() == original
    assert sorted(p.name for p in root.iterdir()) == ["a.md"]  # no temp file left behind


def test_deletion_lines_are_removed(tmp_path):
    text = "keep\nDELETE\n<!--ID: 77-->\nkeep too\n"
    root = vault_with(tmp_path, {"a.md": text.encode()})
    parsed, snapshot = parse(root, "a.md")
    assert [d.note_id for d in parsed.deletions] == [77]
    result = write_back(root, {"a.md": snapshot}, {}, deletions=parsed.deletions)
    assert result.files_written == ["a.md"]
    assert (root / "a.md").read_text() == "keep\nkeep too\n"


def test_without_notes_an_unchanged_file_is_found_by_start_line(tmp_path):
    """The sync helper's call shape: only (path, start_line) -> id."""
    root = vault_with(tmp_path, {"a.md": two_cards().encode()})
    parsed, snapshot = parse(root, "a.md")
    keys = {("a.md", n.start_line): i for n, i in zip(parsed.notes, (21, 22), strict=True)}
    result = write_back(root, {"a.md": snapshot}, keys)
    assert result.problems == []
    assert (root / "a.md").read_text() == expected_after(two_cards(), (21, 22))


def test_file_removed_before_write_is_reported(tmp_path):
    root = vault_with(tmp_path, {"a.md": two_cards().encode()})
    parsed, snapshot = parse(root, "a.md")
    (root / "a.md").unlink()
    result = assign(root, "a.md", 1, 2, parsed=parsed, snapshot=snapshot)
    assert result.files_written == []
    assert "could not re-read" in result.problems[0].message
    assert not (root / "a.md").exists()
