"""Where a package may be written: `-o` must never replace something of the user's.

Refused, whatever the flags: an output that is one of the vault's notes or inside `.notecards/`,
and anything that is not a regular file (a folder, a device such as /dev/null, a FIFO). An
existing regular file that is not an Anki package is replaced only with `--force` (or when it
is the very file the last build wrote, since damaged).
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

from notecards.problems import NotecardsError, Problem
from notecards.vault.state_dir import STATE_DIR

# What an Anki package holds: a zip with the collection in one of its formats.
_COLLECTIONS = {"collection.anki2", "collection.anki21", "collection.anki21b"}


def check_output(root: Path, output: Path, *, force: bool, last_output: str = "") -> None:
    """Raise NotecardsError (nothing written) when `output` must not be written; the package
    the last build wrote (`last_output`, its resolved path) is replaced even if damaged."""
    target = output.resolve()  # a symlink is followed: the file it names is what is replaced
    vault = root.resolve()
    if target.is_relative_to(vault) and (
        target.suffix.lower() == ".md" or target.is_relative_to(vault / STATE_DIR)
    ):
        raise NotecardsError([_refusal(output, "is in the vault's notes or its .notecards/")])
    try:
        mode = target.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing there to replace (whether its folder can be written is seen later)
    except OSError as err:
        raise NotecardsError([_refusal(output, f"cannot be read ({err.strerror})")]) from err
    if not stat.S_ISREG(mode):
        raise NotecardsError([_refusal(output, "is not a regular file")])
    if not force and str(target) != last_output and not is_anki_package(target):
        why = "exists and is not an Anki package (--force replaces it)"
        raise NotecardsError([_refusal(output, why)])


def is_anki_package(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return bool(_COLLECTIONS & set(archive.namelist()))
    except (OSError, zipfile.BadZipFile):
        return False


def _refusal(output: Path, why: str) -> Problem:
    return Problem(f"not writing the package to {output}: it {why}")
