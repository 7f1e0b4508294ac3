"""ID write-back: only the ID line is added; encoding, newlines, mode and user edits survive."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from notecards.config import VaultConfig
from notecards.model import FileSnapshot, ParsedVault
from notecards.parse import parse_file
from notecards.vault import write_back
from notecards.vault.files import read_markdown
from tests.helpers.vault import write_vault

CONFIG = VaultConfig(vault_name="vault")
CARD = "START\nBasic\nWhat is {n}?\nBack: answer {n}\nTags: ml\nEND\n"


def parse(root: Path, rel: str) -> tuple[ParsedVault, FileSnapshot]:
    text, snapshot = read_markdown(root, rel)
    return parse_file(text, rel, CONFIG), snapshot


def assign(root: Path, rel: str, *ids: int, parsed=None, snapshot=None, text=None):
    """Give each note without an ID in `rel` the next of `ids`, as the build does; `text`:
    the file's text the snapshot was taken of, handed to write_back as a build hands it
    (not read again)."""
    if parsed is None:
        parsed, snapshot = parse(root, rel)
    fresh = [n for n in parsed.notes if n.note_id is None]
    assert len(fresh) == len(ids)
    keys = {(n.path, n.start_line): i for n, i in zip(fresh, ids, strict=True)}
    texts = None if text is None else {rel: text}
    return write_back(root, {rel: snapshot}, keys, config=CONFIG, notes=fresh, texts=texts)


# Each file read again by write_back (as sync calls it), or its text as read handed to it
# (as a build does).
HANDED = pytest.mark.parametrize("handed", [False, True], ids=["read-again", "text-handed"])


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
@HANDED
def test_only_the_id_lines_are_added(tmp_path, name, encoding, newline, trailing, handed):
    text = two_cards(newline) + "after ünïcode"
    if trailing:
        text += newline
    root = write_vault(tmp_path, {"a.md": text.encode(encoding)})
    as_read = read_markdown(root, "a.md")[0] if handed else None
    result = assign(root, "a.md", 101, 102, text=as_read)
    assert result.problems == []
    assert result.files_written == ["a.md"]
    assert result.written == {("a.md", 3), ("a.md", 12)}
    assert (root / "a.md").read_bytes() == expected_after(text, (101, 102), newline).encode(
        encoding
    )
    reparsed, _ = parse(root, "a.md")
    assert [n.note_id for n in reparsed.notes] == [101, 102]


def test_file_mode_is_kept(tmp_path):
    root = write_vault(tmp_path, {"a.md": two_cards().encode()})
    os.chmod(root / "a.md", 0o640)
    assign(root, "a.md", 1, 2)
    assert stat.S_IMODE((root / "a.md").stat().st_mode) == 0o640


def test_a_linked_file_is_written_through_its_link_with_its_own_mode(tmp_path):
    root = write_vault(tmp_path, {"real.md": two_cards().encode()})
    os.chmod(root / "real.md", 0o640)
    (root / "alias.md").symlink_to("real.md")
    result = assign(root, "alias.md", 1, 2)
    assert result.problems == [] and result.files_written == ["alias.md"]
    assert os.readlink(root / "alias.md") == "real.md"
    assert (root / "real.md").read_text() == expected_after(two_cards(), (1, 2))
    assert stat.S_IMODE((root / "real.md").stat().st_mode) == 0o640


def test_a_read_only_file_is_reported_and_left_as_it_was(tmp_path):
    root = write_vault(tmp_path, {"a.md": two_cards().encode()})
    parsed, snapshot = parse(root, "a.md")
    os.chmod(root / "a.md", 0o444)
    result = assign(root, "a.md", 1, 2, parsed=parsed, snapshot=snapshot)
    assert result.written == set() and "read-only" in result.problems[0].message
    assert (root / "a.md").read_text() == two_cards()
    assert stat.S_IMODE((root / "a.md").stat().st_mode) == 0o444


def test_untouched_file_is_not_rewritten(tmp_path):
    text = "START\nBasic\nq\nBack: a\n<!--ID: 5-->\nEND\n"
    root = write_vault(tmp_path, {"done.md": text.encode(), "new.md": two_cards().encode()})
    before = (root / "done.md").stat()
    parsed_new, snap_new = parse(root, "new.md")
    _, snap_done = parse(root, "done.md")
    fresh = parsed_new.notes
    result = write_back(
        root,
        {"done.md": snap_done, "new.md": snap_new},
        {(n.path, n.start_line): i for n, i in zip(fresh, (8, 9), strict=True)},
        config=CONFIG,
        notes=fresh,
    )
    assert result.files_written == ["new.md"]
    after = (root / "done.md").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_nothing_to_write_writes_nothing(tmp_path):
    root = write_vault(tmp_path, {"a.md": two_cards().encode()})
    before = (root / "a.md").stat()
    result = write_back(root, {}, {}, config=CONFIG, notes=[])
    assert result.files_written == [] and result.problems == [] and result.written == set()
    assert (root / "a.md").stat().st_mtime_ns == before.st_mtime_ns


@HANDED
def test_edit_between_read_and_write_is_kept_and_id_still_lands(tmp_path, handed):
    root = write_vault(tmp_path, {"a.md": two_cards().encode()})
    parsed, snapshot = parse(root, "a.md")
    # The user adds lines above both cards and edits the prose while the build runs.
    edited = "new intro\nmore\n\n" + two_cards().replace("prose", "better prose")
    (root / "a.md").write_text(edited, newline="")
    as_read = two_cards() if handed else None  # (a build found its rename out of date)
    result = assign(root, "a.md", 11, 12, parsed=parsed, snapshot=snapshot, text=as_read)
    assert result.problems == []
    assert (root / "a.md").read_bytes().decode() == expected_after(edited, (11, 12))


@HANDED
def test_note_edited_away_is_reported_not_written(tmp_path, handed):
    root = write_vault(tmp_path, {"a.md": two_cards().encode()})
    parsed, snapshot = parse(root, "a.md")
    edited = two_cards().replace("answer 2", "a different answer")
    (root / "a.md").write_text(edited, newline="")
    as_read = two_cards() if handed else None
    result = assign(root, "a.md", 11, 12, parsed=parsed, snapshot=snapshot, text=as_read)
    assert [p.line for p in result.problems] == [parsed.notes[1].start_line]
    assert "changed on disk" in result.problems[0].message
    assert result.written == {("a.md", parsed.notes[0].start_line)}
    text = (root / "a.md").read_bytes().decode()
    assert "<!--ID: 11-->" in text and "<!--ID: 12-->" not in text
    assert "a different answer" in text


def test_failed_rename_leaves_original_intact(tmp_path, monkeypatch):
    original = two_cards().encode()
    root = write_vault(tmp_path, {"a.md": original})

    def fail(*_args):  # a crash at the rename the real filesystem won't produce on demand
        raise OSError("simulated failure")

    monkeypatch.setattr("notecards.vault.atomic.os.replace", fail)
    result = assign(root, "a.md", 1, 2)
    assert result.files_written == [] and result.written == set()
    assert "simulated failure" in result.problems[0].message
    assert (root / "a.md").read_bytes() == original
    assert sorted(p.name for p in root.iterdir()) == ["a.md"]  # no temp file left behind


def _open_files() -> set[str]:
    """What this process holds open, by the path each descriptor names (Linux: /proc)."""
    held = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(FileNotFoundError):  # closed meanwhile by another thread
            held.add(os.readlink(fd))
    return held


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_each_old_file_is_held_open_across_its_rename_and_let_go_after(tmp_path, monkeypatch):
    """Freeing the old file's blocks waits for the close, outside the folder's lock that the
    other renames wait for; and no descriptor is left behind."""
    files = {f"n{i}.md": CARD.format(n=i).encode() for i in range(5)}
    root = write_vault(tmp_path, files)
    held_at_rename = []
    real_replace = os.replace

    def replace(tmp, target):  # the real rename, noting what was open at it
        held_at_rename.append(str(target) in _open_files())
        real_replace(tmp, target)

    monkeypatch.setattr("notecards.vault.atomic.os.replace", replace)
    snapshots, notes = {}, []
    for rel in files:
        parsed, snapshots[rel] = parse(root, rel)
        notes += parsed.notes
    keys = {(n.path, n.start_line): i for i, n in enumerate(notes, start=1)}
    before = _open_files()
    result = write_back(root, snapshots, keys, config=CONFIG, notes=notes)
    assert sorted(result.files_written) == sorted(files) and not result.problems
    assert held_at_rename == [True] * len(files)
    assert _open_files() <= before
    assert sorted(p.name for p in root.iterdir()) == sorted(files)  # no temp file left


def test_deletion_lines_are_removed(tmp_path):
    text = "keep\nDELETE\n<!--ID: 77-->\nkeep too\n"
    root = write_vault(tmp_path, {"a.md": text.encode()})
    parsed, snapshot = parse(root, "a.md")
    assert [d.note_id for d in parsed.deletions] == [77]
    result = write_back(
        root, {"a.md": snapshot}, {}, parsed.deletions, config=CONFIG, notes=parsed.notes
    )
    assert result.files_written == ["a.md"] and result.written == set()
    assert (root / "a.md").read_text() == "keep\nkeep too\n"


def test_a_key_naming_no_note_is_reported_and_the_rest_written(tmp_path):
    root = write_vault(tmp_path, {"a.md": two_cards().encode()})
    parsed, snapshot = parse(root, "a.md")
    first = parsed.notes[0]
    keys = {("a.md", first.start_line): 21, ("a.md", first.start_line + 1): 22}
    result = write_back(root, {"a.md": snapshot}, keys, config=CONFIG, notes=parsed.notes)
    assert [(p.path, p.line) for p in result.problems] == [("a.md", first.start_line + 1)]
    assert result.written == {("a.md", first.start_line)}
    assert (
        "<!--ID: 21-->" in (root / "a.md").read_text() and "22" not in (root / "a.md").read_text()
    )


def test_file_removed_before_write_is_reported(tmp_path):
    root = write_vault(tmp_path, {"a.md": two_cards().encode()})
    parsed, snapshot = parse(root, "a.md")
    (root / "a.md").unlink()
    result = assign(root, "a.md", 1, 2, parsed=parsed, snapshot=snapshot)
    assert result.files_written == [] and result.written == set()
    assert "could not re-read" in result.problems[0].message
    assert not (root / "a.md").exists()


# Run in a child process: RLIMIT_FSIZE would bind pytest's own files too.
_GROW_LIMITED = """
import json, resource, signal, sys
from pathlib import Path
from notecards.config import VaultConfig
from notecards.parse import parse_file
from notecards.vault.files import read_markdown
from notecards.vault import write_back

root, limit = Path(sys.argv[1]), int(sys.argv[2])
config, snapshots, notes = VaultConfig(vault_name="vault"), {}, []
for rel in ("small.md", "big.md"):
    text, snapshots[rel] = read_markdown(root, rel)
    notes += parse_file(text, rel, config).notes
keys = {(n.path, n.start_line): i for i, n in enumerate(notes, start=31)}
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
result = write_back(root, snapshots, keys, config=config, notes=notes)
print(json.dumps([sorted(result.written), result.files_written, [p.path for p in result.problems]]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX only")
def test_written_leaves_out_a_file_that_could_not_be_written(tmp_path):
    """A real write failure (no mock): the OS refuses to grow a file past the process's
    RLIMIT_FSIZE, so the big file's new copy cannot be written while the small one's can."""
    big = two_cards() + "filler line\n" * 400
    root = write_vault(tmp_path, {"small.md": CARD.format(n=0).encode(), "big.md": big.encode()})
    run = subprocess.run(
        [sys.executable, "-c", _GROW_LIMITED, str(root), str(len(big) - 1)],
        capture_output=True,
        text=True,
        check=True,
    )
    written, files_written, problem_paths = json.loads(run.stdout)
    assert written == [["small.md", 1]]
    assert files_written == ["small.md"] and problem_paths == ["big.md"]
    assert (root / "big.md").read_text() == big
    assert "<!--ID: 31-->" in (root / "small.md").read_text()
    assert sorted(p.name for p in root.iterdir()) == ["big.md", "small.md"]  # no temp left


def test_a_file_with_a_name_as_long_as_the_system_allows_gets_its_ids(tmp_path):
    """The temp file beside it must not need a longer name than the file itself."""
    rel = "n" * 240 + ".md"
    root = write_vault(tmp_path, {rel: two_cards().encode()})
    result = assign(root, rel, 41, 42)
    assert result.problems == [] and result.files_written == [rel]
    assert (root / rel).read_text() == expected_after(two_cards(), (41, 42))


@pytest.mark.parametrize("breaker", ["\u2028", "\r", "\x0c", "\x85"])
def test_an_id_replaced_after_a_unicode_line_break_lands_on_the_id_line(tmp_path, breaker):
    """The parser splits lines on `\\n` only; the ID line is found the same way, so a lone
    `\\r` or a Unicode break in a field does not shift it onto a field that holds the ID."""
    text = f"START\nBasic\nHow many?{breaker}(roughly)\nBack: 1000 apples\n<!--ID: 1000-->\nEND\n"
    root = write_vault(tmp_path, {"a.md": text.encode()})
    parsed, snapshot = parse(root, "a.md")
    [note] = parsed.notes
    result = write_back(root, {"a.md": snapshot}, {("a.md", 1): 2000}, config=CONFIG, notes=[note])
    assert (root / "a.md").read_bytes() == text.replace("ID: 1000", "ID: 2000").encode()
    assert result.problems == [] and result.written == {("a.md", 1)}


def test_an_id_replaced_in_a_file_edited_meanwhile_is_found_by_its_id(tmp_path):
    text = "START\nBasic\nq\rstill q\nBack: 7 apples\n<!--ID: 7-->\nEND\n"
    root = write_vault(tmp_path, {"a.md": text.encode()})
    parsed, snapshot = parse(root, "a.md")
    edited = "intro\n\n" + text.replace("7 apples", "7 pears")
    (root / "a.md").write_bytes(edited.encode())
    result = write_back(
        root, {"a.md": snapshot}, {("a.md", 1): 8}, config=CONFIG, notes=parsed.notes
    )
    assert (root / "a.md").read_bytes() == edited.replace("ID: 7", "ID: 8").encode()
    assert result.problems == [] and result.written == {("a.md", 1)}
