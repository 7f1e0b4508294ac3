"""`notecards sync` against an AnkiConnect server whose storage is a real Anki collection."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from notecards.render import Renderer
from notecards.render.pool import POOL_ENV
from notecards.sync.recovery import PENDING_TAG
from notecards.targets.ankiconnect import AnkiConnect, AnkiConnectError
from tests.helpers.sync import (
    ANKI_ELSEWHERE,
    anki_notes,
    copy_project_notes,
    edit_in_anki,
    nothing_to_send,
    run_cli,
    sync,
)
from tests.helpers.vault import block, ids_in, write_vault

USER_IDS = [1764591468175, 1764591468178, 1764257200499]


def test_the_users_notes_sync_with_their_ids_and_math(tmp_path, anki_server):
    vault = copy_project_notes(tmp_path / "vault")
    note_file = vault / "LLM post-training.md"
    before = note_file.read_bytes()
    report = sync(vault, anki_server)
    notes = anki_notes(anki_server)
    assert sorted(notes) == sorted(USER_IDS) and not report.errors
    assert {n["model"] for n in notes.values()} == {"Basic"}  # the user's own note type
    assert note_file.read_bytes() == before  # the IDs were kept: nothing to write
    back = notes[1764591468175]["fields"]["Back"]
    dpo = (
        r"\ell_\mathrm{DPO} = -\log \sigma\left(\beta[\log \pi_\theta(Y^+ | X)"
        r" - \log \pi_\theta(Y^- | X)]\right)"
    )
    assert f"\\[{dpo}\\]" in back  # no newline inside: the form Anki's editor keeps
    assert r"\(\pi_\theta(Y^+ | X) &gt; \pi_\theta(Y^- | X)\)" in back
    assert notes[1764591468175]["tags"] == ["ml", "WS2526"]


def test_a_second_sync_sends_at_most_two_requests_and_renders_nothing(
    tmp_path, anki_server, monkeypatch
):
    vault = copy_project_notes(tmp_path / "vault")
    sync(vault, anki_server)

    def no_rendering(*args, **kwargs):
        raise AssertionError("an unchanged note was rendered")

    monkeypatch.setattr("notecards.render.renderer.Renderer.render", no_rendering)
    monkeypatch.setattr("notecards.render.renderer.Renderer.render_field", no_rendering)
    anki_server.reset_counts()
    report = sync(vault, anki_server)
    assert nothing_to_send(report.plan) and report.plan.unchanged == 3
    assert anki_server.requests <= 2


def test_an_edit_updates_the_same_note_and_only_the_changed_field(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": block("What is DPO?", "a loss")})
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    text = (vault / "a.md").read_text().replace("a loss", "a *preference* loss")
    (vault / "a.md").write_text(text)
    anki_server.reset_counts()
    report = sync(vault, anki_server)
    assert [u.fields for u in report.plan.updates] == [{"Back": "a <em>preference</em> loss"}]
    notes = anki_notes(anki_server)
    assert list(notes) == [note_id]
    assert notes[note_id]["fields"]["Back"] == "a <em>preference</em> loss"
    assert anki_server.actions["updateNoteFields"] == 1 and anki_server.actions["addNotes"] == 0


def test_a_new_block_gets_the_anki_id_and_nothing_else_changes(tmp_path, anki_server):
    original = "intro\r\n\r\n" + block("Q1", "A1").replace("\n", "\r\n") + "\r\noutro"
    vault = write_vault(tmp_path / "v", {"a.md": original})
    report = sync(vault, anki_server)
    (note_id,) = anki_notes(anki_server)
    expected = original.replace("Tags: ml\r\nEND", f"Tags: ml\r\n<!--ID: {note_id}-->\r\nEND")
    assert (vault / "a.md").read_bytes() == expected.encode()
    assert report.written_ids == [("a.md", 3, note_id)]
    assert not any(PENDING_TAG in t for t in anki_notes(anki_server)[note_id]["tags"])


def test_adding_several_notes_leaves_at_most_one_pending_tag_name_in_anki(tmp_path, anki_server):
    """Anki keeps a removed tag in its tag list: a tag per new note would flood the browser."""
    fronts = [f"Q{i}" for i in range(6)]
    vault = write_vault(tmp_path / "v", {"a.md": "".join(block(f, "A") for f in fronts)})
    sync(vault, anki_server)
    sync(write_vault(tmp_path / "v", {"b.md": block("Q later", "A")}), anki_server)
    notes = anki_notes(anki_server)
    assert len(notes) == 7
    assert not any(PENDING_TAG in t for n in notes.values() for t in n["tags"])
    tags = AnkiConnect(anki_server.url).invoke("getTags")
    assert len([t for t in tags if t.casefold().startswith(PENDING_TAG)]) <= 1, tags


def test_a_note_deleted_in_anki_is_recreated_and_its_new_id_written(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q1", "A1")})
    sync(vault, anki_server)
    (old_id,) = ids_in(vault / "a.md")
    with anki_server.collection() as col:
        col.remove_notes([old_id])
    result = run_cli(str(vault), "--url", anki_server.url)
    (new_id,) = ids_in(vault / "a.md")
    assert result.exit_code == 0, result.output
    assert new_id != old_id and list(anki_notes(anki_server)) == [new_id]
    assert f"recreate (note {old_id} is gone from Anki)" in result.output


def test_delete_line_deletes_the_note_and_its_two_lines(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q1", "A1") + "\n" + block("Q2", "A2")})
    sync(vault, anki_server)
    first, second = ids_in(vault / "a.md")
    text = (vault / "a.md").read_text()
    start = text.index("START")
    end = text.index("START", start + 1)
    (vault / "a.md").write_text(f"keep\nDELETE\n<!--ID: {first}-->\n" + text[end:])
    report = sync(vault, anki_server)
    assert [d.note_id for d in report.plan.deletes] == [first]
    assert list(anki_notes(anki_server)) == [second]
    assert (vault / "a.md").read_text() == "keep\n" + text[end:]


def test_media_arrive_and_are_not_sent_twice(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": block("Plot", "![[plot.png]]")})
    (vault / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\nnot-really-a-png")
    report = sync(vault, anki_server)
    assert [m.anki_name for m in report.plan.media]
    with anki_server.collection() as col:
        stored = {p.name: p.read_bytes() for p in Path(col.media.dir()).iterdir()}
    assert b"\x89PNG\r\n\x1a\nnot-really-a-png" in stored.values()
    anki_server.reset_counts()
    assert sync(vault, anki_server).plan.media == []
    assert anki_server.actions["storeMediaFile"] == 0


def test_a_deck_change_in_the_vault_moves_the_cards(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": "TARGET DECK: ML::One\n" + block("Q", "A")})
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    assert anki_notes(anki_server)[note_id]["decks"] == ["ML::One"]
    (vault / "a.md").write_text((vault / "a.md").read_text().replace("ML::One", "ML::Two"))
    report = sync(vault, anki_server)
    assert report.plan.decks == ["ML::Two"]
    assert anki_notes(anki_server)[note_id]["decks"] == ["ML::Two"]


def test_a_tag_added_in_anki_survives_a_vault_tag_change(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "A", tags="ml old")})
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    edit_in_anki(anki_server, note_id, tags=("mine::review",))
    (vault / "a.md").write_text((vault / "a.md").read_text().replace("ml old", "ml new"))
    sync(vault, anki_server)
    assert sorted(anki_notes(anki_server)[note_id]["tags"]) == ["mine::review", "ml", "new"]


def test_an_edit_made_in_anki_and_in_the_vault_is_a_conflict_left_alone(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "A")})
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    edit_in_anki(anki_server, note_id, Back="edited in Anki")
    (vault / "a.md").write_text((vault / "a.md").read_text().replace("Back: A", "Back: B"))
    result = run_cli(str(vault), "--url", anki_server.url)
    assert result.exit_code == 4 and "conflict" in result.output
    assert anki_notes(anki_server)[note_id]["fields"]["Back"] == "edited in Anki"
    forced = run_cli(str(vault), "--url", anki_server.url, "--force")
    assert forced.exit_code == 0
    assert anki_notes(anki_server)[note_id]["fields"]["Back"] == "B"


def test_one_way_keeps_an_edit_made_only_in_anki_in_anki(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "A")})
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    edit_in_anki(anki_server, note_id, Back="better wording")
    before = (vault / "a.md").read_bytes()
    report = sync(vault, anki_server, two_way=False)  # unchanged in the vault: not even read
    assert (vault / "a.md").read_bytes() == before
    assert not report.plan.updates and report.requests == 1
    assert anki_notes(anki_server)[note_id]["fields"]["Back"] == "better wording"
    text = (vault / "a.md").read_text(encoding="utf-8")
    (vault / "a.md").write_text(text.replace("\nQ\n", "\nQ2\n"), encoding="utf-8")
    report = sync(vault, anki_server, two_way=False)  # the vault changed the front
    assert [k.fields for k in report.plan.kept] == [("Back",)]
    assert [u.fields for u in report.plan.updates] == [{"Front": "Q2"}]
    assert anki_notes(anki_server)[note_id]["fields"] == {"Front": "Q2", "Back": "better wording"}


def test_dry_run_prints_the_plan_and_changes_nothing(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": "TARGET DECK: X\n" + block("Q", "A")})
    before = (vault / "a.md").read_bytes()
    result = run_cli(str(vault), "--url", anki_server.url, "--dry-run")
    assert result.exit_code == 0
    assert "a.md:2: add (X)" in result.output and "create deck X" in result.output
    assert (vault / "a.md").read_bytes() == before and anki_notes(anki_server) == {}
    as_json = run_cli(str(vault), "--url", anki_server.url, "--dry-run", "--json")
    document = json.loads(as_json.output)
    assert document["counts"]["add"] == 1 and document["applied"] is False


@pytest.mark.parametrize(
    ("anki_server", "moves"),
    [
        ({"default_deck_bug": True, **ANKI_ELSEWHERE}, 1),  # added by addNotes
        ({"default_deck_bug": True}, 0),  # imported: the bug is addNotes' only
    ],
    indirect=["anki_server"],
)
def test_cards_land_in_their_deck_despite_the_default_deck_bug(tmp_path, anki_server, moves):
    vault = write_vault(tmp_path / "v", {"a.md": "TARGET DECK: ML::DPO\n" + block("Q", "A")})
    sync(vault, anki_server)
    assert [n["decks"] for n in anki_notes(anki_server).values()] == [["ML::DPO"]]
    assert anki_server.actions["changeDeck"] == moves


def test_every_release_adds_the_good_notes_and_names_the_refused_one(tmp_path, any_anki_release):
    """Anki refuses what only it can know about (a note of the same type with the same first
    field already in the collection); what check sees itself stops the sync before (below)."""
    server = any_anki_release
    twin = {"deckName": "D", "modelName": "Basic", "fields": {"Front": "Q2", "Back": "mine"}}
    AnkiConnect(server.url).invoke("createDeck", deck="D")
    AnkiConnect(server.url).invoke("addNote", note=twin)
    files = {"a.md": "TARGET DECK: D\n" + block("Q1", "A1") + block("Q2", "A2") + block("Q3", "A3")}
    vault = write_vault(tmp_path / "v", files)
    result = run_cli(str(vault), "--url", server.url)
    assert result.exit_code == 5
    assert "a.md:8: Anki refused the note: cannot create note because it is a duplicate" in (
        result.output
    )
    notes = anki_notes(server)
    assert sorted(n["fields"]["Front"] for n in notes.values()) == ["Q1", "Q2", "Q3"]
    ours = [nid for nid, n in notes.items() if n["fields"]["Back"] != "mine"]
    assert all(notes[nid]["decks"] == ["D"] for nid in ours)
    assert sorted(ids_in(vault / "a.md")) == sorted(ours)


# What a sync may have asked Anki by the time a rule stops it: the one request it starts with.
READS = {"multi", "version", "deckNamesAndIds", "findNotes", "notesModTime", "notesInfo",
         "getMediaDirPath"}  # fmt: skip


def test_what_check_calls_an_error_stops_the_sync_before_anything_is_changed(tmp_path, anki_server):
    """The rules hold the rendered notes, and Anki is asked what it holds while they render:
    it may have heard that one read-only request (a race), never a second, never a change."""
    files = {
        "a.md": block("Q1", "A1") + block("", "empty front"),
        "c.md": "START\nCloze\nno cloze here\nEND\n",
    }
    vault = write_vault(tmp_path / "v", files)
    before = {p: (vault / p).read_bytes() for p in files}
    anki_server.reset_counts()
    result = run_cli(str(vault), "--url", anki_server.url)
    assert result.exit_code == 1
    assert "a.md:7: the first field (Front) is empty" in result.output
    assert "c.md:1: Cloze note without any cloze" in result.output
    asked = set(anki_server.actions)
    assert anki_server.requests <= 1 and asked <= READS, anki_server.actions
    assert anki_notes(anki_server) == {}
    assert {p: (vault / p).read_bytes() for p in files} == before


def test_anki_is_asked_what_it_holds_while_the_notes_render(tmp_path, anki_server, monkeypatch):
    """The request a sync starts with needs only which notes render, so it goes to Anki while
    they do: here the first note's rendering waits until that request has arrived (asked only
    after the last note rendered, as before, it would wait out the 10 s and the test fail)."""
    monkeypatch.setenv(POOL_ENV, str(10**9))  # rendered in this process, beside the server
    vault = write_vault(tmp_path / "v", {"a.md": block("Q1", "A1") + block("Q2", "A2")})
    arrived = threading.Event()
    answer, render = anki_server.answer, Renderer.render

    def arriving(body: bytes) -> bytes:
        arrived.set()
        return answer(body)

    waited: list[bool] = []

    def rendering(self: Renderer, note):
        if not waited:
            waited.append(arrived.wait(timeout=10))
        return render(self, note)

    monkeypatch.setattr(anki_server, "answer", arriving)
    monkeypatch.setattr(Renderer, "render", rendering)
    report = sync(vault, anki_server)
    assert waited == [True]
    assert len(report.plan.adds) == 2 and len(anki_notes(anki_server)) == 2


def test_a_note_that_does_not_render_stops_the_sync_though_anki_was_asked(tmp_path, anki_server):
    """Asked while the notes render, Anki may have heard a read when a note fails to render:
    the sync still stops with the note's error, and nothing is written on either side."""
    files = {"a.md": block("Q1", "A1") + block("Q2", "![[../outside.png]]")}
    vault = write_vault(tmp_path / "v", files)
    (tmp_path / "outside.png").write_bytes(b"\x89PNG")
    result = run_cli(str(vault), "--url", anki_server.url)
    assert result.exit_code == 1, result.output
    assert "a.md:" in result.output and "Traceback" not in result.output
    assert anki_notes(anki_server) == {} and anki_server.actions["addNotes"] == 0
    assert (vault / "a.md").read_text(encoding="utf-8") == files["a.md"]


def test_anki_not_running_is_exit_3_with_a_sentence(tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "A")})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens once the probe closes
    result = run_cli(str(vault), "--url", f"http://127.0.0.1:{port}")
    assert result.exit_code == 3
    assert "Could not reach Anki" in result.output and "AnkiConnect" in result.output
    assert ids_in(vault / "a.md") == []


@pytest.mark.parametrize("anki_server", [{"api_key": "s3cret"}], indirect=True)
def test_the_api_key_is_sent_and_a_wrong_one_is_explained(tmp_path, anki_server, monkeypatch):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "A")})
    wrong = run_cli(str(vault), "--url", anki_server.url, "--api-key", "nope")
    assert wrong.exit_code == 3 and "API key" in wrong.output
    monkeypatch.setenv("NOTECARDS_ANKICONNECT_KEY", "s3cret")
    assert run_cli(str(vault), "--url", anki_server.url).exit_code == 0
    assert len(anki_notes(anki_server)) == 1


@pytest.mark.parametrize("anki_server", [{"api_key": "s3cret"}], indirect=True)
def test_the_api_key_comes_from_the_option_then_the_environment_then_the_settings(
    tmp_path, anki_server, monkeypatch
):
    settings = "ankiconnect: {api_key: from-yaml}\n"
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "A"), "notecards.yaml": settings})
    assert run_cli(str(vault), "--url", anki_server.url).exit_code == 3  # the yaml's key
    monkeypatch.setenv("NOTECARDS_ANKICONNECT_KEY", "s3cret")
    assert run_cli(str(vault), "--url", anki_server.url).exit_code == 0  # env over yaml
    monkeypatch.setenv("NOTECARDS_ANKICONNECT_KEY", "wrong")
    assert run_cli(str(vault), "--url", anki_server.url, "--api-key", "s3cret").exit_code == 0


def test_a_url_from_the_vault_settings_must_be_this_machine(tmp_path):
    vault = write_vault(
        tmp_path / "v",
        {
            "a.md": block("Q", "A"),
            "notecards.yaml": "ankiconnect: {url: 'http://203.0.113.9:8765'}\n",
        },
    )
    result = run_cli(str(vault))
    assert result.exit_code == 3 and "not this machine" in result.output


def test_prune_deletes_notes_whose_block_is_gone_only_when_asked(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q1", "A1"), "b.md": block("Q2", "A2")})
    sync(vault, anki_server)
    (gone,) = ids_in(vault / "b.md")
    (vault / "b.md").write_text("no cards any more\n")
    report = sync(vault, anki_server)
    assert report.plan.deletes == [] and gone in anki_notes(anki_server)
    assert any("--prune" in p.message for p in report.plan.problems)
    pruned = sync(vault, anki_server, prune=True)
    assert [d.note_id for d in pruned.plan.deletes] == [gone]
    assert gone not in anki_notes(anki_server) and len(anki_notes(anki_server)) == 1


def test_deleting_the_state_loses_nothing(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "A")})
    sync(vault, anki_server)
    for item in (vault / ".notecards").iterdir():
        item.unlink()
    report = sync(vault, anki_server)
    assert nothing_to_send(report.plan) and len(anki_notes(anki_server)) == 1


def test_an_add_on_older_than_api_version_6_gets_a_sentence():
    client = AnkiConnect("http://127.0.0.1:9")  # never contacted: the answer is given
    client.check_version(6)
    with pytest.raises(AnkiConnectError, match="needs 6. Update the add-on"):
        client.check_version(5)
