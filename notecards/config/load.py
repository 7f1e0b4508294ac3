"""A vault's settings, from every source in order: defaults, O2A's data.json, notecards.yaml.

Both files are read with the same care: only a regular file is read (a folder or a FIFO under
the name is a mistake, and is never opened in a way that could block), up to its size limit,
as UTF-8; and every mistake in either file is reported, not only the first.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from notecards.config.notecards_yaml import CONFIG_FILE, apply_yaml
from notecards.config.o2a import O2A_MAX_BYTES, O2A_SETTINGS, apply_o2a
from notecards.config.schema import VaultConfig
from notecards.config.yaml_document import MAX_CHARS
from notecards.problems import NotecardsError, Problem

OBSIDIAN_FOLDER = ".obsidian"
_SOURCES = ((O2A_SETTINGS, O2A_MAX_BYTES, apply_o2a), (CONFIG_FILE, MAX_CHARS, apply_yaml))
_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
}


def load_config(root: Path) -> VaultConfig:
    """The vault's settings; raises NotecardsError with every mistake, each at its line."""
    vault, folder = obsidian_vault(root)
    config = VaultConfig(vault_name=vault.name, vault_folder=folder)
    problems: list[Problem] = []
    for rel, limit, apply in _SOURCES:
        text, problem = _read_settings(root, rel, limit)
        if problem is not None:
            problems.append(problem)
        elif text is not None:
            problems += apply(config, text, root)
    if problems:
        raise NotecardsError(problems)
    return config


def obsidian_vault(root: Path) -> tuple[Path, str]:
    """The Obsidian vault the folder lies in, and the folder's path inside it: the nearest
    folder at or above it that holds `.obsidian/` (where Obsidian keeps a vault's settings),
    so `notecards build notes/` in a vault links to `notes/...` of that vault. Without one
    anywhere above, the folder itself."""
    real = root.resolve()
    for folder in (real, *real.parents):
        if os.path.isdir(folder / OBSIDIAN_FOLDER):  # an unreadable folder is no vault
            return folder, "" if folder == real else real.relative_to(folder).as_posix()
    return real, ""


def _read_settings(root: Path, rel: str, limit: int) -> tuple[str | None, Problem | None]:
    """A settings file's text (None when there is no such file), or why it cannot be read."""
    path = root / rel
    try:  # O_NONBLOCK: opening a FIFO to read would otherwise wait for a writer forever
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (FileNotFoundError, NotADirectoryError):
        if os.path.lexists(path):
            return None, Problem.at(rel, 1, "is a link to nothing")
        return None, None
    except OSError as err:
        return None, Problem.at(rel, 1, f"cannot be read: {err.strerror or err}")
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _KINDS.get(stat.S_IFMT(mode), "not a file")
            return None, Problem.at(rel, 1, f"is {kind}, not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(limit + 1)
    except OSError as err:
        return None, Problem.at(rel, 1, f"cannot be read: {err.strerror or err}")
    finally:
        os.close(fd)
    if len(data) > limit:
        return None, Problem.at(rel, 1, f"larger than the limit of {limit >> 20} MiB")
    return _decoded(data, rel)


def _decoded(data: bytes, rel: str) -> tuple[str | None, Problem | None]:
    """UTF-8 text (a UTF-8 byte order mark is dropped), or the line of the first bad byte."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None, Problem.at(
            rel, 1, "is UTF-16 text (it starts with its byte order mark); save it as UTF-8"
        )
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as err:
        offset = err.start + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
        line = data.count(b"\n", 0, offset) + 1
        message = f"not UTF-8 text (byte {data[offset]:#x}); save the file as UTF-8"
        return None, Problem.at(rel, line, message)
