"""Each field as notecards last pushed it, its markdown and its HTML: the base a pull or a
three-way merge starts from. `VAULT/.notecards/pushed-fields.sqlite`.

Kept apart from the sync state, which holds only digests so that it loads fast on every sync:
this store is read only for the notes whose fields changed in Anki, one point query each, and
written in one transaction at the end of a sync. Losing it loses no data: a pull then rewrites
a whole field from Anki's HTML, and a field edited on both sides is a conflict to settle
(`--prefer`) instead of a merge.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from notecards.vault.state_dir import PUSHED_FIELDS

_BATCH = 500  # ids per query (SQLite allows 999 parameters in older builds)
_SCHEMA = "CREATE TABLE IF NOT EXISTS fields (note INTEGER PRIMARY KEY, markdown TEXT, html TEXT)"


class PushedFields:
    def __init__(self, root: Path):
        self._path = root / PUSHED_FIELDS
        self._new: dict[int, tuple[dict[str, str], dict[str, str]] | None] = {}
        # What was read (None: not known); a pull asks for a note twice.
        self._read: dict[int, tuple[dict[str, str], dict[str, str]] | None] = {}

    def get(self, note_id: int) -> tuple[dict[str, str], dict[str, str]] | None:
        """(markdown, HTML) per field as last pushed, or None when not known."""
        if note_id in self._new:
            return self._new[note_id]
        if note_id not in self._read:
            self.read([note_id])
        return self._read[note_id]

    def read(self, note_ids: Iterable[int]) -> None:
        """Look up the notes `get` will be asked about, in one query (a pull's hundred edited
        notes: one connection, not one each)."""
        wanted = sorted({n for n in note_ids if n not in self._new and n not in self._read})
        if not wanted:
            return
        self._read.update(dict.fromkeys(wanted))
        if not self._path.is_file():
            return
        try:
            uri = f"{self._path.resolve().as_uri()}?mode=ro"
            with closing(sqlite3.connect(uri, uri=True)) as db:
                rows = []
                for at in range(0, len(wanted), _BATCH):
                    batch = wanted[at : at + _BATCH]
                    marks = ",".join("?" * len(batch))
                    query = f"SELECT note, markdown, html FROM fields WHERE note IN ({marks})"
                    rows += db.execute(query, batch).fetchall()
        except sqlite3.DatabaseError:
            return  # damaged: as if not known
        for note_id, markdown, html in rows:
            self._read[note_id] = _decoded(markdown, html)

    def put(self, note_id: int, markdown: dict[str, str], html: dict[str, str]) -> None:
        self._new[note_id] = (dict(markdown), dict(html))

    def forget(self, note_id: int) -> None:
        self._new[note_id] = None

    def save(self) -> None:
        """Write what this sync pushed, in one transaction; a damaged file is started afresh,
        and one that cannot be written is only a lost base (the next pull of those fields
        rewrites them whole)."""
        if not self._new:
            return
        rows = [
            (note_id, json.dumps(md, ensure_ascii=False), json.dumps(html, ensure_ascii=False))
            for note_id, value in self._new.items()
            if value is not None
            for md, html in [value]
        ]
        gone = [(note_id,) for note_id, value in self._new.items() if value is None]
        for attempt in range(2):
            try:
                self._path.parent.mkdir(exist_ok=True)
                with closing(sqlite3.connect(self._path)) as db, db:
                    db.execute(_SCHEMA)
                    db.executemany("INSERT OR REPLACE INTO fields VALUES (?, ?, ?)", rows)
                    db.executemany("DELETE FROM fields WHERE note = ?", gone)
                break
            except sqlite3.DatabaseError:
                if attempt:
                    return
                self._path.unlink(missing_ok=True)
            except OSError:
                return
        self._read.update(self._new)
        self._new.clear()


def _decoded(markdown: str, html: str) -> tuple[dict[str, str], dict[str, str]] | None:
    try:
        fields, rendered = json.loads(markdown), json.loads(html)
    except (TypeError, ValueError):
        return None
    if not (isinstance(fields, dict) and isinstance(rendered, dict)):
        return None
    return fields, rendered
