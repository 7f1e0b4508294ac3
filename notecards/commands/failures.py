"""How a command that stops turns into an exit code and a message: the same for every command
(the codes are in `exit_codes.py`), with `--json` a document too (`Reporter.fail`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from notecards import exit_codes
from notecards.output import Reporter
from notecards.problems import FileError, NotecardsError, Problem
from notecards.targets.errors import AnkiConnectError


@contextmanager
def stopping_cleanly(reporter: Reporter, prefix: str) -> Iterator[None]:
    """Every way a run stops, said in a sentence with its exit code; never a traceback."""
    from notecards.vault.lock import VaultBusy  # the vault stage, once a command runs

    try:
        yield
    except NotecardsError as exc:
        reporter.fail(exit_codes.BAD_INPUT, exc.problems, prefix)
    except AnkiConnectError as exc:
        reporter.fail(exit_codes.ANKI, [Problem(str(exc))])
    except VaultBusy as exc:
        reporter.fail(exit_codes.BUSY, [Problem(str(exc))])
    except FileError as exc:
        reporter.fail(exit_codes.BAD_INPUT, [Problem(str(exc))])
    except OSError as exc:  # any other file the run had to use
        reporter.fail(exit_codes.BAD_INPUT, [Problem(str(FileError("use", exc.filename, exc)))])
