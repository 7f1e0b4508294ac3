"""The render cache: unchanged fields are not rendered again, and it can be deleted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from notecards.config import VaultConfig
from notecards.model import Note
from notecards.problems import NotecardsError
from notecards.render import RenderCache, Renderer
from notecards.render.cache import CachedField
from notecards.vault.state_dir import RENDER_CACHE

FIELDS = {
    "Front": "What is $\\pi_\\theta$?\n![[img.png|120]]",
    "Back": "See [[LLM]] and {x}.\n\n```python\nx = 1\n```",
}


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    (tmp_path / "img.png").write_bytes(b"png")
    (tmp_path / "LLM.md").write_text("x")
    return tmp_path


def card(fields: dict[str, str] = FIELDS) -> Note:
    return Note("Basic", dict(fields), (), "Default", 1, "deck.md", 1, 9)


def build(vault: Path, note: Note | None = None, config: VaultConfig | None = None):
    """One run as a command does it: open the cache, render, save."""
    with RenderCache.for_vault(vault) as cache:
        renderer = Renderer(config or VaultConfig(vault_name="v"), vault, cache)
        rendered = renderer.render(note or card())
    return renderer, rendered


def test_second_run_renders_nothing_and_gives_the_same_html(vault: Path) -> None:
    first, first_out = build(vault)
    second, second_out = build(vault)
    assert first.fields_rendered == 2
    assert second.fields_rendered == 0
    assert second_out.fields == first_out.fields
    assert second_out.media == first_out.media


def test_deleted_cache_rebuilds_identically(vault: Path) -> None:
    _, before = build(vault)
    (vault / RENDER_CACHE).unlink()
    again, after = build(vault)
    assert again.fields_rendered == 2
    assert after.fields == before.fields and after.media == before.media


def test_only_the_edited_field_is_rendered_again(vault: Path) -> None:
    build(vault)
    edited, out = build(vault, card({**FIELDS, "Back": "changed"}))
    assert edited.fields_rendered == 1
    assert out.fields["Back"] == "changed"


def test_settings_that_change_html_miss_the_cache(vault: Path) -> None:
    build(vault)
    renamed, out = build(vault, config=VaultConfig(vault_name="other"))
    assert renamed.fields_rendered == 2
    assert "vault=other" in out.fields["Back"]


def test_same_text_in_another_folder_is_rendered_for_that_folder(vault: Path) -> None:
    build(vault)
    moved = card()
    moved.path = "sub/deck.md"
    renderer, _ = build(vault, moved)
    assert renderer.fields_rendered == 2


def test_cached_embed_of_a_deleted_file_is_an_error_not_a_stale_hit(vault: Path) -> None:
    build(vault)
    (vault / "img.png").unlink()
    with pytest.raises(NotecardsError, match="'img.png' not found"):
        build(vault)


def test_cached_embed_follows_a_new_name_clash(vault: Path) -> None:
    build(vault)
    (vault / "sub").mkdir()
    (vault / "sub" / "img.png").write_bytes(b"other")
    renderer, out = build(vault)
    [ref] = out.media
    assert renderer.fields_rendered == 1  # only the field with the embed
    assert ref.source == "img.png" and ref.anki_name != "img.png"
    assert f'src="{ref.anki_name}"' in out.fields["Front"]


def test_cached_link_follows_a_moved_note(vault: Path) -> None:
    build(vault)
    (vault / "ml").mkdir()
    (vault / "LLM.md").rename(vault / "ml" / "LLM.md")
    renderer, out = build(vault)
    assert renderer.fields_rendered == 1
    assert "file=ml%2FLLM" in out.fields["Back"]


def test_corrupt_cache_file_is_replaced(vault: Path) -> None:
    (vault / RENDER_CACHE).parent.mkdir()
    (vault / RENDER_CACHE).write_bytes(b"this is not sqlite" * 100)
    renderer, out = build(vault)
    assert renderer.fields_rendered == 2
    assert build(vault)[0].fields_rendered == 0


def test_cache_file_damaged_past_its_header_is_replaced(vault: Path) -> None:
    """Pages a disk damaged behind an intact header (the layout check reads) are no cache:
    the fields render again, no traceback, and the file is written anew."""
    notes = [card({"Front": f"card {i} " + "text " * 400, "Back": f"{i}"}) for i in range(40)]

    def rendered_now() -> int:
        with RenderCache.for_vault(vault) as cache:
            renderer = Renderer(VaultConfig(vault_name="v"), vault, cache)
            for note in notes:
                renderer.render(note)
        return renderer.fields_rendered

    assert rendered_now() == 80
    path, page = vault / RENDER_CACHE, 4096
    size = path.stat().st_size
    assert size > 8 * page
    with path.open("r+b") as file:
        file.seek(page)
        file.write(b"\xff" * (size - page))
    assert rendered_now() == 80
    assert rendered_now() == 0


def test_prune_drops_entries_this_run_did_not_use(vault: Path) -> None:
    build(vault)
    with RenderCache.for_vault(vault) as cache:
        Renderer(VaultConfig(vault_name="v"), vault, cache).render(card({"Front": "only"}))
        cache.save(prune=True)
    again, _ = build(vault)
    assert again.fields_rendered == 2


def test_prune_without_a_lookup_drops_every_entry_not_put(vault: Path) -> None:
    """A run that put entries but never read the file (workers rendered every note)."""
    build(vault)
    with RenderCache.for_vault(vault) as cache:
        cache.put_rows([CachedField("<p>x</p>", (), ()).to_row("key")])
        cache.save(prune=True)
    with sqlite3.connect(vault / RENDER_CACHE) as db:
        rows = db.execute("SELECT key, html, media, deps FROM fields").fetchall()
    db.close()
    assert rows == [("key", "<p>x</p>", "", "")]
    again, _ = build(vault)
    assert again.fields_rendered == 2


def test_errors_are_not_cached(vault: Path) -> None:
    bad = card({"Front": "![[nope.png]]"})
    for _ in range(2):
        with pytest.raises(NotecardsError):
            build(vault, bad)
    (vault / "nope.png").write_bytes(b"now here")
    _, out = build(vault, bad)
    assert out.fields["Front"] == '<img src="nope.png">'


def test_same_note_link_is_not_shared_between_files_of_a_folder(vault: Path) -> None:
    fields = {"Front": "see [[#Intro]]", "Back": ""}
    first = card(fields)
    second = card(fields)
    second.path = "other.md"
    build(vault, first)
    _, out = build(vault, second)
    assert "file=other%23Intro" in out.fields["Front"]


def test_cache_file_of_another_layout_is_emptied(vault: Path) -> None:
    path = vault / RENDER_CACHE
    path.parent.mkdir()
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE fields (key TEXT PRIMARY KEY, value TEXT)")
        old.execute("INSERT INTO fields VALUES ('k', 'v')")
    old.close()
    renderer, _ = build(vault)
    assert renderer.fields_rendered == 2
    assert build(vault)[0].fields_rendered == 0


def test_read_only_cache_uses_the_file_but_never_writes_it(vault: Path) -> None:
    with RenderCache.for_vault(vault, read_only=True) as cache:
        Renderer(VaultConfig(vault_name="v"), vault, cache).render(card())
    assert not (vault / RENDER_CACHE).exists()
    build(vault)
    before = (vault / RENDER_CACHE).read_bytes()
    with RenderCache.for_vault(vault, read_only=True) as cache:
        renderer = Renderer(VaultConfig(vault_name="v"), vault, cache)
        renderer.render(card())
        renderer.render(card({"Front": "new", "Back": ""}))
    assert renderer.fields_rendered == 2  # the new card's fields only
    assert (vault / RENDER_CACHE).read_bytes() == before
