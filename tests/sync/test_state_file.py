"""The sync state's file: a line per note's record, so that a sync that changed a few notes
writes the others' records again as it read them, and every record reads back as saved."""

from __future__ import annotations

import dataclasses
import json

from notecards.sync.state import PushedMedia, PushedNote, SyncState, load_state, save_state
from notecards.vault.state_dir import SYNC_STATE
from tests.vault.test_parse_cache import collections_during

URL = "http://127.0.0.1:8765"


def a_state(count: int = 3) -> SyncState:
    notes = {
        1000 + i: PushedNote(f"digest{i}", {"Front": f"f{i}"}, ["ml"], "ML", f"n{i}.md")
        for i in range(count)
    }
    media = {"a.png": PushedMedia("sha", "a.png", 3, 7)}
    return SyncState(URL, notes, media, synced_at=86400, mod_times=True, warned=frozenset())


def record_lines(root) -> dict[str, str]:
    lines = (root / SYNC_STATE).read_text(encoding="utf-8").split("\n")[1:-1]
    return {line.partition(":")[0].strip('"'): line.rstrip(",") for line in lines}


def test_records_not_replaced_are_written_as_read(tmp_path):
    """A planted space in an untouched record's line survives a save (encoding it again would
    drop it); the replaced record is written anew, and every record loads as it was saved."""
    save_state(tmp_path, a_state())
    path = tmp_path / SYNC_STATE
    line = record_lines(tmp_path)["1000"]
    planted = line.replace('["digest0",', '[ "digest0",', 1)
    path.write_text(path.read_text(encoding="utf-8").replace(line, planted), encoding="utf-8")
    state = load_state(tmp_path, URL)
    assert state.notes == a_state().notes
    state.notes[1001] = dataclasses.replace(state.notes[1001], deck="Elsewhere", anki_mod=5)
    del state.notes[1002]
    state.notes[1003] = PushedNote("new", {"Front": "x"}, [], "ML", "n3.md")
    save_state(tmp_path, state)
    lines = record_lines(tmp_path)
    assert lines["1000"] == planted
    assert set(lines) == {"1000", "1001", "1003"}
    again = load_state(tmp_path, URL)
    assert again == state
    assert again.notes[1001].deck == "Elsewhere" and again.notes[1001].anki_mod == 5
    save_state(tmp_path, again)  # a second save in one process (watch) keeps them too
    assert record_lines(tmp_path)["1000"] == planted
    assert load_state(tmp_path, URL) == state


def test_a_state_of_one_line_loads_and_is_written_a_line_per_record(tmp_path):
    """A state written as one line (by the releases before) loads whole; saved, a line per
    record."""
    save_state(tmp_path, a_state())
    path = tmp_path / SYNC_STATE
    path.write_text(json.dumps(json.loads(path.read_text(encoding="utf-8"))), encoding="utf-8")
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1
    state = load_state(tmp_path, URL)
    assert state == a_state()
    save_state(tmp_path, state)
    assert set(record_lines(tmp_path)) == {"1000", "1001", "1002"}
    assert load_state(tmp_path, URL) == a_state()


def test_an_empty_state_round_trips(tmp_path):
    save_state(tmp_path, SyncState(URL))
    assert load_state(tmp_path, URL) == SyncState(URL)
    json.loads((tmp_path / SYNC_STATE).read_text(encoding="utf-8"))  # JSON all the same


def test_a_large_state_loads_without_the_cycle_collector(tmp_path):
    """Its records are plain data (bulk.py): with the collector on, loading them runs it."""
    save_state(tmp_path, a_state(5000))
    assert collections_during(lambda: load_state(tmp_path, URL)) <= 1  # (46 with it on)
