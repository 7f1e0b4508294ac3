"""build holds every note to check's rules, says what it would write, and on any failure
leaves the vault as it was (no cache either), with a JSON document when asked for one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from notecards import exit_codes
from tests.helpers.build import run_build, snapshot_bytes
from tests.helpers.paths import REPO
from tests.helpers.vault import block, ids_in, write_vault


@pytest.mark.parametrize(
    ("card", "message"),
    [
        (block("", "a"), "a.md:1: the first field (Front) is empty"),
        ("START\nCloze\nno cloze here\nEND\n", "a.md:1: Cloze note without any cloze"),
    ],
)
def test_build_refuses_what_check_calls_an_error(tmp_path, card, message):
    vault = write_vault(tmp_path / "v", {"a.md": card, "b.md": block("fine", "a")})
    before = snapshot_bytes(vault)
    result = run_build(str(vault), "-o", str(tmp_path / "v.apkg"))
    assert result.exit_code == exit_codes.BAD_INPUT
    assert f"{vault}/{message}" in result.stderr
    assert snapshot_bytes(vault) == before and not (tmp_path / "v.apkg").exists()


def test_a_failed_build_leaves_no_cache_behind(tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": block("q", "![[missing.png]]")})
    assert run_build(str(vault), "-o", str(tmp_path / "v.apkg")).exit_code == 1
    assert not (vault / ".notecards").exists()


def test_errors_come_as_a_json_document_with_json(tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": "START\nBasci\nq\nEND\n"})
    result = run_build(str(vault), "-o", str(tmp_path / "v.apkg"), "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["exit_code"] == 1
    (problem,) = document["problems"]
    assert (problem["path"], problem["line"], problem["severity"]) == (f"{vault}/a.md", 2, "error")
    assert "unknown note type 'Basci'" in problem["message"]


def test_a_dry_run_lists_the_notes_decks_and_media_it_would_write(tmp_path):
    vault = write_vault(
        tmp_path / "v",
        {
            "a.md": "TARGET DECK: ML\n" + block("q1", "![[img.png]]", note_id=5) + block("q2", "a"),
            "img.png": b"\x89PNG",
        },
    )
    result = run_build(str(vault), "--dry-run", "-o", str(tmp_path / "v.apkg"))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert f"{vault}/a.md:2: Basic in ML, ID 5" in lines
    assert any(line.startswith(f"{vault}/a.md:9: Basic in ML, ID ") and "(new)" in line
               for line in lines)  # fmt: skip
    assert "deck ML" in lines and "media img.png" in lines
    assert lines[-1] == f"would write {tmp_path / 'v.apkg'}: 2 notes, 1 deck, 1 media"


def test_check_counts_in_words_a_person_reads(tmp_path):
    from click.testing import CliRunner

    from notecards.cli import cli

    vault = write_vault(tmp_path / "v", {"a.md": block("q", "a") + block("", "x")})
    result = CliRunner().invoke(cli, ["check", str(vault)])
    assert result.stdout.strip() == "1 file, 2 notes: 1 error, 0 warnings"


def _unprivileged(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`notecards ARGS` as a user who is not root (root reads every file, whatever its mode):
    through setpriv as nobody when the tests run as root, as is when they do not."""
    command = [sys.executable, "-m", "notecards", *args]
    if os.getuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot drop privileges to test modes")
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(cwd)}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def open_tmp():
    """A folder any user may enter (pytest's own tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="notecards-modes-"))
    folder.chmod(0o777)
    yield folder
    for path in folder.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


def test_an_unreadable_folder_is_an_error_at_its_path(open_tmp):
    vault = write_vault(open_tmp / "v", {"a.md": block("q", "a"), "private/b.md": block("q2", "b")})
    for path in [vault, *vault.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    (vault / "private").chmod(0o000)
    done = _unprivileged("check", str(vault), cwd=open_tmp)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"{vault}/private: cannot read folder: Permission denied" in done.stderr


def test_an_unreadable_image_is_an_error_at_its_card_before_anything_is_written(open_tmp):
    vault = write_vault(open_tmp / "v", {"a.md": block("q", "![[img.png]]"), "img.png": b"\x89P"})
    for path in [vault, *vault.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    (vault / "img.png").chmod(0o000)
    before = snapshot_bytes(vault)
    done = _unprivileged("build", str(vault), "-o", str(open_tmp / "v.apkg"), cwd=open_tmp)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"{vault}/a.md:1: cannot read media file img.png: Permission denied" in done.stderr
    assert snapshot_bytes(vault) == before and not (open_tmp / "v.apkg").exists()


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("build-manifest.json", b"[]"),
        ("build-manifest.json", b'{"format": 2, "notes": [], "media": 5}'),
        ("build-manifest.json", b'{"format": 2, "notes": {"x": [1]}, "package": "p"}'),
        ("parse-cache.json", b'{"key": 1, "files": {"a.md": [1, 2]}}'),
        ("parse-cache.json", b"\xff\xfe not even text"),
        ("render-cache.sqlite", b"SQLite format 3\x00 but not really"),
    ],
)
def test_a_damaged_cache_is_only_a_miss(tmp_path, name, damage):
    vault = write_vault(tmp_path / "v", {"a.md": block("q", "a", note_id=5)})
    out = tmp_path / "v.apkg"
    assert run_build(str(vault), "-o", str(out)).exit_code == 0
    (vault / ".notecards" / name).write_bytes(damage)
    result = run_build(str(vault), "-o", str(out))
    assert result.exit_code == 0 and "Traceback" not in result.stderr, result.output
    assert ids_in(vault / "a.md") == [5]
