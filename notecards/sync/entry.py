"""`sync_vault`, the sync stage's door: the vault's lock, then a sync with nothing to do told
apart by its bytes and one request (as_left.py), else the whole sync (run.py, imported only
then: its steps import the renderer, the HTML walker and the write-back)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from notecards.output import Reporter
from notecards.sync.as_left import unchanged_sync
from notecards.sync.options import SyncOptions
from notecards.sync.report import SyncReport
from notecards.targets.ankiconnect import AnkiConnect
from notecards.vault.lock import vault_lock


def sync_vault(
    root: Path,
    client: AnkiConnect,
    options: SyncOptions | None = None,
    reporter: Reporter | None = None,
) -> SyncReport:
    """Plan, and unless `options.dry_run` apply (holding the vault's lock), the changes that
    make Anki and the vault at `root` agree.

    Raises NotecardsError for a vault with errors (nothing sent), AnkiConnectError when Anki
    cannot be reached or refuses a request, VaultBusy while another run writes the vault.
    """
    reporter = reporter or Reporter(quiet=True)
    options = options or SyncOptions()
    if options.force and options.prefer is None:
        options = dataclasses.replace(options, prefer="vault")
    if options.dry_run:
        return _whole_sync()(root, client, options, reporter)
    with vault_lock(root, waiting=reporter.info):
        start = client.requests_sent
        looked = unchanged_sync(root, client, options)
        if looked.report is not None:
            return looked.report
        report = _whole_sync()(root, client, options, reporter, looked)
    report.requests = client.requests_sent - start  # (the check's own request among them)
    return report


def _whole_sync() -> Callable[..., SyncReport]:
    """run.py's whole sync, imported when one runs."""
    from notecards.sync.run import sync_leaving_out

    return sync_leaving_out
