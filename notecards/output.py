"""How commands talk to the user: progress and messages on stderr, results on stdout.

One small object per command run so that `--quiet` and `--json` behave the same in every
command: `--quiet` silences progress and messages, `--json` keeps stdout for one JSON
document (progress and messages are silenced too), problems always reach stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import click

from notecards.problems import Problem

T = TypeVar("T")

# Below this many items a progress bar is only noise.
PROGRESS_THRESHOLD = 200


class Reporter:
    def __init__(self, quiet: bool = False, as_json: bool = False):
        self.quiet = quiet
        self.as_json = as_json

    @property
    def chatty(self) -> bool:
        return not (self.quiet or self.as_json)

    def info(self, message: str) -> None:
        """A line for people (stderr), unless silenced."""
        if self.chatty:
            click.echo(message, err=True)

    def result(self, message: str) -> None:
        """The human-readable outcome (stdout); with --json the JSON document replaces it."""
        if self.chatty:
            click.echo(message)

    def problems(self, problems: Sequence[Problem], prefix: str = "") -> None:
        """Every problem as `path:line: message` on stderr, whatever the flags."""
        for problem in problems:
            click.echo(problem.format(prefix), err=True)

    def emit_json(self, document: Any) -> None:
        if self.as_json:
            click.echo(json.dumps(document, indent=2, ensure_ascii=False))

    def progress(self, items: Sequence[T], label: str) -> Iterator[T]:
        """Iterate `items` with a bar on stderr when it helps (a tty, many items, not silenced)."""
        if not self.chatty or len(items) < PROGRESS_THRESHOLD or not sys.stderr.isatty():
            yield from items
            return
        bar: Iterable[T]
        with click.progressbar(items, label=label, file=sys.stderr) as bar:
            yield from bar
