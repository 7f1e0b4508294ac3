"""Which of the vault's files changed, a burst of saves at a time.

An editor writes a file several times while the user types (Obsidian saves every few
seconds): a change is handed on only once the whole vault has been quiet for the debounce,
so one burst makes one sync, and an ID is written into a file only once its writer paused.
notecards' own folders and temp files, and an editor's, are not changes: the watch would
otherwise wake on its own writes (`.notecards/`, the temp file of every atomic write).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path, PurePosixPath
from types import TracebackType

from watchdog.events import (
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from notecards.vault.atomic import TEMP_SUFFIX

# App folders whose files are never the user's notes (as vault/files.py skips them).
IGNORED_DIRS = frozenset({".notecards", ".obsidian", ".git", ".trash"})
# Editors' temp and backup files: vim's swap files and its write test, emacs's lock and
# backup files, and the usual `.tmp`.
_TEMP_ENDINGS = (TEMP_SUFFIX, "~", ".swp", ".swx", ".tmp")
_TEMP_NAMES = frozenset({"4913"})
# Opening or reading a file (as every sync does) is not a change.
_CHANGES = frozenset(
    {EVENT_TYPE_CREATED, EVENT_TYPE_DELETED, EVENT_TYPE_MODIFIED, EVENT_TYPE_MOVED}
)


class VaultChanges:
    """Watches the folder `root` from `start()` to `stop()` (or a `with` block); `next_burst`
    hands on the changed paths (vault-relative, `/`-separated) a burst at a time."""

    def __init__(self, root: Path, debounce_s: float, ignored: frozenset[Path] = frozenset()):
        self.root = root.resolve()
        self.debounce_s = debounce_s
        self._ignored = {path.resolve() for path in ignored}  # e.g. the package a build writes
        self._changed: set[str] = set()
        self._last = 0.0  # time.monotonic() of the last change
        self._wake = threading.Condition()
        self._observer = Observer()
        self._observer.schedule(_Handler(self), str(self.root), recursive=True)

    def start(self) -> VaultChanges:
        self._observer.start()
        return self

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join()

    def __enter__(self) -> VaultChanges:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def next_burst(self, timeout_s: float | None = None) -> set[str] | None:
        """Wait for a change, then until the vault has been quiet for the debounce; the paths
        changed meanwhile. None when `timeout_s` passes without a change."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._wake:
            while not self._changed:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._wake.wait(left)
            while (quiet := self._last + self.debounce_s - time.monotonic()) > 0:
                self._wake.wait(quiet)
            burst, self._changed = self._changed, set()
            return burst

    def changed(self, path: str) -> None:
        """Note a change to `path` (absolute), unless it is none of the vault's business."""
        relative = self._relative(path)
        if relative is None:
            return
        with self._wake:
            self._changed.add(relative)
            self._last = time.monotonic()
            self._wake.notify_all()

    def _relative(self, path: str) -> str | None:
        absolute = Path(path)
        if absolute in self._ignored:
            return None
        try:
            parts = PurePosixPath(absolute.relative_to(self.root).as_posix()).parts
        except ValueError:
            return None
        if not parts or IGNORED_DIRS.intersection(parts) or _is_temp(parts[-1]):
            return None
        return "/".join(parts)


def _is_temp(name: str) -> bool:
    return name.endswith(_TEMP_ENDINGS) or name.startswith(".#") or name in _TEMP_NAMES


class _Handler(FileSystemEventHandler):
    """watchdog's thread: every change to a file, and a folder made, removed or moved (a
    folder's own `modified` only says a file in it changed, which has its own event)."""

    def __init__(self, changes: VaultChanges):
        self._changes = changes

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _CHANGES:
            return
        if event.is_directory and event.event_type == EVENT_TYPE_MODIFIED:
            return
        for path in (event.src_path, getattr(event, "dest_path", "")):
            if path:
                self._changes.changed(path if isinstance(path, str) else path.decode())
