"""`notecards check VAULT`: every problem as `path:line: message`, exit 1 on errors."""

from __future__ import annotations

from pathlib import Path

import click

from notecards import exit_codes
from notecards.output import Reporter, count, problems_json
from notecards.problems import NotecardsError, Problem, errors
from notecards.render import Renderer, check_notes
from notecards.vault import load_vault


@click.command()
@click.argument("vault", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-q", "--quiet", is_flag=True, help="Only the problems; no progress or summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON on stdout.")
def check(vault: Path, quiet: bool, as_json: bool) -> None:
    """Check VAULT's cards without writing anything (exit 1 when there are errors)."""
    reporter = Reporter(quiet=quiet, as_json=as_json)
    problems, notes, files = _check(vault, reporter)
    prefix = str(vault)
    failed = len(errors(problems))
    if as_json:
        reporter.emit_json(
            {
                "problems": problems_json(problems, prefix),
                "errors": failed,
                "warnings": len(problems) - failed,
                "notes": notes,
                "files": files,
            }
        )
    else:
        reporter.problems(problems, prefix=prefix)
        warned = len(problems) - failed
        reporter.result(
            f"{count(files, 'file')}, {count(notes, 'note')}: "
            f"{count(failed, 'error')}, {count(warned, 'warning')}"
        )
    if failed:
        raise SystemExit(exit_codes.BAD_INPUT)


def _check(root: Path, reporter: Reporter) -> tuple[list[Problem], int, int]:
    """Every problem in the vault, sorted by place; the number of notes and files read."""
    try:
        vault = load_vault(root)
    except NotecardsError as err:
        return err.problems, 0, 0
    problems = list(vault.parsed.problems)
    renderer = Renderer(vault.config, vault.root)
    notes = vault.parsed.notes
    problems += check_notes(
        notes, vault.config, renderer, lambda n: reporter.progress(n, "checking")
    )
    problems.sort(key=lambda p: (p.path or "", p.line or 0))
    return problems, len(notes), len(vault.parsed.files)
