"""How commands talk to the user: progress and messages on stderr, results on stdout.

One small object per command run so that `--quiet` and `--json` behave the same in every
command: `--quiet` silences progress and messages, `--json` keeps stdout for one JSON
document (progress and messages are silenced too), problems always reach stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import click

from notecards.problems import Problem, shown_path

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

    def fail(self, code: int, problems: Sequence[Problem], prefix: str = "") -> NoReturn:
        """Stop the command with `code`: the problems on stderr, and with --json also as a
        JSON document on stdout (`ok: false`), so a program reading it always gets one."""
        self.problems(problems, prefix)
        self.emit_json(
            {"ok": False, "exit_code": code, "problems": problems_json(problems, prefix)}
        )
        raise SystemExit(code)

    def progress(
        self, items: Sequence[T], label: str, also: Callable[[], str] | None = None
    ) -> Iterator[T]:
        """Iterate `items` with a bar and a count on stderr when it helps (a tty, many
        items, not silenced); `also`: a count of other work going on meanwhile, shown after
        it on the same line as it stands at each step."""
        if not self._bar_helps(len(items)):
            yield from items
            return
        bar: Iterable[T]
        show = None if also is None else lambda _item: also()
        with click.progressbar(
            items, label=label, file=sys.stderr, show_pos=True, item_show_func=show
        ) as bar:
            yield from bar

    @contextmanager
    def counting(self, total: int, label: str) -> Iterator[Callable[[int], None]]:
        """The same bar for work done in chunks (files written in batches, notes rendered
        by workers): call the function it yields with the size of each chunk done."""
        if not self._bar_helps(total):
            yield lambda done: None
            return
        with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True) as bar:
            yield bar.update

    def _bar_helps(self, total: int) -> bool:
        return self.chatty and total >= PROGRESS_THRESHOLD and sys.stderr.isatty()


def problems_json(problems: Sequence[Problem], prefix: str = "") -> list[dict[str, Any]]:
    """Each problem as `path`, `line` (null for a problem in no file), `severity`, `message`."""
    return [
        {
            "path": shown_path(prefix, p.path) if p.path is not None else None,
            "line": p.line,
            "severity": str(p.severity),
            "message": p.message,
        }
        for p in problems
    ]


def count(n: int, what: str) -> str:
    """`1 note`, `2 notes`: what a person reads (`what` takes an s)."""
    return f"{n} {what}" if n == 1 else f"{n} {what}s"
