"""Every file notecards writes is replaced whole: a crash leaves the old file or the new one.

Temp file beside the target (so the rename stays on one file system), fsync, rename,
fsync the folder (so the rename itself survives a power cut).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_NAME_CHARS = 40  # at most 160 bytes of UTF-8


@contextmanager
def replacing(target: Path, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temp path to write; on a clean exit it replaces `target`, else it is removed.

    The new file gets the target's mode (or a new file's, when there is no target).
    `durable=False` skips the fsyncs, for caches whose loss is only a miss.
    """
    # Part of the name only: the temp name must stay within the system's limit (255 bytes)
    # even when the target's own name is near it.
    prefix = f".{target.name[:_NAME_CHARS]}."
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb") as written:
                os.fsync(written.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(target.parent)


def write_json(target: Path, payload: Any, *, durable: bool = True) -> None:
    """Compact JSON, replaced atomically; creates the folder (`.notecards/`) when missing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with replacing(target, durable=durable) as tmp:
        tmp.write_text(
            json.dumps(payload, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )


def _mode_for(target: Path) -> int:
    """The target's own mode, or what a plain open() would give a new file (mkstemp's is 0600)."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_dir(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open a folder; the rename is still atomic
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
