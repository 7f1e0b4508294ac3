"""A sync with nothing to do (sync/as_left.py): told from the vault's bytes and one request,
parsing and planning nothing; and everything a sync must still notice, noticed: an edit made
in Anki, a note deleted there, a media file changed, any byte of the vault. Against the
AnkiConnect test server, whose storage is a real Anki collection."""

from __future__ import annotations

import json

import pytest

import notecards.sync.run
from notecards.sync.state import load_state
from notecards.vault.state_dir import SYNC_STATE
from tests.helpers.sync import a_month_on, anki_notes, edit_in_anki, nothing_to_send, run_cli, sync
from tests.helpers.vault import block, ids_in, write_vault

PNG = b"\x89PNG\r\n\x1a\nfirst picture"


# Both releases: one finds the edits made in Anki by `edited:N`, the other by modification times.
pytestmark = pytest.mark.parametrize(
    "anki_server", [{}, {"mod_times": True}], ids=["2023", "25.11"], indirect=True
)


def _replace(path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def whole_sync_refused(monkeypatch) -> None:
    """Fail the test if the whole sync runs (run.py: parse, render, plan)."""

    def refuse(*args, **kwargs):
        raise AssertionError("the whole sync ran for a vault with nothing to do")

    monkeypatch.setattr(notecards.sync.run, "sync_leaving_out", refuse)


@pytest.fixture
def synced(tmp_path, anki_server):
    """A vault of two files synced once (IDs written), its notes last modified a month ago
    (a sync right after Anki modified a note looks at it once more), then synced again:
    nothing to do, and the state says so."""
    vault = write_vault(
        tmp_path / "v",
        {
            "a.md": block("Q1", "A1 ![[pic.png]]") + "\n" + block("Q2", "A2"),
            "b.md": block("Q3", "A3"),
        },
    )
    (vault / "pic.png").write_bytes(PNG)
    sync(vault, anki_server)
    a_month_on(vault, anki_server)
    sync(vault, anki_server)
    assert load_state(vault, anki_server.url).as_left
    return vault


def test_a_sync_with_nothing_to_do_asks_anki_once_and_parses_nothing(
    synced, anki_server, monkeypatch
):
    state_before = (synced / SYNC_STATE).read_bytes()
    whole_sync_refused(monkeypatch)
    anki_server.reset_counts()
    report = sync(synced, anki_server)
    assert nothing_to_send(report.plan) and report.plan.unchanged == 3
    assert report.requests == anki_server.requests == 1
    assert (synced / SYNC_STATE).read_bytes() == state_before  # not written again


def test_it_says_what_the_whole_sync_says(synced, anki_server, tmp_path):
    """The same lines and the same JSON as a sync that parsed everything to find nothing."""
    quick = [run_cli(str(synced), "--url", anki_server.url, *flag) for flag in ((), ("--json",))]
    state = json.loads((synced / SYNC_STATE).read_text(encoding="utf-8"))
    state["as_left"] = ""  # the whole sync, then
    (synced / SYNC_STATE).write_text(json.dumps(state), encoding="utf-8")
    whole = run_cli(str(synced), "--url", anki_server.url)
    assert quick[0].exit_code == whole.exit_code == 0
    assert quick[0].output == whole.output == "synced: unchanged 3 (1 request(s) to Anki)\n"
    document = json.loads(quick[1].stdout)
    assert document["counts"]["unchanged"] == 3 and document["requests"] == 1
    assert document["applied"] is False and not document["problems"]


def test_an_edit_made_in_anki_is_brought_home(synced, anki_server):
    note_id = ids_in(synced / "b.md")[0]
    edit_in_anki(anki_server, note_id, Back="A3 from the phone")
    anki_server.reset_counts()
    report = sync(synced, anki_server)
    assert [p.note_id for p in report.pulled] == [note_id]
    assert "A3 from the phone" in (synced / "b.md").read_text(encoding="utf-8")
    # The whole sync that brings it home does not ask again what the check asked.
    assert anki_server.actions["version"] == 1 and report.requests == anki_server.requests


def test_a_note_deleted_in_anki_is_added_again(synced, anki_server):
    note_id = ids_in(synced / "b.md")[0]
    with anki_server.collection() as col:
        col.remove_notes([note_id])
    report = sync(synced, anki_server)
    assert [a.replaces for a in report.plan.adds] == [note_id]
    assert any(n["fields"]["Front"] == "Q3" for n in anki_notes(anki_server).values())


def test_a_media_file_changed_is_stored_again(synced, anki_server):
    (synced / "pic.png").write_bytes(PNG + b", edited")
    report = sync(synced, anki_server)
    assert [m.anki_name for m in report.plan.media] == ["pic.png"]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda v: _replace(v / "b.md", "A3", "A3 edited"), id="edit"),
        pytest.param(lambda v: (v / "c.md").write_text(block("Q4", "A4"), "utf-8"), id="new-file"),
        pytest.param(
            lambda v: (v / "notecards.yaml").write_text("default_deck: X\n"), id="settings"
        ),
    ],
)
def test_any_change_to_the_vault_is_synced(synced, anki_server, change):
    change(synced)
    report = sync(synced, anki_server)
    assert not nothing_to_send(report.plan)
    assert nothing_to_send(sync(synced, anki_server).plan)


def test_a_change_outside_the_notes_leaves_nothing_to_do_again(synced, anki_server, monkeypatch):
    """The whole sync runs once (the bytes changed), finds nothing, and records the vault as
    it left it: the next one is the quick one again."""
    with (synced / "b.md").open("a", encoding="utf-8") as file:
        file.write("\nsome prose after the card\n")
    assert nothing_to_send(sync(synced, anki_server).plan)
    whole_sync_refused(monkeypatch)
    assert sync(synced, anki_server).plan.unchanged == 3


def test_a_vault_with_a_warning_to_repeat_always_syncs_whole(synced, anki_server):
    """A record whose block is gone is warned about on every sync: never left as nothing to do."""
    (synced / "b.md").write_text("the card is gone\n", encoding="utf-8")
    first = sync(synced, anki_server)
    assert any("its block is gone" in p.message for p in first.plan.problems)
    assert not load_state(synced, anki_server.url).as_left
    again = sync(synced, anki_server)
    assert any("its block is gone" in p.message for p in again.plan.problems)
