"""`-o` never replaces something of the user's: a note, a device, a file that is no package."""

from __future__ import annotations

import os

import pytest

from notecards import exit_codes
from notecards.build.output import is_anki_package
from tests.helpers.build import run_build, snapshot_bytes
from tests.helpers.vault import block, write_vault


@pytest.fixture
def vault(tmp_path):
    return write_vault(tmp_path / "v", {"LLM post-training.md": block("q", "a"), "b.md": "text\n"})


@pytest.mark.parametrize("name", ["LLM post-training.md", "b.md", "new.md", ".notecards/x.apkg"])
def test_an_output_among_the_vaults_notes_is_refused_and_the_note_kept(vault, name):
    before = snapshot_bytes(vault)
    for flags in ([], ["--force"]):
        result = run_build(str(vault), "-o", str(vault / name), *flags)
        assert result.exit_code == exit_codes.BAD_INPUT
        assert "not writing the package" in result.stderr and "Traceback" not in result.stderr
    assert snapshot_bytes(vault) == before


def test_an_output_that_is_not_a_regular_file_is_refused_even_with_force(vault, tmp_path):
    os.mkfifo(tmp_path / "fifo.apkg")
    (tmp_path / "folder.apkg").mkdir()
    before = snapshot_bytes(vault)
    for target in ("/dev/null", tmp_path / "fifo.apkg"):
        result = run_build(str(vault), "-o", str(target), "--force")
        assert result.exit_code == exit_codes.BAD_INPUT
        assert "is not a regular file" in result.stderr
    folder = run_build(str(vault), "-o", str(tmp_path / "folder.apkg"), "--force")
    assert folder.exit_code == exit_codes.USAGE and "is a directory" in folder.stderr
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    assert (tmp_path / "folder.apkg").is_dir()
    assert snapshot_bytes(vault) == before


def test_an_existing_file_that_is_not_a_package_is_kept_unless_forced(vault, tmp_path):
    out = tmp_path / "thesis.pdf"
    out.write_bytes(b"%PDF-1.7 my thesis")
    result = run_build(str(vault), "-o", str(out))
    assert result.exit_code == exit_codes.BAD_INPUT
    assert "exists and is not an Anki package (--force replaces it)" in result.stderr
    assert out.read_bytes() == b"%PDF-1.7 my thesis"
    assert run_build(str(vault), "-o", str(out), "--force").exit_code == 0
    assert is_anki_package(out)


def test_a_package_is_replaced_and_a_symlinked_output_stays_a_link(vault, tmp_path):
    real = tmp_path / "synced" / "ml.apkg"
    real.parent.mkdir()
    assert run_build(str(vault), "-o", str(real)).exit_code == 0
    link = tmp_path / "ml.apkg"
    link.symlink_to(real)
    (vault / "b.md").write_text(block("q2", "a"))
    assert run_build(str(vault), "-o", str(link)).exit_code == 0
    assert link.is_symlink() and is_anki_package(real)
