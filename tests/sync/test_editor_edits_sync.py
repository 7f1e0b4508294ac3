"""Every recording in ../shared/ankiconnect/editor-edits.jsonl, through a whole two-way sync.

Each line is a field as Anki's real editor left it after a person's edit (or after the note
was only opened): the vault it came from is synced into the test server, the field is set to
what the editor stored, and a sync brings it home. An edit must land in that field's lines
alone, render back to what Anki holds (so nothing is sent for it), and leave a second sync
with nothing to do; an only-opened note must change nothing at all. The converter-level
checks of the same recordings are in tests/pull/test_editor_edits.py; that opening a note
changes nothing, byte for byte against what notecards renders, in tests/render/test_anki_form.py.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from notecards.render.anki_form import anki_form
from notecards.vault import load_vault
from tests.helpers.ankiconnect_server import AnkiConnectServer
from tests.helpers.paths import SHARED, USER_NOTES
from tests.helpers.sync import anki_notes, edit_in_anki, nothing_to_send, sync

RECORDINGS = SHARED / "ankiconnect" / "editor-edits.jsonl"
VAULTS = [USER_NOTES, *sorted((SHARED / "ankiconnect" / "editor-edits-vaults").glob("*"))]


def _recordings() -> list[dict]:
    if not RECORDINGS.is_file():
        return []
    lines = [json.loads(line) for line in RECORDINGS.read_text(encoding="utf-8").splitlines()]
    return [r for r in lines if r["field"] != "tags"]


def _vault_of(note_id: int) -> Path:
    for vault in VAULTS:
        if any(
            f"<!--ID: {note_id}-->" in p.read_text(encoding="utf-8") for p in vault.rglob("*.md")
        ):
            return vault
    raise LookupError(f"no vault holds note {note_id}")


pytestmark = pytest.mark.skipif(
    not RECORDINGS.is_file(), reason=f"the editor recordings are not here ({RECORDINGS})"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with AnkiConnectServer(tmp_path_factory.mktemp("anki") / "collection.anki2") as running:
        yield running


@pytest.mark.parametrize(
    "recording", _recordings(), ids=lambda r: f"{r['kind']}-{r['note_id']}-{r['field']}"
)
def test_the_editors_field_comes_home_as_the_persons_edit(tmp_path, server, recording):
    source = _vault_of(recording["note_id"])
    # The vault's name is in the links the recording holds (the folder it was synced from).
    named = re.search(r"obsidian://open\?vault=([^&]+)&", recording["html_after"])
    vault = tmp_path / (named.group(1) if named else source.name)
    shutil.copytree(source, vault)
    for path in [vault, *vault.rglob("*")]:  # ../shared may be read-only; the copy is the user's
        path.chmod(0o755 if path.is_dir() else 0o644)
    first = sync(vault, server)  # no state yet: Anki is made to match the vault
    assert not first.errors, first.problems
    note_id, name = recording["note_id"], recording["field"]
    before = {p: p.read_bytes() for p in vault.rglob("*.md")}
    pushed = anki_notes(server)[note_id]["fields"][name]
    # A recording made after an earlier one on the same note starts from that edit: then the
    # vault's field, not the recording's `html_before`, is what the person's edits changed.
    edited = anki_form(recording["html_after"]) != anki_form(pushed)
    edit_in_anki(server, note_id, **{name: recording["html_after"]})
    server.reset_counts()
    report = sync(vault, server)
    assert not report.errors, report.problems
    assert server.actions["updateNoteFields"] == 0  # what came home renders to what Anki holds
    after = {p: p.read_bytes() for p in vault.rglob("*.md")}
    if not edited:
        assert after == before and not report.pulled  # opening a note is no edit
    else:
        assert [(p.note_id, p.name) for p in report.pulled] == [(note_id, name)]
        changed = [p for p in after if after[p] != before[p]]
        assert len(changed) == 1
        note = next(n for n in load_vault(vault).parsed.notes if n.note_id == note_id)
        span = note.field_spans[name]
        old, new = before[changed[0]].decode(), after[changed[0]].decode()
        assert new[: span.start] == old[: span.start]  # every byte before the field kept
        assert new[span.end :] == old[len(old) - (len(new) - span.end) :]  # and after it
    held = anki_notes(server)[note_id]["fields"][name]
    assert anki_form(held) == anki_form(recording["html_after"])
    server.reset_counts()
    again = sync(vault, server)
    assert nothing_to_send(again.plan) and not again.pulled and not again.problems
