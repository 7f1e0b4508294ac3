"""`notecards build VAULT -o FILE.apkg`: an Anki package, offline, IDs written back.

The build stage (and its package writer), and even the reporting modules, are imported when
the command runs, not for `notecards --help` (cli.py), which reads every command's help."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from notecards import exit_codes

if TYPE_CHECKING:
    from notecards.build import BuildSummary


@click.command()
@click.argument("vault", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Package to write (default: VAULT_NAME.apkg in the current folder).",
)
@click.option("--dry-run", is_flag=True, help="Write nothing; list what would be built.")
@click.option(
    "--force", is_flag=True, help="Replace an existing -o file that is not an Anki package."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress or messages; errors only.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def build(
    vault: Path, output: Path | None, dry_run: bool, force: bool, quiet: bool, as_json: bool
) -> None:
    """Build VAULT's cards into an Anki package (import it with File > Import)."""
    from notecards.build import build_vault
    from notecards.commands.failures import stopping_cleanly
    from notecards.output import Reporter

    reporter = Reporter(quiet=quiet, as_json=as_json)
    output = output or Path(f"{vault.resolve().name}.apkg")
    prefix = str(vault)
    with stopping_cleanly(reporter, prefix):
        summary = build_vault(vault, output, dry_run=dry_run, force=force, reporter=reporter)
    if reporter.chatty:  # with --json they are in the document
        reporter.problems(summary.warnings + summary.left_out, prefix=prefix)
    reporter.emit_json(summary.to_json() | {"dry_run": dry_run, "ok": not summary.left_out})
    reporter.result(_describe(summary, dry_run, prefix))
    if summary.left_out:
        raise SystemExit(exit_codes.PARTIAL)


def _describe(summary: BuildSummary, dry_run: bool, prefix: str) -> str:
    from notecards.output import count
    from notecards.problems import shown_path

    lines = []
    if dry_run:
        for note in summary.contents:
            where = f"{shown_path(prefix, str(note['where']))}"
            new = " (new)" if note["new"] else ""
            lines.append(f"{where}: {note['note_type']} in {note['deck']}, ID {note['id']}{new}")
        lines += [f"deck {deck}" for deck in summary.decks]
        lines += [f"media {name}" for name in summary.media]
    verb = "would assign" if dry_run else "assigned"
    lines += [
        f"{shown_path(prefix, a.path)}:{a.line}: {verb} ID {a.id}" for a in summary.ids_assigned
    ]
    counts = ", ".join(
        (
            count(summary.notes, "note"),
            count(len(summary.decks), "deck"),
            f"{len(summary.media)} media",
        )
    )
    if dry_run:
        lines.append(f"would write {summary.output}: {counts}")
    elif summary.written:
        lines.append(f"wrote {summary.output}: {counts}")
    else:
        lines.append(f"{summary.output} is up to date: {counts}")
    return "\n".join(lines)
