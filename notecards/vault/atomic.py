"""Every file notecards writes is replaced whole: a crash leaves the old file or the new one.

Temp file beside the target (so the rename stays on one file system), fsync, rename,
fsync the folder (so the rename itself survives a power cut). Many files at once (IDs
written into a whole vault) take the same steps in batches, one flush for all: every temp
file written (`stage`), their bytes made durable at once (`flush`: one sync of the file
system), then the renames (`commit`) and each folder's fsync: a kill or power cut at any
moment leaves each file as it was or whole with its new bytes, never half-written. The new
file keeps the old one's mode and owner, and a symlink stays a link: the file it points to
is replaced. A temp file a killed run left behind carries notecards' own suffix, so the
next run can remove it (`remove_stale_temp_files`) without touching anything of the user's.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notecards.faults import fault_point

_NAME_CHARS = 40  # at most 160 bytes of UTF-8
TEMP_SUFFIX = ".notecards.tmp"
# `.<part of the name>.<mkstemp's 8 characters>.notecards.tmp`
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))
# Up to this many staged files, an fsync each is cheaper than a sync of the file system
# (which also flushes whatever else is waiting there).
_FSYNC_EACH_UP_TO = 16
_BY_FD = os.chmod in os.supports_fd and os.chown in os.supports_fd
# This process's owner, asked once (not twice a file staged): whose a copy is by default.
_OWN_IDS = (os.getuid(), os.getgid())


@contextmanager
def replacing(target: Path, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temp path to write; on a clean exit it replaces `target`, else it is removed.

    The new file gets the target's mode and owner (or a new file's, when there is none).
    `durable=False` skips the fsyncs, for caches whose loss is only a miss.
    """
    target = target.resolve() if target.is_symlink() else target
    fd, tmp = _temp_beside(target)
    os.close(fd)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb") as written:
                os.fsync(written.fileno())
        _keep_mode_and_owner(tmp, target)
        fault_point(f"replacing:{target.name}")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(target.parent)


@dataclass(frozen=True)
class Staged:
    """A target's new bytes in a temp file beside it (its mode and owner), not yet renamed."""

    target: Path  # the file replaced: a symlink's own target
    tmp: Path


def stage(target: Path, data: bytes) -> Staged:
    """Write `data` to a temp file beside `target`; `flush`, then `commit`, replace it (or
    `discard` drops it). Raises OSError, leaving no temp file."""
    # One lstat says whether it is a link and, when not, gives the mode and owner to keep
    # (not a second stat of the same file).
    try:
        info: os.stat_result | None = os.lstat(target)
    except FileNotFoundError:
        info = None
    if info is not None and stat.S_ISLNK(info.st_mode):
        target, info = target.resolve(), None
    fd, tmp = _temp_beside(target)
    try:
        # On the descriptor: a file object and calls by path made half of what staging a
        # vault of small files cost.
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            _keep_mode_and_owner(fd if _BY_FD else tmp, target, info)
        finally:
            os.close(fd)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Staged(target, tmp)


def flush(staged: Sequence[Staged]) -> None:
    """Make every staged file's bytes durable before any of them is renamed over its
    target: an fsync each for a few, one sync of the file system for many (one journal
    commit instead of one per file)."""
    if len(staged) > _FSYNC_EACH_UP_TO:
        os.sync()
        return
    for item in staged:
        with open(item.tmp, "rb") as written:
            os.fsync(written.fileno())


def commit(staged: Staged) -> None:
    """Rename a flushed temp file over its target (raises OSError, the temp file kept:
    `discard` it). The caller fsyncs the folders afterwards (`fsync_folders`)."""
    fault_point(f"replacing:{staged.target.name}")
    os.replace(staged.tmp, staged.target)


def discard(staged: Staged) -> None:
    staged.tmp.unlink(missing_ok=True)


def fsync_folders(folders: Iterable[Path]) -> None:
    """Make the renames in these folders survive a power cut (each folder once)."""
    for folder in set(folders):
        _fsync_dir(folder)


def remove_stale_temp_files(folders: Iterable[Path]) -> None:
    """Remove the temp files of a run that was killed mid-write (only notecards' own names;
    the caller holds the vault's lock, so no live run is writing them)."""
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if _TEMP_NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)


def write_json(target: Path, payload: Any, *, durable: bool = True) -> None:
    """Compact JSON, replaced atomically; creates the folder (`.notecards/`) when missing."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    write_text(target, text, durable=durable)


def write_text(target: Path, text: str, *, durable: bool = True) -> None:
    """UTF-8 text, replaced atomically; creates the folder (`.notecards/`) when missing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with replacing(target, durable=durable) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _temp_beside(target: Path) -> tuple[int, Path]:
    """An open new temp file in the target's folder, named so a later run knows it."""
    # Part of the name only: the temp name must stay within the system's limit (255 bytes)
    # even when the target's own name is near it.
    prefix = f".{target.name[:_NAME_CHARS]}."
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=target.parent)
    return fd, Path(name)


def _keep_mode_and_owner(tmp: Path | int, target: Path, info: os.stat_result | None = None) -> None:
    """The target's own mode and owner (root writing a user's note must not take it over), or
    what a plain open() would give a new file (mkstemp's mode is 0600). `info`: the target's
    stat, when the caller has it already."""
    try:
        info = target.stat() if info is None else info
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        return
    os.chmod(tmp, info.st_mode & 0o7777)
    if (info.st_uid, info.st_gid) != _OWN_IDS:
        # Only root may give a file away; an ordinary user's copy stays theirs.
        with contextlib.suppress(PermissionError):
            os.chown(tmp, info.st_uid, info.st_gid)


def _fsync_dir(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open a folder; the rename is still atomic
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
