"""`notecards sync VAULT` and `notecards pull VAULT`: make a running Anki and the vault agree,
through AnkiConnect.

The sync stage and the HTTP client, and even the reporting modules, are imported when a
command runs, not for `notecards --help` (cli.py), which reads every command's help."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from notecards import exit_codes
from notecards.targets.address import DEFAULT_URL, is_loopback

if TYPE_CHECKING:
    from notecards.output import Reporter
    from notecards.problems import Problem
    from notecards.sync import SyncOptions, SyncReport
    from notecards.targets.ankiconnect import AnkiConnect

KEY_ENV = "NOTECARDS_ANKICONNECT_KEY"


# Whose edit wins where both edited the same text (sync, pull, watch).
PREFER = click.option(
    "--prefer",
    type=click.Choice(["vault", "anki"]),
    default=None,
    help="Where the vault and Anki edited the same text: whose edit wins"
    " [default: neither; the field is reported and left alone].",
)


def anki_options(command: Callable) -> Callable:
    """VAULT, and how to reach Anki: the options of every command that talks to Anki."""
    return _with(
        command,
        [
            click.argument("vault", type=click.Path(exists=True, file_okay=False, path_type=Path)),
            click.option(
                "--url",
                default=None,
                callback=lambda ctx, param, value: _http_url(value),
                help=f"AnkiConnect's address [default: {DEFAULT_URL}].",
            ),
            click.option(
                "--api-key",
                envvar=KEY_ENV,
                show_envvar=True,
                default=None,
                help="AnkiConnect's API key [default: ankiconnect.api_key in notecards.yaml].",
            ),
            click.option(
                "--timeout",
                type=click.FloatRange(min=0, min_open=True),
                default=120.0,
                show_default=True,
                help="Seconds to wait for each of Anki's answers (a large collection may be slow).",
            ),
        ],
    )


def _connection_options(command: Callable) -> Callable:
    """The options both commands take to reach Anki, and to report."""
    rest = [
        click.option(
            "--ankiweb",
            is_flag=True,
            help="Ask Anki to sync with AnkiWeb first (edits made on a phone come home) and"
            " again at the end (the phone gets the vault's changes).",
        ),
        click.option("--dry-run", is_flag=True, help="Print the plan; change nothing."),
        PREFER,
        click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout."),
        click.option("--quiet", "-q", is_flag=True, help="No progress; only problems."),
    ]
    return anki_options(_with(command, rest))


def _with(command: Callable, options: list[Callable]) -> Callable:
    """`command` with `options`, shown in their order."""
    for option in reversed(options):
        command = option(command)
    return command


@click.command()
@_connection_options
@click.option(
    "--one-way", is_flag=True, help="Only push the vault to Anki; edits made in Anki stay there."
)
@click.option(
    "--force", is_flag=True, help="The vault's version wins, also over edits made in Anki."
)
@click.option("--prune", is_flag=True, help="Delete notes synced earlier whose block is gone.")
def sync(
    vault: Path,
    url: str | None,
    api_key: str | None,
    timeout: float,
    ankiweb: bool,
    dry_run: bool,
    prefer: str | None,
    as_json: bool,
    quiet: bool,
    one_way: bool,
    force: bool,
    prune: bool,
) -> None:
    """Make Anki and VAULT agree: first bring home the edits made in Anki since the last sync
    (merged with the vault's), then add, update, move and delete notes, never duplicating one.

    Exit codes: 1 errors in the vault (nothing sent), 3 Anki unreachable or refused,
    4 conflicts left alone (the same text edited in Anki and in the vault; --prefer),
    5 some notes left out (refused by Anki, an edit that could not be written home, new in a
    read-only file; the rest synced), 6 another run is writing the vault.
    """
    from notecards.sync import SyncOptions

    options = SyncOptions(
        dry_run=dry_run, force=force, prune=prune, two_way=not one_way, prefer=prefer
    )
    _run(vault, url, api_key, timeout, ankiweb, options, as_json, quiet)


@click.command()
@_connection_options
def pull(
    vault: Path,
    url: str | None,
    api_key: str | None,
    timeout: float,
    ankiweb: bool,
    dry_run: bool,
    prefer: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Bring the edits made in Anki since the last sync home to VAULT; send nothing to Anki.

    Exit codes: as `notecards sync`'s.
    """
    from notecards.sync import SyncOptions

    options = SyncOptions(dry_run=dry_run, push=False, prefer=prefer)
    _run(vault, url, api_key, timeout, ankiweb, options, as_json, quiet)


def _run(
    vault: Path,
    url: str | None,
    api_key: str | None,
    timeout: float,
    ankiweb: bool,
    options: SyncOptions,
    as_json: bool,
    quiet: bool,
) -> None:
    from notecards.commands.failures import stopping_cleanly
    from notecards.output import Reporter
    from notecards.sync import sync_vault

    reporter = Reporter(quiet=quiet, as_json=as_json)
    root = vault.resolve()
    refused: list[Problem] = []
    with stopping_cleanly(reporter, str(vault)):
        client = anki_client(root, url, api_key, timeout)
        if ankiweb:
            refused += _ankiweb(client, reporter, "before")
            options = dataclasses.replace(options, after_ankiweb=True)
        report = sync_vault(root, client, options, reporter=reporter)
        if ankiweb and not options.dry_run:
            refused += _ankiweb(client, reporter, "after")
    report.problems[:0] = refused
    _print(report, reporter, options, str(vault))
    if report.errors:
        raise SystemExit(exit_codes.PARTIAL)
    if report.plan.conflicts and options.prefer is None:
        raise SystemExit(exit_codes.CONFLICTS)


def _ankiweb(client: AnkiConnect, reporter: Reporter, when: str) -> list[Problem]:
    """Anki's own sync with AnkiWeb; a refusal (not logged in, a full sync needed) is a
    warning, and the local sync goes on. Anki unreachable stops the run, as in any sync."""
    from notecards.problems import Problem, Severity
    from notecards.targets.errors import AnkiRefused

    reporter.info(f"syncing Anki with AnkiWeb ({when} the local sync)")
    try:
        client.invoke("sync")
    except AnkiRefused as error:
        message = (
            f"Anki did not sync with AnkiWeb {when} the local sync ({error}); in Anki, log in"
            " to AnkiWeb (Tools > Preferences > Syncing) or run the full sync it asks for"
        )
        return [Problem(message, severity=Severity.WARNING)]
    return []


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


def anki_client(root: Path, url: str | None, api_key: str | None, timeout: float) -> AnkiConnect:
    """The URL from --url, else notecards.yaml (loopback only), else the default; the key from
    --api-key or its environment variable (click reads both), else notecards.yaml."""
    from notecards.config import load_config
    from notecards.targets.ankiconnect import AnkiConnect
    from notecards.targets.errors import AnkiConnectError

    config = load_config(root)
    if url is None:
        url = config.ankiconnect_url or DEFAULT_URL
        if not is_loopback(url):
            raise AnkiConnectError(
                f"notecards.yaml sends notes to {url}, which is not this machine; "
                f"pass --url {url} to confirm."
            )
    return AnkiConnect(url, api_key or config.ankiconnect_api_key or None, timeout=timeout)


def _print(report: SyncReport, reporter: Reporter, options: SyncOptions, prefix: str) -> None:
    from notecards.problems import shown_path
    from notecards.sync import plan_lines
    from notecards.sync.report import pulled_lines

    dry_run = options.dry_run
    reporter.problems(report.plan.problems + report.problems, prefix)
    if reporter.as_json:
        reporter.emit_json(report.to_json())
        return
    for line in report.recovered:
        reporter.result(f"recovered {line}")
    for line in pulled_lines(report.pulled, prefix, diffs=dry_run):
        reporter.result(line)
    if dry_run:
        for line in plan_lines(report.plan, prefix):
            reporter.result(line)
    else:
        for line in plan_lines(report.plan, prefix, notices_only=True):
            reporter.result(line)
        for path, line, note_id in report.written_ids:
            reporter.result(f"{shown_path(prefix, path)}:{line}: ID {note_id} written")
    counts = {"pulled": len({p.note_id for p in report.pulled}), **report.plan.counts()}
    shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items() if v)
    verb = "would change" if dry_run else "synced"
    reporter.result(f"{verb}: {shown or 'nothing'} ({report.requests} request(s) to Anki)")
    if dry_run and options.two_way:
        reporter.result(NOT_PULLED)


# What a pull does not bring home (README, "Two-way sync"), said in every --dry-run.
NOT_PULLED = (
    "not brought home from Anki: notes added there, deck moves (the vault's deck is kept),"
    " note-type changes; a note deleted in Anki is added again"
)
