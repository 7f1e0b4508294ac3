"""What can be wrong, and where: the one way every stage reports a problem.

A step returns its problems beside its value (a list of `Problem`, never appended to a list
the caller passed in); a step that has no value to give (settings that cannot be read, a field
that cannot be rendered) raises `NotecardsError` with them instead. The command prints them and
picks the exit code. A location is a value (`Location`), never a `"path:line"` string to be
parsed back; a problem that belongs to no file (Anki refused a whole request) has none, and
says so when printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


def shown_path(prefix: str, path: str) -> str:
    """A vault-relative path as the user typed the vault (`notes/a.md`), for messages; bytes of
    a file name that are not UTF-8 (os.walk hands them over as surrogates) shown as `\\xNN`."""
    shown = f"{prefix.rstrip('/')}/{path}" if prefix else path
    return shown.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Location:
    """A place in the vault: a vault-relative POSIX path and a 1-based line (None: the
    whole file, such as a note whose block is gone)."""

    path: str
    line: int | None = None

    def format(self, prefix: str = "") -> str:
        where = shown_path(prefix, self.path)
        return where if self.line is None else f"{where}:{self.line}"

    def __str__(self) -> str:
        return self.format()


@dataclass(frozen=True)
class Problem:
    """One thing wrong, at a place in the vault or (`where` None) at none."""

    message: str
    where: Location | None = None
    severity: Severity = Severity.ERROR

    @classmethod
    def at(
        cls, path: str, line: int | None, message: str, severity: Severity = Severity.ERROR
    ) -> Problem:
        return cls(message, Location(path, line), severity)

    @property
    def path(self) -> str | None:
        return self.where.path if self.where else None

    @property
    def line(self) -> int | None:
        return self.where.line if self.where else None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self, prefix: str = "") -> str:
        """`path:line: message`, the form editors and CI logs understand; a problem in no
        file reads `error: message` (or `warning: message`)."""
        if self.where is None:
            return f"{self.severity}: {self.message}"
        tag = "" if self.is_error else "warning: "
        return f"{self.where.format(prefix)}: {tag}{self.message}"


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


class NotecardsError(Exception):
    """Bad input that leaves a step without a value to return, with every problem found."""

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


class FileError(Exception):
    """An operating-system error, said as what was being done and to which path."""

    def __init__(self, doing: str, path: object, err: OSError):
        self.err = err
        super().__init__(f"cannot {doing} {path}: {err.strerror or err}")
