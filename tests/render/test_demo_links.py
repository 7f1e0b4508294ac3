"""Demo links end to end: one check, in the renderer, so check, build and sync agree; and one
code digest, so a change of code or demos is seen by the render cache and the build alike."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import mdit_py_plugins
import pytest

from notecards import demo_catalog, hashing
from notecards.build import build_vault
from notecards.build import pipeline as build_module
from notecards.config import VaultConfig
from notecards.model import Note
from notecards.problems import NotecardsError
from notecards.render import RenderCache, Renderer
from notecards.vault import load_vault
from tests.helpers.build import run_build
from tests.helpers.sync import anki_notes, sync
from tests.helpers.vault import block, write_vault

NOPE = "no demo named 'nope' (dpo, icl, pipeline, ppo_kl, reward_model, sft)"
# The link sits on the file's line 6, the front field's second line.
BAD_CARD = "# t\n\nSTART\nBasic\nq\n[run](notecards://demo/nope)\nBack: a\nEND\n"


def test_build_refuses_an_unknown_demo_at_its_file_and_line(tmp_path):
    vault = write_vault(tmp_path / "v", {"deck.md": BAD_CARD})
    out = tmp_path / "v.apkg"
    result = run_build(str(vault), "-o", str(out))
    assert result.exit_code == 1
    assert f"{vault}/deck.md:6: {NOPE}" in result.stderr.splitlines()
    assert not out.exists()
    assert (vault / "deck.md").read_text() == BAD_CARD  # no ID for a card that cannot ship


def test_sync_reports_an_unknown_demo_and_sends_nothing(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"deck.md": BAD_CARD})
    with pytest.raises(NotecardsError) as caught:  # as check and build: an error stops it
        sync(vault, anki_server)
    assert [p.format() for p in caught.value.problems] == [f"deck.md:6: {NOPE}"]
    assert anki_notes(anki_server) == {}
    assert (vault / "deck.md").read_text() == BAD_CARD


def test_a_demo_link_in_a_code_span_is_text_everywhere(tmp_path):
    vault = write_vault(tmp_path / "v", {"deck.md": block("q `[x](notecards://demo/nope)`", "a")})
    result = run_build(str(vault), "-o", str(tmp_path / "v.apkg"))
    assert result.exit_code == 0, result.output


@pytest.fixture
def fresh_code_digest():
    """`code_digest` is read once per process; these tests change what it reads."""
    hashing.code_digest.cache_clear()
    yield
    hashing.code_digest.cache_clear()


def _note(text: str) -> Note:
    return Note("Basic", {"Front": text, "Back": "a"}, (), "Default", 1, "deck.md", 1, 4)


def test_a_removed_demo_is_not_served_from_the_render_cache(tmp_path, monkeypatch):
    note = _note("[run](notecards://demo/dpo)")
    with RenderCache.for_vault(tmp_path) as cache:
        Renderer(VaultConfig(vault_name="v"), tmp_path, cache).render(note)
    monkeypatch.delitem(demo_catalog.DEMOS, "dpo")
    with RenderCache.for_vault(tmp_path) as cache, pytest.raises(NotecardsError) as caught:
        Renderer(VaultConfig(vault_name="v"), tmp_path, cache).render(note)
    assert [p.message for p in caught.value.problems] == [
        "no demo named 'dpo' (icl, pipeline, ppo_kl, reward_model, sft)"
    ]


def _edit_the_code(code: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (code / "render.py").write_text("HTML = '<b>'\n")  # an HTML change nobody marked


def _upgrade_a_library(code: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new release: the file that names the library's version (read, not imported) reads
    otherwise. The installed library stays as it is; its spec points at the new release."""
    release = code.parent / "site" / "mdit_py_plugins"
    release.mkdir(parents=True)
    (release / "__init__.py").write_text('__version__ = "999.0"\n')
    spec = importlib.util.spec_from_file_location(
        "mdit_py_plugins", release / "__init__.py", submodule_search_locations=[str(release)]
    )
    monkeypatch.setattr(mdit_py_plugins, "__spec__", spec)


@pytest.mark.parametrize("change", [_edit_the_code, _upgrade_a_library])
def test_a_code_change_renders_again_in_the_cache_and_the_build(
    tmp_path, monkeypatch, fresh_code_digest, change
):
    code = tmp_path / "code"  # stands in for notecards' sources, which a test must not edit
    code.mkdir()
    (code / "render.py").write_text("HTML = '<i>'\n")
    monkeypatch.setattr(hashing, "_PACKAGE", code)
    vault = write_vault(tmp_path / "v", {"deck.md": block("q", "a", note_id=5)})
    out = tmp_path / "v.apkg"
    build_vault(vault, out)
    renders = []
    real_render_all = build_module._render_all
    monkeypatch.setattr(
        build_module, "_render_all", lambda *a, **k: renders.append(1) or real_render_all(*a, **k)
    )
    build_vault(vault, out)
    assert renders == []  # nothing changed: the manifest says so, nothing rendered

    change(code, monkeypatch)
    hashing.code_digest.cache_clear()  # a new process
    with RenderCache.for_vault(vault) as cache:
        renderer = Renderer(load_vault(vault).config, vault, cache)
        renderer.render(_note("q"))
        assert renderer.fields_rendered == 2  # the HTML cached under the old code is not used
    build_vault(vault, out)
    assert renders == [1]  # and the build manifest saw the change too
