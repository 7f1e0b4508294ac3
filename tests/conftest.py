"""Shared fixtures: an AnkiConnect server with a real Anki collection behind it.

Use `anki_server` for one server; pass options through indirect parametrisation:

    @pytest.mark.parametrize("anki_server", [{"default_deck_bug": True}], indirect=True)

Options: `api_key`, `default_deck_bug`, `addnotes_all_or_nothing`, `packages_unreadable`,
`media_dir_elsewhere`, `mod_times` (see tests/helpers/ankiconnect_server.py).
`any_anki_release` runs a test once per AnkiConnect behaviour a client must survive.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from notecards.bulk import release
from tests.helpers.ankiconnect_server import AnkiConnectServer, ServerProcess
from tests.helpers.sync import ANKI_ELSEWHERE

# The releases a sync client meets in the field (README of ../shared/ankiconnect).
# The addNotes behaviours, then an Anki that imports sync's packages (the usual case).
ANKICONNECT_RELEASES = {
    "fixed-deck": ANKI_ELSEWHERE,
    "2023-deck-bug": {"default_deck_bug": True, **ANKI_ELSEWHERE},
    "all-or-nothing-addNotes": {"addnotes_all_or_nothing": True, **ANKI_ELSEWHERE},
    "imports-packages": {"default_deck_bug": True},
    # AnkiWeb's release today (25.11.9): modification times, all-or-nothing addNotes.
    "25.11": {"mod_times": True, "addnotes_all_or_nothing": True, **ANKI_ELSEWHERE},
}


def _start_server(tmp_path: Path, options: dict) -> AnkiConnectServer:
    return AnkiConnectServer(tmp_path / "anki" / "collection.anki2", **options).start()


@pytest.fixture
def anki_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AnkiConnectServer]:
    """A fresh collection served on 127.0.0.1 at a free port; closed when the test ends.

    The object has `.url`, `.collection()` (a `with` block holding the server's lock),
    `.requests` (HTTP requests so far), `.actions` (Counter of action names, `multi`'s inner
    actions included), `.reset_counts()`, `.after_answer(action, change)` (a change to the
    collection right after the next `action` is answered) and `.stop()`.
    """
    server = _start_server(tmp_path, getattr(request, "param", None) or {})
    yield server
    server.stop()


@pytest.fixture(params=list(ANKICONNECT_RELEASES.values()), ids=list(ANKICONNECT_RELEASES))
def any_anki_release(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AnkiConnectServer]:
    """Like `anki_server`, once per release behaviour: the deck bug on/off, all-or-nothing adds,
    and adds by package import."""
    server = _start_server(tmp_path, request.param)
    yield server
    server.stop()


@pytest.fixture
def anki_server_process(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """The server as a separate process (`.url`, `.collection_path`, `.process`, `.stop()`).

    For crash tests and benchmarks. Indirect parameters are its command-line options, e.g.
    `["--default-deck-bug"]`. Read its collection only after `.stop()`.
    """
    process = ServerProcess.start(
        tmp_path / "anki" / "collection.anki2", *getattr(request, "param", [])
    )
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def _frozen_released() -> Iterator[None]:
    """What a test's loads froze (notecards/bulk.py) back to the cycle collector after it, as
    watch does after each run: a test run is one long process."""
    yield
    release()
