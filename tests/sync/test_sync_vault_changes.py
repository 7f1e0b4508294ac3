"""What a sync notices besides a block's own text: the files its links and embeds name, media
whose bytes changed, and an ID that could not reach its file. Against the AnkiConnect test
server, whose storage is a real Anki collection."""

from __future__ import annotations

import os
from pathlib import Path

from notecards.sync.recovery import PENDING_TAG
from notecards.sync.state import load_state
from tests.helpers.sync import anki_notes, nothing_to_send, run_cli, sync
from tests.helpers.vault import block, ids_in, write_vault

PNG = b"\x89PNG\r\n\x1a\nfirst picture"


def _anki_media(server, name: str) -> bytes:
    with server.collection() as col:
        return (Path(col.media.dir()) / name).read_bytes()


def test_an_unchanged_note_whose_link_target_was_renamed_gets_the_new_link(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "see [[b]]"), "sub/b.md": "b\n"})
    sync(vault, anki_server)
    (note_id,) = ids_in(vault / "a.md")
    assert "file=sub%2Fb" in anki_notes(anki_server)[note_id]["fields"]["Back"]
    (vault / "sub" / "b.md").rename(vault / "sub" / "c.md")
    report = sync(vault, anki_server)
    assert [u.note_id for u in report.plan.updates] == [note_id] and report.plan.unchanged == 0
    back = anki_notes(anki_server)[note_id]["fields"]["Back"]
    assert "sub%2Fb" not in back and "file=b" in back  # now links to the name, as Obsidian does
    assert nothing_to_send(sync(vault, anki_server).plan)  # and then it is unchanged again


def test_an_embedded_file_moved_to_another_folder_keeps_syncing(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": block("Plot", "![[pic.png]]")})
    (vault / "pic.png").write_bytes(PNG)
    sync(vault, anki_server)
    (vault / "img").mkdir()
    (vault / "pic.png").rename(vault / "img" / "pic.png")  # Obsidian still finds it by name
    moved = run_cli(str(vault), "--url", anki_server.url)
    assert moved.exit_code == 0, moved.output
    again = sync(vault, anki_server)
    assert not again.errors and nothing_to_send(again.plan) and again.plan.unchanged == 1
    (vault / "img" / "pic.png").write_bytes(PNG + b", edited")  # its new place is followed
    assert [m.source for m in sync(vault, anki_server).plan.media] == ["img/pic.png"]
    assert _anki_media(anki_server, "pic.png") == PNG + b", edited"


def test_media_with_the_size_and_mtime_it_was_stored_with_is_not_read_again(tmp_path, anki_server):
    """As for build: the same size and mtime mean the same file, so a no-op sync hashes no
    media. Shown by changing the bytes behind its back: it is believed until the mtime moves."""
    vault = write_vault(tmp_path / "v", {"a.md": block("Plot", "![[plot.png]]")})
    picture = vault / "plot.png"
    picture.write_bytes(PNG)
    sync(vault, anki_server)
    stored = picture.stat()
    picture.write_bytes(PNG.replace(b"first", b"other"))  # same size
    os.utime(picture, ns=(stored.st_atime_ns, stored.st_mtime_ns))
    assert sync(vault, anki_server).plan.media == []
    assert _anki_media(anki_server, "plot.png") == PNG
    os.utime(picture, ns=(stored.st_atime_ns, stored.st_mtime_ns + 1_000_000_000))
    assert [m.anki_name for m in sync(vault, anki_server).plan.media] == ["plot.png"]
    assert _anki_media(anki_server, "plot.png") == PNG.replace(b"first", b"other")
    os.utime(picture, ns=(stored.st_atime_ns, stored.st_mtime_ns + 5_000_000_000))
    assert sync(vault, anki_server).plan.media == []  # touched, same bytes: nothing to send


def _refuse_write(*args, **kwargs):
    raise PermissionError(13, "Permission denied")


def test_an_id_that_cannot_reach_its_file_stays_pending_and_the_next_sync_recovers_it(
    tmp_path, anki_server, monkeypatch
):
    vault = write_vault(tmp_path / "v", {"sub/a.md": "intro\n\n" + block("Q", "A")})
    folder = vault / "sub"
    os.chmod(folder, 0o555)  # no temp file can be made beside a.md
    try:
        probe = folder / "probe"
        try:
            probe.touch()
        except PermissionError:
            pass
        else:  # running as root, which ignores permissions: the real fault cannot happen here
            probe.unlink()
            # (a mock: the temp file beside a.md is refused, in a batch and on its own)
            monkeypatch.setattr("notecards.vault.writeback.stage", _refuse_write)
            monkeypatch.setattr("notecards.vault.writeback._atomic_replace", _refuse_write)
        report = sync(vault, anki_server)
    finally:
        os.chmod(folder, 0o755)
        monkeypatch.undo()
    assert report.written_ids == [] and report.errors and report.files_written == []
    (note_id,) = anki_notes(anki_server)
    assert any(t.startswith(PENDING_TAG) for t in anki_notes(anki_server)[note_id]["tags"])
    assert load_state(vault, anki_server.url).pending_tag  # still journaled
    assert ids_in(vault / "sub" / "a.md") == []

    again = sync(vault, anki_server)
    assert again.recovered == [f"sub/a.md:3: note {note_id} (ID written)"]
    assert ids_in(vault / "sub" / "a.md") == [note_id]
    assert list(anki_notes(anki_server)) == [note_id]
    assert not any(t.startswith(PENDING_TAG) for t in anki_notes(anki_server)[note_id]["tags"])
    assert load_state(vault, anki_server.url).pending_tag == ""
