"""`notecards build VAULT -o FILE.apkg`: an Anki package, offline, IDs written back."""

from __future__ import annotations

from pathlib import Path

import click

from notecards import exit_codes
from notecards.build import BuildSummary, build_vault
from notecards.output import Reporter
from notecards.problems import NotecardsError, shown_path


@click.command()
@click.argument("vault", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Package to write (default: VAULT_NAME.apkg in the current folder).",
)
@click.option("--dry-run", is_flag=True, help="Write nothing; say what would be built.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or messages; errors only.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def build(vault: Path, output: Path | None, dry_run: bool, quiet: bool, as_json: bool) -> None:
    """Build VAULT's cards into an Anki package (import it with File > Import)."""
    reporter = Reporter(quiet=quiet, as_json=as_json)
    output = output or Path(f"{vault.resolve().name}.apkg")
    try:
        summary = build_vault(vault, output, dry_run=dry_run, reporter=reporter)
    except NotecardsError as exc:
        reporter.problems(exc.problems, prefix=str(vault))
        raise SystemExit(exit_codes.BAD_INPUT) from exc
    except OSError as exc:  # the package (its folder is checked before the vault is touched)
        click.echo(f"error: cannot write {output}: {exc.strerror or exc}", err=True)
        raise SystemExit(exit_codes.BAD_INPUT) from exc
    if reporter.chatty:  # with --json they are in the document
        reporter.problems(summary.warnings, prefix=str(vault))
    reporter.emit_json(summary.to_json() | {"dry_run": dry_run})
    reporter.result(_describe(summary, dry_run, str(vault)))


def _describe(summary: BuildSummary, dry_run: bool, prefix: str) -> str:
    lines = []
    verb = "would assign" if dry_run else "assigned"
    lines += [
        f"{shown_path(prefix, a.path)}:{a.line}: {verb} ID {a.id}" for a in summary.ids_assigned
    ]
    counts = (
        ", ".join(
            _count(n, what) for n, what in ((summary.notes, "note"), (len(summary.decks), "deck"))
        )
        + f", {len(summary.media)} media"
    )
    if dry_run:
        lines.append(f"would write {summary.output}: {counts}")
    elif summary.written:
        lines.append(f"wrote {summary.output}: {counts}")
    else:
        lines.append(f"{summary.output} is up to date: {counts}")
    return "\n".join(lines)


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"
