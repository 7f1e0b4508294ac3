"""`notecards watch`: a real watch process against the AnkiConnect test server (a real Anki
collection). Every wait is on something observable (a line the watch prints, a request the
server receives), with a generous limit; no test sleeps for a fixed time."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from notecards.exit_codes import INTERRUPTED, OK, PARTIAL
from notecards.sync.recovery import PENDING_TAG
from notecards.vault.lock import vault_lock
from notecards.vault.state_dir import STATE_DIR
from notecards.watch.changes import VaultChanges
from tests.commands.watch_process import WAIT_S, WatchProcess
from tests.helpers.ankiconnect_server import AnkiConnectServer
from tests.helpers.collection import AnkiCollection
from tests.helpers.paths import REPO
from tests.helpers.sync import anki_notes, nothing_to_send, sync
from tests.helpers.vault import block, ids_in, write_vault

# Long enough that a burst written in a loop never spans it, even on a loaded machine.
BURST_DEBOUNCE = "2"


@pytest.fixture
def watches():
    """Start watches with `watches(vault, *args)`; any still running is killed at the end."""
    started: list[WatchProcess] = []

    def start(vault: Path, *args: str) -> WatchProcess:
        started.append(WatchProcess(vault, *args))
        return started[-1]

    yield start
    for watch in started:
        watch.kill()


class Gate:
    """Holds the first request to the server that names `action` until `open()`: a sync
    caught mid-way, at a moment the test chooses."""

    def __init__(self, server: AnkiConnectServer, *actions: str):
        self.reached = threading.Event()
        self._open = threading.Event()
        answer = server.answer

        def gated(body: bytes) -> bytes:
            if not self.reached.is_set() and any(f'"{a}"'.encode() in body for a in actions):
                self.reached.set()
                assert self._open.wait(WAIT_S), "the test never opened the gate"
            return answer(body)

        server.answer = gated  # type: ignore[method-assign]

    def wait(self) -> None:
        assert self.reached.wait(WAIT_S), "the sync never reached the gate"

    def open(self) -> None:
        self._open.set()


def _backs(server: AnkiConnectServer) -> list[str]:
    return sorted(note["fields"]["Back"] for note in anki_notes(server).values())


def test_a_burst_of_saves_makes_one_sync_and_anki_holds_the_last(tmp_path, anki_server, watches):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "v0"), "b.md": block("B", "b0")})
    watch = watches(vault, "--url", anki_server.url, "--debounce", BURST_DEBOUNCE)
    watch.ready(said=r" 2 files: 2 added$")  # the start: what changed unwatched
    text = (vault / "a.md").read_text()  # with its ID, written by the first sync
    for n in range(1, 6):  # as an editor saves while the user types
        (vault / "a.md").write_text(text.replace("v0", f"v{n}"))
    watch.wait_for("out", r"a\.md: 1 updated$")
    # A save elsewhere, then its sync: any second sync of the burst would have come before.
    (vault / "b.md").write_text((vault / "b.md").read_text().replace("b0", "b1"))
    watch.wait_for("out", r"b\.md: 1 updated$")
    assert [line.split(" ", 1)[1] for line in watch.out[1:]] == [
        "a.md: 1 updated",
        "b.md: 1 updated",
    ]
    assert _backs(anki_server) == ["b1", "v5"]
    assert watch.interrupt() == INTERRUPTED


def test_an_id_written_during_an_edit_keeps_the_edit(tmp_path, anki_server, watches):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "old")})
    watch = watches(vault, "--url", anki_server.url, "--debounce", "0.2")
    watch.ready()
    gate = Gate(anki_server, "importPackage", "addNotes")
    note = vault / "a.md"
    note.write_text(note.read_text() + "\n" + block("New", "new"))
    gate.wait()  # the sync is adding the new note: it read the file before this edit
    note.write_text(note.read_text().replace("Back: old", "Back: typed meanwhile"))
    gate.open()
    watch.wait_for("out", r"a\.md: 1 added$")
    watch.wait_for("out", r"a\.md: 1 updated$")  # the edit, synced once the ID was in
    text = note.read_text()
    assert "Back: typed meanwhile" in text and "Back: new" in text
    assert len(ids_in(note)) == 2
    assert _backs(anki_server) == ["new", "typed meanwhile"]
    assert watch.interrupt() == INTERRUPTED


def test_anki_closed_is_said_once_and_the_vault_syncs_when_it_is_back(
    tmp_path, anki_server, watches
):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "v0")})
    watch = watches(vault, "--url", anki_server.url, "--debounce", "0.2", "--json")
    watch.wait_for_json(lambda run: run["ok"])
    collection = tmp_path / "anki" / "collection.anki2"
    port = int(anki_server.url.rsplit(":", 1)[1])
    anki_server.stop()
    note = vault / "a.md"
    for n in (1, 2):  # two saves, each a run that cannot reach Anki
        note.write_text(note.read_text().replace(f"v{n - 1}", f"v{n}"))
        watch.wait_for_json(lambda run: run["exit_code"] == 3)
    restarted = AnkiConnectServer(collection, port=port).start()
    try:
        run = watch.wait_for_json(lambda run: run["ok"])
        assert run["counts"]["update_fields"] == 1
        assert _backs(restarted) == ["v2"]
        assert watch.interrupt() == INTERRUPTED
    finally:
        restarted.stop()
    assert sum("Could not reach Anki" in line for line in watch.err) == 1


def test_ctrl_c_during_a_sync_stops_once_it_has_finished(tmp_path, anki_server, watches):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "a")})
    watch = watches(vault, "--url", anki_server.url, "--debounce", "0.2")
    watch.ready()
    gate = Gate(anki_server, "importPackage", "addNotes")
    note = vault / "a.md"
    note.write_text(note.read_text() + "\n" + block("New", "new"))
    gate.wait()
    watch.process.send_signal(signal.SIGINT)  # as Ctrl-C in its terminal
    watch.wait_for("err", r"^stopping once this run has finished")
    gate.open()
    assert watch.wait() == INTERRUPTED
    assert any(line.endswith("a.md: 1 added") for line in watch.out)
    assert len(ids_in(note)) == 2  # the new note's ID is in its file
    with vault_lock(vault, wait_s=0):  # released
        pass
    again = sync(vault, anki_server)  # the state was saved: nothing left to do or recover
    assert nothing_to_send(again.plan) and not again.recovered
    assert not any(
        PENDING_TAG in tag for n in anki_notes(anki_server).values() for tag in n["tags"]
    )
    assert not list(vault.rglob("*.notecards.tmp"))


def _watch_once(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "notecards", "watch", "--once", *args]
    env = {"PYTHONPATH": str(REPO), "PATH": ""}
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env)


def test_once_syncs_the_good_files_and_says_where_the_error_is(tmp_path, anki_server):
    vault = write_vault(
        tmp_path / "v",
        {"good.md": block("Q", "a"), "typing.md": block("T", "t") + "START\nBasic\nhalf\n"},
    )
    done = _watch_once(str(vault), "--url", anki_server.url)
    assert done.returncode == PARTIAL, done.stderr
    assert f"{vault}/typing.md:" in done.stderr and "START without END" in done.stderr
    assert done.stdout.split(" ", 1)[1].startswith("2 files: 1 added, 1 error")
    assert len(ids_in(vault / "good.md")) == 1 and ids_in(vault / "typing.md") == []
    assert _backs(anki_server) == ["a"]
    (vault / "typing.md").write_text(block("T", "t"))
    fixed = _watch_once(str(vault), "--url", anki_server.url)
    assert fixed.returncode == OK, fixed.stderr
    assert fixed.stdout.split(" ", 1)[1] == "typing.md: 1 added\n"
    assert _backs(anki_server) == ["a", "t"]
    # A synced note in a file with an error waits in Anki as it was: neither deleted nor
    # updated, and the same note once the file is whole again.
    synced = (vault / "typing.md").read_text().replace("Back: t", "Back: t2")
    (vault / "typing.md").write_text(synced + "START\nBasic\nhalf\n")
    assert _watch_once(str(vault), "--url", anki_server.url).returncode == PARTIAL
    ids = set(anki_notes(anki_server))
    assert _backs(anki_server) == ["a", "t"]
    (vault / "typing.md").write_text(synced)
    assert _watch_once(str(vault), "--url", anki_server.url).returncode == OK
    assert set(anki_notes(anki_server)) == ids and _backs(anki_server) == ["a", "t2"]


def test_build_rebuilds_the_package_on_save(tmp_path, watches):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "a")})
    package = vault / "cards.apkg"  # inside the vault: its own writes must not wake it
    watch = watches(vault, "--build", str(package), "--debounce", "0.2")
    watch.ready(said=re.escape(f"wrote {package}: 1 note, 1 ID written") + "$")
    (vault / "b.md").write_text(block("B", "b"))
    watch.wait_for("out", r": 2 notes, 1 ID written$")
    assert watch.interrupt() == INTERRUPTED
    assert len(watch.out) == 2  # neither the package nor the IDs it wrote made a build
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(package)
        assert sorted(n.fields["Back"] for n in anki.notes().values()) == ["a", "b"]


def test_the_watch_ignores_its_own_folder_and_temp_files(tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": "x"})
    (vault / STATE_DIR).mkdir()
    with VaultChanges(vault, debounce_s=0.2) as changes:
        (vault / STATE_DIR / "sync-state.json").write_text("{}")
        (vault / ".a.md.abcd1234.notecards.tmp").write_text("temp")
        (vault / ".obsidian").mkdir()
        (vault / ".obsidian" / "workspace.json").write_text("{}")
        (vault / "a.md").write_text("y")  # last, so the burst holds everything before it
        assert changes.next_burst(timeout_s=WAIT_S) == {"a.md"}
