"""`notecards watch VAULT`: sync on save (or rebuild a package), one line per sync.

The loop is the watch stage's (notecards/watch/); this module reads the options and says
what each run did: `12:04:31 LLM post-training.md: 1 updated` on stdout, nothing when a
run changed nothing, every problem as `path:line: message` on stderr, and with `--json`
one JSON object per run, on one line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from notecards.commands.sync import PREFER, anki_client, anki_options

if TYPE_CHECKING:
    from notecards.problems import Problem
    from notecards.watch.steps import Outcome


@click.command()
@anki_options
@click.option(
    "--debounce",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="Run once the vault has been quiet this long (a burst of saves makes one sync).",
)
@click.option("--once", is_flag=True, help="Run once, then exit (with sync's exit code).")
@click.option(
    "--build",
    "package",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.apkg",
    help="Rebuild this package on save instead of syncing (no AnkiConnect needed).",
)
@PREFER
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run, one a line.")
@click.option("--quiet", "-q", is_flag=True, help="Only problems; no line per sync.")
def watch(
    vault: Path,
    url: str | None,
    api_key: str | None,
    timeout: float,
    debounce: float,
    once: bool,
    package: Path | None,
    prefer: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Sync VAULT with Anki on every save, two-way, as `notecards sync` does: first what
    changed since the last sync, then after each burst of saves. A file with an error is
    reported and left out; the rest syncs. Anki closed: said once, synced when it is back.
    Ctrl-C stops it (exit 130) once the sync under way has finished.
    """
    import json  # here, as every import of a command's run: not for `notecards --help`

    from notecards.commands.failures import stopping_cleanly
    from notecards.output import Reporter
    from notecards.watch.changes import VaultChanges
    from notecards.watch.loop import watch as watching
    from notecards.watch.steps import BuildStep, Step, SyncStep

    reporter = Reporter(quiet=quiet, as_json=as_json)
    prefix = str(vault)
    root = vault.resolve()
    step: Step
    silent = Reporter(quiet=True)  # a run's own messages: the line per run says it all
    with stopping_cleanly(reporter, prefix):
        if package is not None:
            step = BuildStep(root, package, silent)
        else:
            step = SyncStep(root, anki_client(root, url, api_key, timeout), silent, prefer)

    def tell(outcome: Outcome, fresh: list[Problem]) -> None:
        stamp = time.strftime("%H:%M:%S")
        reporter.problems(fresh, prefix)
        if as_json:
            click.echo(json.dumps({"time": stamp, **outcome.document}, ensure_ascii=False))
        elif outcome.summary:
            reporter.result(f"{stamp} {outcome.summary}")
        if fresh and outcome.unreachable:
            reporter.info("still watching: the vault syncs once Anki answers")

    if once:
        outcome = step.run()
        tell(outcome, outcome.problems)
        raise SystemExit(outcome.exit_code)
    ignored = frozenset({package}) if package is not None else frozenset()
    with VaultChanges(root, debounce, ignored) as changes:
        watching(changes, step, tell, reporter.info)
