"""Which Obsidian vault a folder lies in: the nearest folder at or above it that holds
`.obsidian/`. Its name and the folder's path inside it are what `obsidian://` links need."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from notecards.config import CONFIG_FILE, load_config
from notecards.problems import NotecardsError
from notecards.render import Renderer
from notecards.vault import load_vault
from tests.helpers.vault import write_vault


def test_a_folder_inside_an_obsidian_vault_links_into_that_vault(tmp_path: Path) -> None:
    (tmp_path / "My Vault" / ".obsidian").mkdir(parents=True)
    folder = write_vault(tmp_path / "My Vault" / "courses" / "ml", {"b.md": "b\n"})
    config = load_config(folder)
    assert (config.vault_name, config.vault_folder) == ("My Vault", "courses/ml")
    out = Renderer(config, folder).render_field("[[b]] [[#Top]]", cloze=False, path="a.md", line=1)
    open_url = "obsidian://open?vault=My%20Vault&amp;file="
    assert out.html == (
        f'<a href="{open_url}courses%2Fml%2Fb">b</a>'
        f' <a href="{open_url}courses%2Fml%2Fa%23Top">Top</a>'
    )


def test_the_nearest_obsidian_folder_is_the_vault(tmp_path: Path) -> None:
    (tmp_path / "outer" / ".obsidian").mkdir(parents=True)
    (tmp_path / "outer" / "inner" / ".obsidian").mkdir(parents=True)
    folder = tmp_path / "outer" / "inner" / "notes"
    folder.mkdir()
    config = load_config(folder)
    assert (config.vault_name, config.vault_folder) == ("inner", "notes")


def test_the_folder_that_holds_obsidian_is_the_vault_itself(tmp_path: Path) -> None:
    (tmp_path / "vault" / ".obsidian").mkdir(parents=True)
    config = load_config(tmp_path / "vault")
    assert (config.vault_name, config.vault_folder) == ("vault", "")


def test_without_obsidian_above_the_folder_is_the_vault(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (tmp_path / ".obsidian").write_text("a file, not Obsidian's folder")
    config = load_config(folder)
    assert (config.vault_name, config.vault_folder) == ("notes", "")


def test_a_hidden_folder_keeps_its_dot_in_the_path(tmp_path: Path) -> None:
    (tmp_path / "v" / ".obsidian").mkdir(parents=True)
    folder = tmp_path / "v" / ".cards"
    folder.mkdir()
    assert load_config(folder).vault_folder == ".cards"


def test_a_symlinked_folder_is_where_it_really_lies(tmp_path: Path) -> None:
    (tmp_path / "v" / ".obsidian").mkdir(parents=True)
    (tmp_path / "v" / "notes").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "v" / "notes")
    config = load_config(tmp_path / "link")
    assert (config.vault_name, config.vault_folder) == ("v", "notes")


def test_the_vault_name_setting_still_wins(tmp_path: Path) -> None:
    (tmp_path / "v" / ".obsidian").mkdir(parents=True)
    folder = write_vault(tmp_path / "v" / "notes", {CONFIG_FILE: "vault_name: Synced Name\n"})
    config = load_config(folder)
    assert (config.vault_name, config.vault_folder) == ("Synced Name", "notes")


def test_the_vault_folder_is_found_not_set(tmp_path: Path) -> None:
    write_vault(tmp_path, {CONFIG_FILE: "vault_folder: x\n"})
    with pytest.raises(NotecardsError) as caught:
        load_config(tmp_path)
    assert [p.format() for p in caught.value.problems] == [
        "notecards.yaml:1: vault_folder: unknown setting; did you mean vault_name?"
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_a_folder_above_that_cannot_be_read_is_no_vault(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    folder = locked / "notes"
    folder.mkdir(parents=True)
    os.chmod(locked, 0o311)  # can be passed through, not listed
    try:
        assert load_config(folder).vault_name == "notes"
    finally:
        os.chmod(locked, 0o755)


def test_the_file_link_names_the_obsidian_vault_and_the_path_in_it(tmp_path: Path) -> None:
    """O2A's `add_file_link` opens the note in the vault it lies in, as every other link."""
    (tmp_path / "My Vault" / ".obsidian").mkdir(parents=True)
    card = "START\nBasic\nFront: Q\nBack: A\nEND\n"
    folder = write_vault(
        tmp_path / "My Vault" / "courses" / "ml",
        {"notecards.yaml": "add_file_link: true\n", "a.md": card},
    )
    (note,) = load_vault(folder).parsed.notes
    url = "obsidian://open?vault=My%20Vault&amp;file=courses%2Fml%2Fa.md"
    assert note.appendix == {"Front": f'<br><a href="{url}" class="obsidian-link">Obsidian</a>'}
