"""`notecards check` after a sync alone (no build): the sync leaves the verdict a build leaves
(render/inputs.py), so check reads and hashes the files and parses and renders nothing, and
says what a check of the same files with no state folder says. Against the AnkiConnect test
server, whose storage is a real Anki collection."""

from __future__ import annotations

import json

import pytest

from notecards.sync.state import load_state
from notecards.vault.state_dir import CHECKED, SYNC_STATE
from tests.helpers.sync import sync
from tests.helpers.vault import block, ids_in, write_vault
from tests.render.test_check_after_build import (
    PIPE_IN_MATH,
    check,
    fresh_check,
    no_render,
    says_the_same_rendering_nothing,
    write_checked_vault,
)


@pytest.fixture
def vault(tmp_path, anki_server):
    """The vault of test_check_after_build, synced instead of built."""
    root = write_checked_vault(tmp_path / "v")
    report = sync(root, anki_server)
    assert not report.errors
    return root


def test_check_after_a_sync_alone_renders_nothing_and_says_the_same(vault, tmp_path, monkeypatch):
    says_the_same_rendering_nothing(vault, tmp_path, monkeypatch)


def test_after_a_sync_of_one_edited_card_too(vault, anki_server, tmp_path, monkeypatch):
    """The sync renders the edited note, and the unchanged one with a warning again (the
    state names it), so the verdict holds every problem; the unchanged clean ones stand."""
    text = (vault / "a.md").read_text(encoding="utf-8")
    (vault / "a.md").write_text(text.replace("a1", "a1, edited"), encoding="utf-8")
    assert [u.note_id for u in sync(vault, anki_server).plan.updates] == [1_700_000_000_001]
    expected = fresh_check(vault, tmp_path)
    no_render(monkeypatch)
    assert check(vault) == expected


def test_a_warning_fixed_in_the_vault_leaves_the_verdict_without_it(
    vault, anki_server, tmp_path, monkeypatch
):
    text = (vault / "b.md").read_text(encoding="utf-8")
    (vault / "b.md").write_text(text.replace("$a|b$", "$a\\mid b$"), encoding="utf-8")
    sync(vault, anki_server)
    assert load_state(vault, anki_server.url).warned == frozenset()
    expected = fresh_check(vault, tmp_path)
    assert "inside math" not in expected[2]
    no_render(monkeypatch)
    assert check(vault) == expected


def test_new_cards_given_ids_by_the_sync_keep_the_verdict(tmp_path, anki_server, monkeypatch):
    """No problem to move: the IDs the sync wrote move no line a problem is at."""
    root = write_vault(tmp_path / "v", {"a.md": block("q1", "a1"), "b.md": block("q2", "a2")})
    sync(root, anki_server)
    assert ids_in(root / "a.md") and ids_in(root / "b.md")
    expected = fresh_check(root, tmp_path)
    no_render(monkeypatch)
    assert check(root) == expected == (0, "2 files, 2 notes: 0 errors, 0 warnings\n", "")


def test_new_id_lines_above_a_warning_leave_no_verdict(tmp_path, anki_server):
    """A sync that writes IDs moves the lines below them: a warning found before the IDs went
    in is not kept for check, which finds it where it is now."""
    root = write_vault(
        tmp_path / "v", {"a.md": block("q1", "a1") + "\n" + block("q2", PIPE_IN_MATH)}
    )
    sync(root, anki_server)
    assert not (root / CHECKED).exists()
    code, _, err = check(root)
    assert "a.md:12: warning: a `|` inside math" in err  # line 11 before the first ID
    assert (code, _, err) == fresh_check(root, tmp_path)


def test_a_state_that_does_not_know_the_warnings_leaves_no_verdict(vault, anki_server, tmp_path):
    """A state from before it named the notes with a problem: the sync that renders only the
    edited note cannot know the others'; check renders, and says the same."""
    (vault / CHECKED).unlink()
    state = json.loads((vault / SYNC_STATE).read_text(encoding="utf-8"))
    del state["warned"]
    (vault / SYNC_STATE).write_text(json.dumps(state), encoding="utf-8")
    text = (vault / "a.md").read_text(encoding="utf-8")
    (vault / "a.md").write_text(text.replace("a1", "a1, edited"), encoding="utf-8")
    sync(vault, anki_server)
    assert not (vault / CHECKED).exists()
    assert check(vault) == fresh_check(vault, tmp_path)
