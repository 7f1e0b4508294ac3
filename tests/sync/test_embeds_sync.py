"""What a sync notices about a card's embeds: the section it embeds is shown on the card, and a
change to that section is pushed though the card's own text did not change. Against the
AnkiConnect test server, whose storage is a real Anki collection."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from notecards.cli import cli
from tests.helpers.sync import anki_notes, nothing_to_send, run_cli, sync
from tests.helpers.vault import block, ids_in, write_vault

TOPIC = "# Topic\n\n## Loss\nthe loss is $\\ell$\n\n## Other\nnot embedded\n"


def _vault(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "v", {"a.md": block("Q", "![[Topic#Loss]]"), "notes/Topic.md": TOPIC}
    )


def _back(server, note_id: int) -> str:
    return anki_notes(server)[note_id]["fields"]["Back"]


def test_the_embedded_section_is_what_anki_shows(tmp_path, anki_server):
    vault = _vault(tmp_path)
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    assert _back(anki_server, note_id) == "<h2>Loss</h2>\n<p>the loss is \\(\\ell\\)</p>"
    assert nothing_to_send(sync(vault, anki_server).plan)


def test_a_changed_embedded_section_is_pushed(tmp_path, anki_server):
    vault = _vault(tmp_path)
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    (vault / "notes" / "Topic.md").write_text(TOPIC.replace("the loss", "the new loss"))
    report = sync(vault, anki_server)
    assert [u.note_id for u in report.plan.updates] == [note_id]
    assert _back(anki_server, note_id) == "<h2>Loss</h2>\n<p>the new loss is \\(\\ell\\)</p>"


def test_a_changed_embedded_section_is_pushed_with_the_file_list_changed(tmp_path, anki_server):
    """When the vault's file list changed too, each record's deps are looked at again."""
    vault = _vault(tmp_path)
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    (vault / "notes" / "Topic.md").write_text(TOPIC.replace("the loss", "the new loss"))
    (vault / "notes" / "another.md").write_text("a new note\n")
    dry = sync(vault, anki_server, dry_run=True)
    assert [u.note_id for u in dry.plan.updates] == [note_id]
    report = sync(vault, anki_server)
    assert [u.note_id for u in report.plan.updates] == [note_id]
    assert _back(anki_server, note_id) == "<h2>Loss</h2>\n<p>the new loss is \\(\\ell\\)</p>"
    assert nothing_to_send(sync(vault, anki_server).plan)


def test_a_change_elsewhere_in_the_embedded_note_sends_nothing(tmp_path, anki_server):
    vault = _vault(tmp_path)
    sync(vault, anki_server)
    (vault / "notes" / "Topic.md").write_text(TOPIC.replace("not embedded", "edited"))
    (vault / "notes" / "another.md").write_text("a new note\n")  # so the deps are looked at
    assert nothing_to_send(sync(vault, anki_server).plan)


def test_dry_run_says_which_embed_made_the_note_change(tmp_path, anki_server):
    vault = _vault(tmp_path)
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    (vault / "notes" / "Topic.md").write_text(TOPIC.replace("the loss", "the new loss"))
    result = run_cli(str(vault), "--url", anki_server.url, "--dry-run")
    assert result.exit_code == 0, result.output
    line = f"{vault}/a.md:1: note {note_id}: fields Back, because embed ![[Topic#Loss]] changed"
    assert line in result.stdout.splitlines()
    dry_json = run_cli(str(vault), "--url", anki_server.url, "--dry-run", "--json")
    as_json = json.loads(dry_json.stdout)
    assert [u["because"] for u in as_json["update"]] == [["embed ![[Topic#Loss]] changed"]]


def test_a_note_whose_own_text_changed_names_no_embed(tmp_path, anki_server):
    vault = _vault(tmp_path)
    sync(vault, anki_server)
    (vault / "a.md").write_text((vault / "a.md").read_text().replace("Q", "Q2"))
    (update,) = sync(vault, anki_server, dry_run=True).plan.updates
    assert update.because == ()


def test_an_embed_that_cannot_be_shown_is_a_warning_in_sync_too(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "see ![[Nowhere#Gone]]")})
    result = run_cli(str(vault), "--url", anki_server.url)
    assert result.exit_code == 0, result.output
    check = CliRunner().invoke(cli, ["check", str(vault)])
    warning = next(line for line in check.output.splitlines() if "Nowhere" in line)
    assert warning in result.stderr.splitlines()
    assert len(sync(vault, anki_server, dry_run=True).problems) == 0  # unchanged: not again


def test_a_changed_embedded_file_that_holds_no_notes_is_pushed(tmp_path, anki_server):
    """A file outside `scan_dir` is not one of the files sync reads; its text still shows."""
    vault = write_vault(
        tmp_path / "v",
        {
            "notecards.yaml": "scan_dir: cards\n",
            "cards/a.md": block("Q", "![[Topic#Loss]]"),
            "Topic.md": TOPIC,
        },
    )
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "cards" / "a.md")
    (vault / "Topic.md").write_text(TOPIC.replace("the loss", "the new loss"))
    report = sync(vault, anki_server)
    assert [u.note_id for u in report.plan.updates] == [note_id]
    assert _back(anki_server, note_id) == "<h2>Loss</h2>\n<p>the new loss is \\(\\ell\\)</p>"
