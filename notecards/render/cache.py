"""The render cache: field markdown already rendered, kept in `VAULT/.notecards/`.

Key: a digest of everything that decides a field's HTML (notecards' code and the
rendering libraries' versions, `hashing.code_digest`; the vault settings that matter and
the demos there are; the note's folder, cloze or not, the markdown). Value: the HTML,
the media it embeds, and how each link and embed was resolved. Media *content* is not
in the key (targets read the files when they send them); instead a hit is used only if
every recorded link and embed still resolves to the same file in today's vault scan, and
every note or section it embeds still reads the same (the renderer checks: dict lookups,
and each file an embed names read once). A field with warnings is not kept. Deleting the
file loses nothing but time.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from notecards.model import MediaRef
from notecards.vault.state_dir import RENDER_CACHE

_LAYOUT_VERSION = 2
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS fields"
    " (key TEXT PRIMARY KEY, html TEXT NOT NULL, media TEXT NOT NULL, deps TEXT NOT NULL)"
)


@dataclass(frozen=True)
class CachedField:
    html: str
    media: tuple[MediaRef, ...]
    # (kind, reference as written, what it resolved to): model.Dependency
    deps: tuple[tuple[str, str, str], ...]

    def to_row(self, key: str) -> tuple[str, str, str, str]:
        media = [[ref.source, ref.anki_name] for ref in self.media]
        return key, self.html, _dump(media), _dump([list(dep) for dep in self.deps])

    @classmethod
    def from_row(cls, html: str, media: str, deps: str) -> CachedField:
        return cls(
            html,
            tuple(MediaRef(*ref) for ref in _load(media)),
            tuple(tuple(dep) for dep in _load(deps)),
        )


def _dump(items: list) -> str:
    return json.dumps(items) if items else ""


def _load(text: str) -> list:
    return json.loads(text) if text else []


class RenderCache:
    """Loads every entry with one query on first use (a point query per field costs
    several times more); new entries are written in one transaction by `save`."""

    def __init__(self, path: Path | None = None, *, read_only: bool = False):
        """The file is only read here; it is created or changed by `save` alone, so a run
        that fails before it saves leaves no cache behind. `read_only` (a dry run): `save`
        keeps new entries in memory only."""
        self.read_only = read_only
        self._path = path
        self._new: dict[str, CachedField] = {}
        self._rows: dict[str, tuple[str, str, str, str]] = {}  # render workers' entries
        self._used: set[str] = set()
        self._db = _connect_read_only(path)
        self._stored: dict[str, tuple[str, str, str]] | None = None

    @classmethod
    def for_vault(cls, root: Path, *, read_only: bool = False) -> RenderCache:
        return cls(root / RENDER_CACHE, read_only=read_only)

    def get(self, key: str) -> CachedField | None:
        self._used.add(key)
        if key in self._new:
            return self._new[key]
        if key in self._rows:
            return CachedField.from_row(*self._rows[key][1:])
        row = self._stored_rows().get(key)
        return CachedField.from_row(*row) if row else None

    def stores_nothing(self) -> bool:
        """The file held no entry (a first build, or the file deleted): a field misses
        unless this run rendered it already."""
        return not self._stored_rows()

    def _stored_rows(self) -> dict[str, tuple[str, str, str]]:
        if self._stored is None:
            try:
                rows = self._db.execute("SELECT key, html, media, deps FROM fields").fetchall()
            except sqlite3.DatabaseError:  # pages past the header damaged: no cache (save
                rows = []  # writes the file anew)
            self._stored = {key: values for key, *values in rows}
        return self._stored

    def put(self, key: str, value: CachedField) -> None:
        self._used.add(key)
        self._new[key] = value

    def put_rows(self, rows: list[tuple[str, str, str, str]]) -> None:
        """Entries a render worker made, as the rows `save` writes, made there: plain strings
        pickle and read back in a fifth of the CPU of the entries (0.03 s per 10,000)."""
        for row in rows:
            self._used.add(row[0])
            self._rows[row[0]] = row

    def take_rows(self) -> list[tuple[str, str, str, str]]:
        """The entries put since the last call, as rows, handed over (a render worker's, for
        the build's own cache) and forgotten here."""
        new, self._new = self._new, {}
        return [value.to_row(key) for key, value in new.items()]

    def save(self, *, prune: bool = False) -> None:
        """Write new entries; with prune (after rendering the whole vault), drop
        every entry this run did not use, so the file tracks the vault's size."""
        if self.read_only or not (self._new or self._rows or prune):
            return
        try:
            self._write(prune)
        except sqlite3.DatabaseError as error:
            self._recover(error, prune)
            return
        self._saved()

    @contextmanager
    def saving(self, *, prune: bool = False) -> Iterator[None]:
        """`save`, written in a thread while the block runs, committed only if it ends
        without an exception (a failed build leaves no cache behind, nor a changed one).
        SQLite lets go of the GIL as it writes: a build writes its package meanwhile, on
        the core its render workers left idle (0.13 s of a 10,000-card build's tail).
        Nothing else may use the cache in the block."""
        if self.read_only or not (self._new or self._rows or prune):
            yield
            return
        decided, kept, failed = threading.Event(), [False], []

        def write() -> None:
            try:
                self._write(prune, keep=lambda: decided.wait() and kept[0])
            except BaseException as error:  # raised again below, in the caller's thread
                failed.append(error)

        writer = threading.Thread(target=write, name="render cache save")
        writer.start()
        try:
            yield
            kept[0] = True
        finally:
            decided.set()
            writer.join()
        if not failed:
            self._saved()
        elif isinstance(failed[0], sqlite3.DatabaseError):
            self._recover(failed[0], prune)
        else:
            raise failed[0]

    def _recover(self, error: sqlite3.DatabaseError, prune: bool) -> None:
        """After a failed write: a locked or read-only file is left as it is (the cache is
        only an optimisation); a damaged one is replaced by one of this run's entries."""
        if isinstance(error, sqlite3.OperationalError):
            return
        self._db.close()  # (Windows removes no file held open)
        try:
            if self._path is not None:
                self._path.unlink(missing_ok=True)
            self._write(prune)
        except (sqlite3.DatabaseError, OSError):
            self._db = _connect_read_only(self._path)
            return
        self._saved()

    def _saved(self) -> None:
        self._new.clear()
        self._rows.clear()
        self._db.close()
        self._db = _connect_read_only(self._path)  # the file now holds the new entries
        self._stored = None

    def _write(self, prune: bool, keep: Callable[[], bool] = lambda: True) -> None:
        """One transaction, committed if `keep()` says so at its end (else rolled back,
        and a file it created removed)."""
        created = self._path is not None and not self._path.exists()
        db = _connect(self._path)
        kept = True
        try:
            with db:
                if prune:
                    # The keys read at the first lookup (the vault's lock held since); when
                    # none were (or a damaged file read as none), the file's own, read
                    # before this run's rows go in.
                    stored = self._stored or [k for (k,) in db.execute("SELECT key FROM fields")]
                    unused = [(key,) for key in stored if key not in self._used]
                    db.executemany("DELETE FROM fields WHERE key = ?", unused)
                own = (value.to_row(key) for key, value in self._new.items())
                db.executemany(
                    "INSERT OR REPLACE INTO fields VALUES (?, ?, ?, ?)",
                    itertools.chain(self._rows.values(), own),
                )
                kept = keep()
                if not kept:
                    db.rollback()
        finally:
            db.close()
        if created and not kept and self._path is not None:
            self._path.unlink(missing_ok=True)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> RenderCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.save()
        self.close()


def _connect(path: Path | None) -> sqlite3.Connection:
    """Open the cache file; one that is unreadable or unwritable is replaced by
    an empty one, or by memory: a cache never stops a build."""
    if path is None:
        return _open(":memory:")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _open(str(path))
    except sqlite3.DatabaseError:
        path.unlink(missing_ok=True)
    except OSError:
        return _open(":memory:")
    try:
        return _open(str(path))
    except (sqlite3.DatabaseError, OSError):
        return _open(":memory:")


def _connect_read_only(path: Path | None) -> sqlite3.Connection:
    """The file as it is, if it is a cache of this layout; else an empty memory one."""
    if path is not None and path.is_file():
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            if db.execute("PRAGMA user_version").fetchone()[0] == _LAYOUT_VERSION:
                db.execute("SELECT key, html, media, deps FROM fields LIMIT 0")
                return db
            db.close()
        except sqlite3.DatabaseError:
            pass
    return _open(":memory:")


def _open(target: str) -> sqlite3.Connection:
    """Connect; a file written with another layout is emptied, not migrated."""
    db = sqlite3.connect(target)
    if db.execute("PRAGMA user_version").fetchone()[0] != _LAYOUT_VERSION:
        with db:
            db.execute("DROP TABLE IF EXISTS fields")
            db.execute(f"PRAGMA user_version = {_LAYOUT_VERSION}")
    db.execute(_SCHEMA)
    return db
