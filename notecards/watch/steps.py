"""What one run of a watch does, and what it says: a sync (the very `sync_vault` that
`notecards sync` runs, two-way, with its plan and guarantees) or a build.

A run never raises for what a user can cause (a vault error, Anki closed, another run
writing the vault): it says so in its outcome, with the exit code `notecards sync` (or
`build`) would have returned, and the watch goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from notecards import exit_codes
from notecards.output import Reporter, count, problems_json
from notecards.problems import FileError, NotecardsError, Problem
from notecards.targets.errors import AnkiConnectError, AnkiUnreachableError
from notecards.vault.lock import VaultBusy

if TYPE_CHECKING:
    from notecards.sync import SyncReport
    from notecards.targets.ankiconnect import AnkiConnect

# What a run stops with that a user caused, or can fix; anything else is a bug.
_STOPS = (NotecardsError, AnkiConnectError, VaultBusy, FileError, OSError)


@dataclass
class Outcome:
    """One run: its line (empty when nothing changed), its problems, its JSON object."""

    summary: str = ""
    problems: list[Problem] = field(default_factory=list)
    document: dict[str, Any] = field(default_factory=dict)
    exit_code: int = exit_codes.OK
    # Anki did not answer (the sentence says so); a later run may find it back.
    unreachable: bool = False
    # Another run was writing the vault: nothing done, worth trying again later.
    busy: bool = False


class Step(Protocol):
    def run(self) -> Outcome: ...

    def ready(self) -> bool:
        """Whether a run that could not reach its target now can (Anki is back)."""
        ...


class SyncStep:
    """A two-way sync; a file with an error is left out (and reported) and the rest syncs."""

    def __init__(
        self, root: Path, client: AnkiConnect, reporter: Reporter, prefer: str | None = None
    ):
        self.root = root.resolve()
        self.client = client
        self.reporter = reporter
        self.prefer = prefer

    def run(self) -> Outcome:
        from notecards.sync import SyncOptions, sync_vault  # the sync stage, once it runs

        options = SyncOptions(prefer=self.prefer, leave_out_bad_files=True)
        try:
            report = sync_vault(self.root, self.client, options, reporter=self.reporter)
        except _STOPS as error:
            return _failed(error)
        problems = report.plan.problems + report.problems
        code = exit_codes.OK
        if report.errors:
            code = exit_codes.PARTIAL
        elif report.plan.conflicts and self.prefer is None:
            code = exit_codes.CONFLICTS
        return Outcome(
            _sync_summary(report),
            problems,
            report.to_json() | {"ok": code == exit_codes.OK, "exit_code": code},
            code,
        )

    def ready(self) -> bool:
        try:
            self.client.invoke("version")
        except AnkiConnectError:
            return False
        return True


class BuildStep:
    """A build of the vault into `output` (for a user without AnkiConnect)."""

    def __init__(self, root: Path, output: Path, reporter: Reporter):
        self.root = root.resolve()
        self.output = output
        self.reporter = reporter

    def run(self) -> Outcome:
        from notecards.build import build_vault  # the build stage, once it runs

        try:
            summary = build_vault(self.root, self.output, reporter=self.reporter)
        except _STOPS as error:
            return _failed(error)
        code = exit_codes.PARTIAL if summary.left_out else exit_codes.OK
        line = ""
        if summary.written or summary.ids_assigned:
            what = [count(summary.notes, "note")]
            if summary.ids_assigned:
                what.append(f"{count(len(summary.ids_assigned), 'ID')} written")
            line = f"wrote {summary.output}: {', '.join(what)}"
        document = summary.to_json() | {"ok": code == exit_codes.OK, "exit_code": code}
        return Outcome(line, summary.warnings + summary.left_out, document, code)

    def ready(self) -> bool:
        return True


def _failed(error: Exception) -> Outcome:
    """A run that stopped, as `notecards sync` would say it (commands/failures.py)."""
    if isinstance(error, NotecardsError):
        return _stopped(exit_codes.BAD_INPUT, error.problems)
    if isinstance(error, AnkiConnectError):
        outcome = _stopped(exit_codes.ANKI, [Problem(str(error))])
        outcome.unreachable = isinstance(error, AnkiUnreachableError)
        return outcome
    if isinstance(error, VaultBusy):
        outcome = _stopped(exit_codes.BUSY, [Problem(str(error))])
        outcome.busy = True
        return outcome
    if isinstance(error, FileError):
        return _stopped(exit_codes.BAD_INPUT, [Problem(str(error))])
    if isinstance(error, OSError):
        return _stopped(
            exit_codes.BAD_INPUT, [Problem(str(FileError("use", error.filename, error)))]
        )
    raise error


def _stopped(code: int, problems: list[Problem]) -> Outcome:
    document = {"ok": False, "exit_code": code, "problems": problems_json(problems)}
    return Outcome("", problems, document, code)


def _sync_summary(report: SyncReport) -> str:
    """`LLM post-training.md: 1 updated` (`3 files: ...` for more); empty when the sync
    changed nothing."""
    plan = report.plan
    updated = sum(1 for u in plan.updates if u.fields or u.add_tags or u.remove_tags)
    counts = {
        "added": len(plan.adds),
        "updated": updated,
        "moved": sum(1 for u in plan.updates if u.move_cards),
        "deleted": len(plan.deletes),
        "pulled from Anki": len({p.note_id for p in report.pulled}),
        "media stored": len(plan.media),
    }
    parts = [f"{n} {what}" for what, n in counts.items() if n]
    if plan.conflicts:
        parts.append(f"{count(len(plan.conflicts), 'conflict')} left alone")
    if report.errors:
        parts.append(count(len(report.errors), "error"))
    if not parts:
        return ""
    files = {a.block.note.path for a in plan.adds}
    files |= {u.where.path for u in plan.updates} | {d.where.path for d in plan.deletes}
    files |= {c.where.path for c in plan.conflicts} | {
        p.where.rsplit(":", 1)[0] for p in report.pulled
    }
    files |= {p.path for p in report.errors if p.path is not None}
    where = next(iter(files)) if len(files) == 1 else count(len(files), "file") if files else ""
    return f"{where}: {', '.join(parts)}" if where else ", ".join(parts)
