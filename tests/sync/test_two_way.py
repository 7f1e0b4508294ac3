"""Two-way sync against the test server and a real collection: edits made in Anki come home to
the markdown, merged with the vault's, and a sync right after sends nothing.

Each test runs against both kinds of AnkiConnect: the 2023 release (no modification times:
the edited notes are found with Anki's `edited:N` search) and 25.11 (`notesModTime`)."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing

import pytest

from notecards import exit_codes
from notecards.sync import SyncOptions, plan_lines
from notecards.sync.as_left import unchanged_sync
from notecards.sync.read_anki import AnkiSnapshot
from notecards.sync.run import _remember_anki
from notecards.sync.state import PushedNote, SyncState
from notecards.targets.ankiconnect import AnkiConnect
from notecards.vault.state_dir import PARSE_CACHE, PUSHED_FIELDS
from tests.helpers.sync import (
    a_month_on,
    anki_notes,
    edit_in_anki,
    nothing_to_send,
    run_cli,
    run_pull,
    sync,
)
from tests.helpers.vault import block, ids_in, write_vault

RELEASES = pytest.mark.parametrize(
    "anki_server", [{}, {"mod_times": True}], indirect=True, ids=["2023", "25.11"]
)

LONG_BACK = "the loss pushes up the chosen answer\nand pushes down the rejected one"


def _vault(tmp_path, back: str = LONG_BACK, tags: str = "ml"):
    text = "# DPO\n\nintro text\n\n" + block("What does DPO do?", back, tags=tags) + "\noutro\n"
    return write_vault(tmp_path / "v", {"a.md": text})


def _settled(vault, server, told: str = "") -> None:
    """A sync right after sends nothing, writes nothing and reports nothing (but `told`)."""
    before = (vault / "a.md").read_bytes()
    server.reset_counts()
    again = sync(vault, server)
    assert nothing_to_send(again.plan) and not again.pulled, plan_lines(again.plan)
    assert not [p for p in again.problems if not (told and told in p.message)], again.problems
    assert server.requests <= 2
    assert (vault / "a.md").read_bytes() == before


def _typo_fixed_in_anki(tmp_path, server):
    """A synced vault, and its note's back edited in Anki ("chosen" -> "preferred")."""
    vault = _vault(tmp_path)
    sync(vault, server)
    (note_id,) = ids_in(vault / "a.md")
    held = anki_notes(server)[note_id]["fields"]["Back"]
    edit_in_anki(server, note_id, Back=held.replace("chosen", "preferred"))
    return vault, note_id


@RELEASES
def test_a_typo_fixed_in_anki_changes_that_word_in_the_markdown(tmp_path, anki_server):
    vault = _vault(tmp_path)
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    before = (vault / "a.md").read_text(encoding="utf-8")
    held = anki_notes(anki_server)[note_id]["fields"]["Back"]
    edit_in_anki(anki_server, note_id, Back=held.replace("chosen", "preferred"))
    report = sync(vault, anki_server)
    assert [(p.name, p.how) for p in report.pulled] == [("Back", "patch")]
    after = (vault / "a.md").read_text(encoding="utf-8")
    assert after == before.replace("chosen", "preferred")
    assert nothing_to_send(report.plan)
    _settled(vault, anki_server)


@RELEASES
def test_a_sentence_added_in_anki_comes_home_and_renders_to_what_anki_holds(tmp_path, anki_server):
    vault = _vault(tmp_path)
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    held = anki_notes(anki_server)[note_id]["fields"]["Back"]
    edited = held + "<br>It needs no reward model."  # Return, then typing, in Anki's editor
    edit_in_anki(anki_server, note_id, Back=edited)
    report = sync(vault, anki_server)
    assert [p.name for p in report.pulled] == ["Back"]
    text = (vault / "a.md").read_text(encoding="utf-8")
    # The editor writes no newline after its <br>; a markdown line break would render one.
    assert "and pushes down the rejected one<br>It needs no reward model.\nTags: ml" in text
    assert anki_notes(anki_server)[note_id]["fields"]["Back"] == edited  # nothing pushed over it
    _settled(vault, anki_server)


@RELEASES
def test_a_line_typed_bare_after_a_list_in_anki_comes_home_as_a_paragraph(tmp_path, anki_server):
    """A line typed after a list (or pasted) can stay bare beside it in Anki (`</ul>text`),
    which no markdown renders to: it comes home as the paragraph that shows the same, and
    Anki keeps the line as typed (nothing is pushed over it)."""
    vault = _vault(tmp_path, back="the two losses:\n\n- DPO\n- RLHF")
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    held = anki_notes(anki_server)[note_id]["fields"]["Back"]
    assert held.endswith("</ul>")
    edited = held + "Both need <b>preference</b> pairs."
    edit_in_anki(anki_server, note_id, Back=edited)
    report = sync(vault, anki_server)
    assert [p.name for p in report.pulled] == ["Back"] and not report.problems
    text = (vault / "a.md").read_text(encoding="utf-8")
    assert "- RLHF\n\nBoth need <b>preference</b> pairs.\nTags: ml" in text
    assert nothing_to_send(report.plan)
    assert anki_notes(anki_server)[note_id]["fields"]["Back"] == edited
    _settled(vault, anki_server)


@RELEASES
def test_tags_added_and_removed_in_anki_go_to_the_tags_line(tmp_path, anki_server):
    vault = write_vault(
        tmp_path / "v",
        {"a.md": "FILE TAGS: course\n\n" + block("Q", "A", tags="ml draft")},
    )
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    with anki_server.collection() as col:
        note = col.get_note(note_id)
        note.tags = [t for t in note.tags if t not in ("draft", "course")] + ["exam"]
        col.update_note(note)
    report = sync(vault, anki_server)
    text = (vault / "a.md").read_text(encoding="utf-8")
    assert "\nTags: ml exam\n" in text and "FILE TAGS: course" in text
    inherited = [p for p in report.problems if "'course' was removed in Anki" in p.message]
    assert inherited and inherited[0].where.line == 3
    assert "course" not in anki_notes(anki_server)[note_id]["tags"]  # not put back either
    # (Without modification times, the note is looked at, and this told, again that day.)
    _settled(vault, anki_server, told="'course' was removed in Anki")


@RELEASES
def test_edits_of_one_field_on_both_sides_that_do_not_overlap_both_land(tmp_path, anki_server):
    vault = _vault(tmp_path)
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    held = anki_notes(anki_server)[note_id]["fields"]["Back"]
    edit_in_anki(anki_server, note_id, Back=held.replace("rejected", "dispreferred"))
    text = (vault / "a.md").read_text(encoding="utf-8")
    (vault / "a.md").write_text(text.replace("the loss pushes", "the DPO loss pushes"))
    report = sync(vault, anki_server)
    assert [(p.name, p.how) for p in report.pulled] == [("Back", "merge")]
    merged = "the DPO loss pushes up the chosen answer\nand pushes down the dispreferred one"
    assert f"Back: {merged}\n" in (vault / "a.md").read_text(encoding="utf-8")
    back = anki_notes(anki_server)[note_id]["fields"]["Back"]
    assert back == merged.replace("\n", "<br>\n")
    _settled(vault, anki_server)


def _conflicting(tmp_path, server):
    vault = _vault(tmp_path)
    sync(vault, server)
    (note_id,) = ids_in(vault / "a.md")
    held = anki_notes(server)[note_id]["fields"]["Back"]
    edit_in_anki(server, note_id, Back=held.replace("chosen", "preferred"))
    text = (vault / "a.md").read_text(encoding="utf-8")
    (vault / "a.md").write_text(text.replace("chosen", "picked"))
    return vault, note_id


@RELEASES
def test_overlapping_edits_are_a_conflict_left_alone(tmp_path, anki_server):
    vault, note_id = _conflicting(tmp_path, anki_server)
    before = (vault / "a.md").read_bytes()
    result = run_cli(str(vault), "--url", anki_server.url)
    assert result.exit_code == exit_codes.CONFLICTS, result.output
    assert "a.md:5: conflict" in result.output and "--prefer" in result.output
    assert (vault / "a.md").read_bytes() == before
    assert "preferred" in anki_notes(anki_server)[note_id]["fields"]["Back"]
    again = run_cli(str(vault), "--url", anki_server.url)  # still there, still reported
    assert again.exit_code == exit_codes.CONFLICTS


@RELEASES
def test_prefer_vault_pushes_the_vaults_version(tmp_path, anki_server):
    vault, note_id = _conflicting(tmp_path, anki_server)
    before = (vault / "a.md").read_bytes()
    result = run_cli(str(vault), "--url", anki_server.url, "--prefer", "vault")
    assert result.exit_code == 0, result.output
    assert (vault / "a.md").read_bytes() == before
    back = anki_notes(anki_server)[note_id]["fields"]["Back"]
    assert "picked" in back and "preferred" not in back
    _settled(vault, anki_server)


@RELEASES
def test_prefer_anki_writes_ankis_version_home(tmp_path, anki_server):
    vault, note_id = _conflicting(tmp_path, anki_server)
    expected = (vault / "a.md").read_text(encoding="utf-8").replace("picked", "preferred")
    result = run_cli(str(vault), "--url", anki_server.url, "--prefer", "anki")
    assert result.exit_code == 0, result.output
    assert (vault / "a.md").read_text(encoding="utf-8") == expected
    assert "preferred" in anki_notes(anki_server)[note_id]["fields"]["Back"]
    _settled(vault, anki_server)


@RELEASES
def test_pull_brings_edits_home_and_sends_nothing(tmp_path, anki_server):
    vault, note_id = _typo_fixed_in_anki(tmp_path, anki_server)
    text = (vault / "a.md").read_text(encoding="utf-8")
    (vault / "a.md").write_text(text.replace("What does", "What exactly does"))
    anki_server.reset_counts()
    result = run_pull(str(vault), "--url", anki_server.url)
    assert result.exit_code == 0, result.output
    assert "a.md:8: note" in result.output and "Back from Anki" in result.output
    written = {a for a in anki_server.actions if a.startswith(("update", "add", "remove"))}
    assert not written and anki_server.actions["storeMediaFile"] == 0
    front = anki_notes(anki_server)[note_id]["fields"]["Front"]
    assert front == "What does DPO do?"  # the vault's own edit waits for a sync
    assert "preferred" in (vault / "a.md").read_text(encoding="utf-8")
    report = sync(vault, anki_server)
    assert [u.fields for u in report.plan.updates] == [{"Front": "What exactly does DPO do?"}]
    _settled(vault, anki_server)


@RELEASES
def test_dry_run_shows_the_pulled_field_as_a_diff_and_changes_nothing(tmp_path, anki_server):
    vault, note_id = _typo_fixed_in_anki(tmp_path, anki_server)
    before = (vault / "a.md").read_bytes()
    result = run_cli(str(vault), "--url", anki_server.url, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "a.md:8: note" in result.output and "Back from Anki (patch)" in result.output
    assert "    -the loss pushes up the chosen answer" in result.output
    assert "    +the loss pushes up the preferred answer" in result.output
    assert "not brought home from Anki: notes added there" in result.output
    assert (vault / "a.md").read_bytes() == before
    assert sync(vault, anki_server).pulled  # still there to bring home


@pytest.mark.parametrize("anki_server", [{"mod_times": True}], indirect=True)
def test_a_two_way_no_op_sends_one_request_and_reads_no_note(tmp_path, anki_server):
    vault = _vault(tmp_path)
    sync(vault, anki_server)
    # Anki's times are whole seconds: a note modified in the second it was read is looked at
    # once more (it could have been edited again within that second).
    time.sleep(2)
    sync(vault, anki_server)
    anki_server.reset_counts()
    report = sync(vault, anki_server)
    assert nothing_to_send(report.plan) and anki_server.requests == 1
    assert anki_server.actions["notesInfo"] == 0  # no note's fields read


@RELEASES
def test_on_the_day_of_a_push_a_no_op_tells_the_pushed_notes_by_their_fields(tmp_path, anki_server):
    """Anki's `edited:N` counts whole days and its times whole seconds: on the day of a push
    each pushed note is one Anki modified today. The no-op check reads their fields in its
    second request and tells a no-op with no whole sync; an edit made in Anki after the
    push, the same day, is still found, and comes home."""
    vault = _vault(tmp_path)
    sync(vault, anki_server)  # the push (the note's first)
    (note_id,) = ids_in(vault / "a.md")
    client = AnkiConnect(anki_server.url)
    for _ in range(2):
        anki_server.reset_counts()
        looked = unchanged_sync(vault, client, SyncOptions())
        assert looked.report is not None and nothing_to_send(looked.report.plan)
        assert anki_server.requests <= 2 and anki_server.actions["notesInfo"] <= 1
    held = anki_notes(anki_server)[note_id]["fields"]["Back"]
    edit_in_anki(anki_server, note_id, Back=held.replace("chosen", "preferred"))
    assert unchanged_sync(vault, client, SyncOptions()).report is None
    assert [p.note_id for p in sync(vault, anki_server).pulled] == [note_id]
    assert "pushes up the preferred answer" in (vault / "a.md").read_text(encoding="utf-8")
    _settled(vault, anki_server)


@pytest.mark.parametrize("anki_server", [{"mod_times": True}], indirect=True)
def test_notes_seen_before_the_days_searched_are_not_asked_their_times(tmp_path, anki_server):
    """Anki's `edited:N` search first: a no-op asks no note's time, and an edit made in Anki
    since the last sync is still found, and comes home."""
    vault = _vault(tmp_path)
    sync(vault, anki_server)
    sync(vault, anki_server)  # learns the note's time
    (note_id,) = ids_in(vault / "a.md")
    a_month_on(vault, anki_server)
    anki_server.reset_counts()
    report = sync(vault, anki_server)
    assert nothing_to_send(report.plan) and not report.pulled and anki_server.requests == 1
    assert anki_server.actions["notesModTime"] == 0 and anki_server.actions["notesInfo"] == 0
    held = anki_notes(anki_server)[note_id]["fields"]["Back"]
    edit_in_anki(anki_server, note_id, Back=held.replace("chosen", "preferred"))
    anki_server.reset_counts()
    assert [p.note_id for p in sync(vault, anki_server).pulled] == [note_id]
    assert anki_server.actions["notesModTime"] == 1
    assert "pushes up the preferred answer" in (vault / "a.md").read_text(encoding="utf-8")
    _settled(vault, anki_server)


@pytest.mark.parametrize("anki_server", [{"mod_times": True}], indirect=True)
def test_the_times_of_the_notes_pushed_today_come_with_the_search(tmp_path, anki_server):
    """The other notes last modified a month ago, one pushed today: its time is asked beside
    Anki's `edited:N` search, so that a no-op sends one request; an edit made in Anki since,
    to it or to another note (asked in a second request), is found and comes home."""
    text = block("first?", "one answer") + "\n" + block("second?", "another answer")
    vault = write_vault(tmp_path / "v", {"a.md": text})
    sync(vault, anki_server)
    sync(vault, anki_server)
    first, second = ids_in(vault / "a.md")
    a_month_on(vault, anki_server)
    markdown = (vault / "a.md").read_text(encoding="utf-8")
    (vault / "a.md").write_text(markdown.replace("one answer", "one pushed"), encoding="utf-8")
    assert [u.note_id for u in sync(vault, anki_server).plan.updates] == [first]
    time.sleep(2)  # (a note modified in the second its time was read is read once more)
    sync(vault, anki_server)
    anki_server.reset_counts()
    report = sync(vault, anki_server)
    assert nothing_to_send(report.plan) and anki_server.requests == 1
    assert anki_server.actions["notesModTime"] == 1 and anki_server.actions["notesInfo"] == 0
    for note_id, old, new in ((first, "pushed", "fixed"), (second, "another", "a fixed")):
        held = anki_notes(anki_server)[note_id]["fields"]["Back"]
        edit_in_anki(anki_server, note_id, Back=held.replace(old, new))
        assert [p.note_id for p in sync(vault, anki_server).pulled] == [note_id]
    markdown = (vault / "a.md").read_text(encoding="utf-8")
    assert "one fixed" in markdown and "a fixed answer" in markdown


@pytest.mark.parametrize("anki_server", [{"mod_times": True}], indirect=True)
@pytest.mark.parametrize(
    ("days_since_sync", "after_ankiweb"), [(1, False), (0, True)], ids=["next day", "ankiweb"]
)
def test_an_edit_older_than_the_search_reaches_is_found_the_next_day_or_after_ankiweb(
    tmp_path, anki_server, days_since_sync, after_ankiweb
):
    """An edit made on another device days ago, which came to this Anki through AnkiWeb since
    the last sync: the first sync of a day, and one after AnkiWeb's, ask every note's time."""
    vault = _vault(tmp_path)
    sync(vault, anki_server)
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    a_month_on(vault, anki_server, days_since_sync)
    held = anki_notes(anki_server)[note_id]["fields"]["Back"]
    edit_in_anki(anki_server, note_id, Back=held.replace("chosen", "preferred"))
    with anki_server.collection() as col:
        col.db.execute(
            "update notes set mod = ? where id = ?", int(time.time()) - 5 * 86400, note_id
        )
    anki_server.reset_counts()
    report = sync(vault, anki_server, after_ankiweb=after_ankiweb)
    assert [p.note_id for p in report.pulled] == [note_id]
    assert "pushes up the preferred answer" in (vault / "a.md").read_text(encoding="utf-8")


@RELEASES
def test_a_file_edited_while_the_pull_runs_keeps_the_users_edit(tmp_path, anki_server, monkeypatch):
    """A stand-in for timing (the user saves between notecards' read and its write), which a
    real run cannot be made to hit: the user's save is made just before the write."""
    vault, note_id = _typo_fixed_in_anki(tmp_path, anki_server)
    import notecards.sync.run as run

    real_write = run.write_fields

    def users_save_first(*args, **kwargs):
        text = (vault / "a.md").read_text(encoding="utf-8")
        (vault / "a.md").write_text(text.replace("rejected", "worse"), encoding="utf-8")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(run, "write_fields", users_save_first)
    report = sync(vault, anki_server)
    monkeypatch.undo()
    text = (vault / "a.md").read_text(encoding="utf-8")
    assert "worse" in text and "preferred" not in text  # the user's edit, untouched
    assert any("changed on disk" in p.message for p in report.problems)
    assert "preferred" in anki_notes(anki_server)[note_id]["fields"]["Back"]  # and Anki's
    sync(vault, anki_server)  # next time both edits are there to merge
    text = (vault / "a.md").read_text(encoding="utf-8")
    assert "preferred" in text and "worse" in text
    assert "worse" in anki_notes(anki_server)[note_id]["fields"]["Back"]


@RELEASES
def test_anki_putting_back_the_old_field_over_an_update_is_not_an_edit(tmp_path, anki_server):
    """Anki's editor, open on a note while sync updates it, saves its own copy over the update
    (AnkiConnect #82; the real desktop does it in tests/sync/test_real_anki.py): the vault's
    edit must not be lost to a pull of the old text."""
    vault = _vault(tmp_path)
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    old = anki_notes(anki_server)[note_id]["fields"]["Back"]
    text = (vault / "a.md").read_text(encoding="utf-8").replace("chosen", "preferred")
    (vault / "a.md").write_text(text, encoding="utf-8")
    sync(vault, anki_server)
    edit_in_anki(anki_server, note_id, Back=old)  # the editor's save, 0.6 s later
    report = sync(vault, anki_server)
    assert (vault / "a.md").read_text(encoding="utf-8") == text and not report.pulled
    assert any("put back the old Back" in p.message for p in report.problems)
    assert "preferred" in anki_notes(anki_server)[note_id]["fields"]["Back"]


@pytest.mark.parametrize(
    "anki_server", [{"mod_times": True}, {}], indirect=True, ids=["refused", "synced"]
)
def test_ankiweb_is_asked_before_and_after_and_a_refusal_is_a_warning(
    tmp_path, anki_server, request
):
    vault = _vault(tmp_path)
    result = run_cli(str(vault), "--url", anki_server.url, "--ankiweb")
    assert result.exit_code == 0, result.output
    assert anki_server.actions["sync"] == 2 and len(anki_notes(anki_server)) == 1
    refused = "did not sync with AnkiWeb before the local sync (AnkiConnect refused sync: sync:"
    # 25.11 refuses without a login; the 2023 release answers success (and opens a window)
    assert (refused in result.output) == ("refused" in request.node.callspec.id)


@RELEASES
@pytest.mark.parametrize(
    "text", ["a control \x1b character", "cafe\u0301 decomposed"], ids=["control", "nfd"]
)
def test_how_anki_stores_a_field_is_not_an_edit(tmp_path, anki_server, text):
    """Anki drops some control characters and composes Unicode when it stores a field: the
    author's bytes stay as they wrote them, and nothing is pulled or pushed for it."""
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", text)})
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    assert anki_notes(anki_server)[note_id]["fields"]["Back"] != text  # Anki's own form
    written = (vault / "a.md").read_bytes()
    assert text.encode() in written
    _settled(vault, anki_server)


@RELEASES
@pytest.mark.parametrize(
    "tags", ["\x08", "a::::b", "cafe\u0301"], ids=["control", "empty-part", "nfd"]
)
def test_how_anki_stores_a_tag_is_not_an_edit(tmp_path, anki_server, tags):
    """A tag Anki stores in another form (a control character dropped, an empty part named
    `blank`, Unicode composed) is that tag, not an edit made in Anki: the Tags line keeps the
    author's bytes and a sync after sends nothing (found by bench/fuzz_cli.py)."""
    vault = _vault(tmp_path, tags=tags)
    sync(vault, anki_server)
    written = (vault / "a.md").read_bytes()
    assert f"Tags: {tags}\n".encode() in written
    _settled(vault, anki_server)


@RELEASES
def test_an_edit_inside_embedded_text_never_replaces_the_embed(tmp_path, anki_server):
    topic = "# Topic\n\n## Loss\n\nthe loss is small\n"
    card = block("Q", "Intro line.\n\n![[Topic#Loss]]")
    vault = write_vault(tmp_path / "v", {"a.md": card, "Topic.md": topic})
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    held = anki_notes(anki_server)[note_id]["fields"]["Back"]
    assert "the loss is small" in held  # the section is shown on the card
    before = (vault / "a.md").read_bytes()
    edit_in_anki(anki_server, note_id, Back=held.replace("small", "tiny"))
    report = sync(vault, anki_server)
    assert (vault / "a.md").read_bytes() == before and not report.pulled
    assert any("embeds from another note" in p.message for p in report.problems)
    assert "tiny" in anki_notes(anki_server)[note_id]["fields"]["Back"]  # kept there


def test_a_time_is_kept_as_seen_when_it_was_asked_not_when_the_sync_ends():
    """Anki's times are whole seconds: a note edited in the second its time was read, after
    the read, keeps that time. A sync that records the time seconds after asking it (a
    large push, a slow Anki) must still keep it a second earlier, so that the next sync
    looks at the note; an older time is kept as it is."""
    asked_at = time.time() - 3  # the request was sent 3 s before the sync records its answer
    read_in_its_second, older = int(asked_at), int(asked_at) - 5
    state = SyncState(notes={n: PushedNote("d", {}, [], "D", "a.md") for n in (1, 2)})
    _remember_anki(state, [({1: read_in_its_second, 2: older}, asked_at)], set())
    assert state.notes[1].anki_mod == read_in_its_second - 1  # an edit within it is found
    assert state.notes[2].anki_mod == older
    edited_after_the_read = AnkiSnapshot(
        {}, {1, 2}, {}, [], False, {1: read_in_its_second, 2: older}, set(), asked_at
    )
    assert edited_after_the_read.edited_since(state) == {1}


@RELEASES
def test_an_edit_made_in_the_second_anki_was_read_comes_home_after_a_slow_sync(
    tmp_path, anki_server
):
    """Anki's times are whole seconds: an edit made in Anki right after notecards read the
    note, within the second its time was read, leaves that time as read. The sync that read
    it then runs on for more than a second (Anki slow to answer); the next sync must still
    look at the note, and bring the edit home."""
    vault = _vault(tmp_path, back="the first answer")
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    times = []

    def edit_again_and_answer_slowly(col) -> None:
        note = col.get_note(note_id)
        note["Back"] = note["Back"].replace("answer", "reply")
        col.update_note(note)
        times.append(col.get_note(note_id).mod)
        time.sleep(2)  # a slow Anki: the sync records what it read seconds after the read

    time.sleep(1 - time.time() % 1)  # a second begins: the read and both edits fall in it
    held = anki_notes(anki_server)[note_id]["fields"]["Back"]
    edit_in_anki(anki_server, note_id, Back=held.replace("first", "1st"))
    with anki_server.collection() as col:
        times.append(col.get_note(note_id).mod)
    anki_server.after_answer("notesInfo", edit_again_and_answer_slowly)
    report = sync(vault, anki_server)
    assert times[0] == times[1], "the second edit fell in another second: a slow machine?"
    assert [p.name for p in report.pulled] == ["Back"]
    assert "Back: the 1st answer\n" in (vault / "a.md").read_text(encoding="utf-8")
    report = sync(vault, anki_server)
    assert [p.name for p in report.pulled] == ["Back"]
    assert "Back: the 1st reply\n" in (vault / "a.md").read_text(encoding="utf-8")
    _settled(vault, anki_server)


@RELEASES
def test_a_pull_and_new_cards_in_one_file_each_land_where_they_belong(tmp_path, anki_server):
    """The pull writes a file (words added to a field: the text after it moved, on the same
    lines), then the push writes a new card's ID and removes a DELETE line in the same file:
    each is placed on the file as the pull left it, not at the offsets parsed before it."""
    vault = write_vault(tmp_path / "v", {"a.md": block("Q1", "A1") + "\n" + block("Q2", "A2")})
    sync(vault, anki_server)
    first, second = ids_in(vault / "a.md")
    edit_in_anki(anki_server, first, Back="A1 from the phone")
    text = (vault / "a.md").read_text(encoding="utf-8")
    gone = text[text.index("START", 1) :]  # the second block
    text = text.replace(gone, f"DELETE\n<!--ID: {second}-->\n\n" + block("Q3", "A3"))
    (vault / "a.md").write_text(text, encoding="utf-8")
    report = sync(vault, anki_server)
    assert [p.note_id for p in report.pulled] == [first]
    after = (vault / "a.md").read_text(encoding="utf-8")
    (third,) = [nid for nid in ids_in(vault / "a.md") if nid != first]
    assert after == block("Q1", "A1 from the phone", note_id=first) + "\n\n" + block(
        "Q3", "A3", note_id=third
    )
    assert sorted(anki_notes(anki_server)) == sorted([first, third])
    again = sync(vault, anki_server)
    assert nothing_to_send(again.plan) and not again.pulled


@RELEASES
def test_the_files_a_pull_wrote_are_reported_beside_those_ids_went_into(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q1", "A1"), "b.md": block("Q2", "A2")})
    sync(vault, anki_server)
    (first,) = ids_in(vault / "a.md")
    edit_in_anki(anki_server, first, Back="A1 from the phone")
    with (vault / "b.md").open("a", encoding="utf-8") as b:
        b.write("\n" + block("Q3", "A3"))
    report = sync(vault, anki_server)
    assert [p.note_id for p in report.pulled] == [first] and len(report.written_ids) == 1
    assert not report.problems and len(ids_in(vault / "b.md")) == 2
    assert report.files_written == ["a.md", "b.md"]


def _holds_notes(store) -> int:
    """How many notes the pushed fields' store holds (0 while it is missing or being written)."""
    try:
        with closing(sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True)) as db:
            return db.execute("SELECT count(*) FROM fields").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_saves_made_while_anki_answers_the_last_request(tmp_path, anki_server):
    """The store of pushed fields (a transaction and its fsyncs) and the parse cache (the IDs
    written) are saved while Anki works on the sync's last request, not after its answer:
    here that answer waits for them."""
    vault = _vault(tmp_path)
    store, parses = vault / PUSHED_FIELDS, vault / PARSE_CACHE
    seen = []

    def wait_for_saves(col) -> None:
        deadline = time.monotonic() + 10
        while not (_holds_notes(store) and parses.exists()) and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append((_holds_notes(store), parses.read_text() if parses.exists() else ""))

    anki_server.after_answer("removeTags", wait_for_saves)
    report = sync(vault, anki_server)
    assert len(report.plan.adds) == 1 and not report.problems
    [(notes, cache)] = seen
    assert notes == 1 and str(ids_in(vault / "a.md")[0]) in cache
