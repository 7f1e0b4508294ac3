"""What Anki holds, asked while the vault's notes render: the request a sync starts with
(read_anki.py) needs to know which notes render, not their HTML, so it goes on a thread as soon
as they are rendering (render/pool.py forks its workers first). A first sync of 1,000 notes
rendered for 0.4 s, then waited 40 ms for this request before it could plan.
"""

from __future__ import annotations

from threading import Thread

from notecards.sync.as_left import Looked
from notecards.sync.options import SyncOptions
from notecards.sync.read_anki import AnkiSnapshot, known_notes, read_anki
from notecards.sync.state import SyncState
from notecards.targets.ankiconnect import AnkiConnect
from notecards.vault import Vault


class AskingAnki:
    """Anki's answer about the notes of `vault`: `start` (vault_notes calls it) asks on a
    thread of its own, told the IDs of the notes that render; `snapshot` gives the answer, or
    raises what asking raised. The thread is a daemon: a sync stopped by a note that does not
    render is not kept waiting for a slow Anki's answer, which is then dropped (the request
    only reads)."""

    def __init__(
        self,
        client: AnkiConnect,
        vault: Vault,
        state: SyncState,
        options: SyncOptions,
        looked: Looked,
    ):
        self._client, self._vault, self._state = client, vault, state
        self._options, self._looked = options, looked
        self._thread: Thread | None = None
        self._answer: AnkiSnapshot | None = None
        self._error: BaseException | None = None

    def start(self, rendering: set[int]) -> None:
        self._thread = Thread(target=self._ask_keeping, args=(rendering,), daemon=True)
        self._thread.start()

    def snapshot(self) -> AnkiSnapshot:
        assert self._thread is not None, "asked for Anki's answer before asking"
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._answer is not None
        return self._answer

    def _ask_keeping(self, rendering: set[int]) -> None:
        try:
            self._answer = self._ask(rendering)
        except BaseException as error:  # (handed to `snapshot`, on the sync's own thread)
            self._error = error

    def _ask(self, rendering: set[int]) -> AnkiSnapshot:
        """As the no-op check `looked` at the notes, when it did (Anki's answer when it asked
        of the same notes: the same request, and then what Anki holds for the notes rendering
        and those edited there, in one more); else read_anki's request."""
        vault, state, looked = self._vault, self._state, self._looked
        two_way = self._options.two_way
        if looked.snapshot is not None and looked.known == known_notes(vault, state):
            snapshot = looked.snapshot
            edited = snapshot.edited_since(state) if two_way else set()
            in_vault = {note.note_id for note in vault.parsed.notes}
            to_ask = ((rendering | (edited & in_vault)) & snapshot.present) - snapshot.notes.keys()
            if to_ask:  # (and those that the pull looks at, in the same request)
                snapshot.notes.update(self._client.notes_info(sorted(to_ask)))
            return snapshot
        return read_anki(
            self._client,
            vault,
            state,
            rendering,
            two_way=two_way,
            after_ankiweb=self._options.after_ankiweb,
        )
