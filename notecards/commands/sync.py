"""`notecards sync VAULT`: make a running Anki match the vault, through AnkiConnect."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click

from notecards import exit_codes
from notecards.commands.failures import stopping_cleanly
from notecards.config import VaultConfig, load_config
from notecards.output import Reporter
from notecards.problems import shown_path
from notecards.sync import SyncReport, plan_lines, sync_vault
from notecards.targets.ankiconnect import (
    DEFAULT_URL,
    AnkiConnect,
    AnkiConnectError,
    is_loopback,
)

KEY_ENV = "NOTECARDS_ANKICONNECT_KEY"


@click.command()
@click.argument("vault", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--url",
    default=None,
    callback=lambda ctx, param, value: _http_url(value),
    help=f"AnkiConnect's address [default: {DEFAULT_URL}].",
)
@click.option(
    "--api-key",
    envvar=KEY_ENV,
    show_envvar=True,
    default=None,
    help="AnkiConnect's API key [default: ankiconnect.api_key in notecards.yaml].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=120.0,
    show_default=True,
    help="Seconds to wait for each of Anki's answers (a large collection may be slow).",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--force", is_flag=True, help="On a conflict, the vault's version wins.")
@click.option("--prune", is_flag=True, help="Delete notes synced earlier whose block is gone.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress; only problems.")
def sync(
    vault: Path,
    url: str | None,
    api_key: str | None,
    timeout: float,
    dry_run: bool,
    force: bool,
    prune: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Make Anki match VAULT: add, update, move and delete notes, never duplicating one.

    Exit codes: 1 errors in the vault (nothing sent), 3 Anki unreachable or refused,
    4 conflicts left alone (edited in Anki and in the vault; --force), 5 some notes left out
    (refused by Anki, or new in a read-only file; the rest synced), 6 another run is writing
    the vault.
    """
    reporter = Reporter(quiet=quiet, as_json=as_json)
    root = vault.resolve()
    with stopping_cleanly(reporter, str(vault)):
        client = _client(root, url, api_key, timeout)
        report = sync_vault(
            root, client, dry_run=dry_run, force=force, prune=prune, reporter=reporter
        )
    _print(report, reporter, dry_run, str(vault))
    if report.errors:
        raise SystemExit(exit_codes.PARTIAL)
    if report.plan.conflicts and not force:
        raise SystemExit(exit_codes.CONFLICTS)


def _http_url(value: str | None) -> str | None:
    """An http(s) URL with a host and a valid port, or a usage error (exit 2)."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a bad port or IPv6 address
        valid = False
    if not valid:
        raise click.BadParameter(f"{value!r} is not an http:// URL such as {DEFAULT_URL}")
    return value


def _client(root: Path, url: str | None, api_key: str | None, timeout: float) -> AnkiConnect:
    """The URL from --url, else notecards.yaml (loopback only), else the default; the key from
    --api-key or its environment variable (click reads both), else notecards.yaml."""
    config: VaultConfig = load_config(root)
    if url is None:
        url = config.ankiconnect_url or DEFAULT_URL
        if not is_loopback(url):
            raise AnkiConnectError(
                f"notecards.yaml sends notes to {url}, which is not this machine; "
                f"pass --url {url} to confirm."
            )
    return AnkiConnect(url, api_key or config.ankiconnect_api_key or None, timeout=timeout)


def _print(report: SyncReport, reporter: Reporter, dry_run: bool, prefix: str) -> None:
    reporter.problems(report.plan.problems + report.problems, prefix)
    if reporter.as_json:
        reporter.emit_json(report.to_json())
        return
    for line in report.recovered:
        reporter.result(f"recovered {line}")
    if dry_run:
        for line in plan_lines(report.plan, prefix):
            reporter.result(line)
    else:
        for line in plan_lines(report.plan, prefix, notices_only=True):
            reporter.result(line)
        for path, line, note_id in report.written_ids:
            reporter.result(f"{shown_path(prefix, path)}:{line}: ID {note_id} written")
    counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in report.plan.counts().items() if v)
    verb = "would change" if dry_run else "synced"
    reporter.result(f"{verb}: {counts or 'nothing'} ({report.requests} request(s) to Anki)")
