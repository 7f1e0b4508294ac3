"""`notecards check VAULT`: every problem as `path:line: message`, exit 1 on errors."""

from __future__ import annotations

from pathlib import Path

import click

from notecards.check import check_vault
from notecards.model import shown_path
from notecards.output import EXIT_BAD_INPUT, Reporter


@click.command()
@click.argument("vault", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-q", "--quiet", is_flag=True, help="Only the problems; no progress or summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON on stdout.")
def check(vault: Path, quiet: bool, as_json: bool) -> None:
    """Check VAULT's cards without writing anything (exit 1 when there are errors)."""
    reporter = Reporter(quiet=quiet, as_json=as_json)
    report = check_vault(vault, progress=lambda notes: reporter.progress(notes, "checking"))
    prefix = str(vault)
    if as_json:
        reporter.emit_json(
            {
                "problems": [
                    {
                        "path": shown_path(prefix, p.path),
                        "line": p.line,
                        "severity": str(p.severity),
                        "message": p.message,
                    }
                    for p in report.problems
                ],
                "errors": report.errors,
                "warnings": report.warnings,
                "notes": report.notes,
                "files": report.files,
            }
        )
    else:
        reporter.problems(report.problems, prefix=prefix)
        reporter.result(
            f"{report.files} files, {report.notes} notes: "
            f"{report.errors} errors, {report.warnings} warnings"
        )
    if report.errors:
        raise SystemExit(EXIT_BAD_INPUT)
