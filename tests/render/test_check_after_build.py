"""`notecards check` after a build: the build's verdict on its rendered notes stands while the
vault is as the build read it (nothing is rendered again), and any change since is checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from notecards import vault as vault_package
from notecards.build import build_vault
from notecards.cli import cli
from notecards.commands import check as check_module
from notecards.vault.state_dir import CHECKED, STATE_DIR
from tests.helpers.build import snapshot_bytes
from tests.helpers.vault import block, write_vault

PIPE_IN_MATH = "| $a|b$ | c |"  # a rule's warning: the `|` ends the table cell


def check(root: Path, *options: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["check", str(root), *options])
    return result.exit_code, result.stdout, result.stderr


def fresh_check(root: Path, tmp_path: Path, *options: str) -> tuple[int, str, str]:
    """What check says of the same files with no state folder: everything parsed, rendered."""
    copy = tmp_path / "fresh" / root.name
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(STATE_DIR), symlinks=True)
    code, out, err = check(copy, *options)
    return code, out.replace(str(copy), str(root)), err.replace(str(copy), str(root))


def no_render(monkeypatch) -> None:
    """Fail the test if check parses or renders the vault."""

    def refuse(*args, **kwargs):
        raise AssertionError("check parsed or rendered the vault an unchanged build read")

    monkeypatch.setattr(check_module, "_render_problems", refuse)
    monkeypatch.setattr(vault_package, "load_vault", refuse)


def write_checked_vault(root: Path) -> Path:
    """A vault whose notes all have IDs, one of them breaking a rule (a warning), a file with
    a parse warning, one without notes, and a link that loops (the listing's warning)."""
    write_vault(
        root,
        {
            "a.md": block("q1", "a1", note_id=1_700_000_000_001),
            "b.md": "intro\n\n" + block("q2", PIPE_IN_MATH, note_id=1_700_000_000_002),
            "c.md": "text\nEND\n",
            "d/e.md": "no cards here\n",
        },
    )
    (root / "loop.md").symlink_to("loop.md")
    return root


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """The vault of `write_checked_vault`, built."""
    root = write_checked_vault(tmp_path / "v")
    build_vault(root, tmp_path / "out.apkg")
    return root


def says_the_same_rendering_nothing(vault: Path, tmp_path: Path, monkeypatch) -> None:
    """Check of the `write_checked_vault` vault says what a fresh check says, and parses and
    renders nothing."""
    expected = fresh_check(vault, tmp_path)
    assert "b.md:6: warning: a `|` inside math ends this table cell" in expected[2]
    assert "c.md:2: warning: END without START" in expected[2]
    assert "loop.md: warning: symlink loop; skipped" in expected[2]
    as_json = fresh_check(vault, tmp_path, "--json")
    no_render(monkeypatch)
    assert check(vault) == expected
    assert check(vault, "--json") == as_json


def test_check_of_the_files_a_build_read_renders_nothing_and_says_the_same(
    vault, tmp_path, monkeypatch
):
    says_the_same_rendering_nothing(vault, tmp_path, monkeypatch)


def test_check_writes_nothing_after_a_build(vault):
    before = snapshot_bytes(vault)
    check(vault)
    assert snapshot_bytes(vault) == before


def test_an_edit_since_the_build_is_checked(vault, tmp_path):
    text = (vault / "a.md").read_text(encoding="utf-8")
    (vault / "a.md").write_text(text.replace("a1", PIPE_IN_MATH), encoding="utf-8")
    code, _, err = check(vault)
    assert "a.md:4: warning: a `|` inside math" in err
    assert (code, _, err) == fresh_check(vault, tmp_path)


def test_a_new_file_in_the_vault_is_checked(vault, tmp_path):
    """Links resolve against the file list: a file added since the build is an input too."""
    (vault / "c.md").write_text(block("", "no front"), encoding="utf-8")
    code, _, err = check(vault)
    assert "c.md:1: the first field (Front) is empty" in err
    assert (code, _, err) == fresh_check(vault, tmp_path)


def test_new_id_lines_are_not_taken_for_the_lines_of_the_build_before(tmp_path, monkeypatch):
    """A build that writes IDs moves the lines below them: its warnings, found before the
    IDs went in, are not kept for check, which finds them where they are now."""
    root = write_vault(
        tmp_path / "v", {"a.md": block("q1", "a1") + "\n" + block("q2", PIPE_IN_MATH)}
    )
    build_vault(root, tmp_path / "out.apkg")
    assert not (root / CHECKED).exists()
    code, _, err = check(root)
    assert "a.md:12: warning: a `|` inside math" in err  # line 11 before the first ID
    assert (code, _, err) == fresh_check(root, tmp_path)


def test_a_build_that_writes_ids_into_clean_notes_keeps_its_verdict(tmp_path, monkeypatch):
    """No problem to move: the verdict of a first build stands for the files it wrote."""
    root = write_vault(tmp_path / "v", {"a.md": block("q1", "a1"), "b.md": block("q2", "a2")})
    build_vault(root, tmp_path / "out.apkg")
    expected = fresh_check(root, tmp_path)
    no_render(monkeypatch)
    assert check(root) == expected == (0, "2 files, 2 notes: 0 errors, 0 warnings\n", "")


def test_a_note_embedding_a_file_that_is_not_a_note_keeps_no_verdict(tmp_path):
    """A file outside `scan_dir` is no note: its bytes are not among the inputs, so what a
    note embedding it shows may change under an unchanged digest. No verdict, then."""
    root = write_vault(
        tmp_path / "v",
        {
            "notecards.yaml": "scan_dir: cards\n",
            "cards/a.md": block("q ![[side]]", "a1", note_id=1_700_000_000_001),
            "side.md": "the embedded text\n",
        },
    )
    build_vault(root, tmp_path / "out.apkg")
    assert (root / STATE_DIR).is_dir() and not (root / CHECKED).exists()
