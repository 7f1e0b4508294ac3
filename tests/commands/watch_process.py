"""A real `python -m notecards watch` process, and what it says, line by line.

Tests wait on what the watch prints (or on the server), each wait with a generous limit, never
on a fixed sleep: a loaded machine only makes the waits longer."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from tests.helpers.paths import REPO

WAIT_S = 120.0  # far past what any step takes; only a hang reaches it


class WatchProcess:
    """`notecards watch VAULT ARGS...` in a child process, its stdout and stderr read as they
    come (`out`, `err`: every line so far)."""

    def __init__(self, vault: Path, *args: str):
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "notecards", "watch", str(vault), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=env,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self._closed: set[str] = set()
        for name, stream in (("out", self.process.stdout), ("err", self.process.stderr)):
            threading.Thread(target=self._read, args=(name, stream), daemon=True).start()

    def _read(self, name: str, stream) -> None:
        for line in stream:
            self._lines.put((name, line.rstrip("\n")))
        self._lines.put((name, None))  # closed

    def wait_for(self, stream: str, pattern: str, timeout_s: float = WAIT_S) -> str:
        """The next line on `stream` ("out" or "err") that `pattern` (a regexp) matches."""
        return self._wait(stream, lambda line: re.search(pattern, line) is not None, timeout_s)

    def wait_for_json(self, test: Callable[[dict], bool], timeout_s: float = WAIT_S) -> dict:
        """The next JSON object on stdout that passes `test` (with --json)."""
        return json.loads(self._wait("out", lambda line: test(json.loads(line)), timeout_s))

    def _wait(self, stream: str, test: Callable[[str], bool], timeout_s: float) -> str:
        while True:
            name, line = self._take(timeout_s)
            if line is None and name == stream:
                raise AssertionError(f"the watch closed its std{stream}; {self._said()}")
            if name == stream and line is not None and test(line):
                return line

    def _take(self, timeout_s: float) -> tuple[str, str | None]:
        try:
            name, line = self._lines.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"waited {timeout_s:g} s in vain; {self._said()}") from None
        if line is None:
            self._closed.add(name)
        else:
            (self.out if name == "out" else self.err).append(line)
        return name, line

    def ready(self, said: str | None = None) -> None:
        """Wait until the first run is done and the watch is watching; with `said`, until the
        first run's line on stdout matches it too (the two pipes arrive in either order)."""
        waiting = {("err", r"^watching for saves")} | ({("out", said)} if said else set())
        while waiting:
            name, line = self._take(WAIT_S)
            if line is None:
                raise AssertionError(f"the watch closed its std{name}; {self._said()}")
            waiting = {(s, p) for s, p in waiting if not (s == name and re.search(p, line))}

    def interrupt(self) -> int:
        """Ctrl-C; its exit code once it has stopped."""
        self.process.send_signal(signal.SIGINT)
        return self.wait()

    def wait(self) -> int:
        """Its exit code once it has ended, and everything it said read."""
        code = self.process.wait(timeout=WAIT_S)
        while len(self._closed) < 2:
            self._take(WAIT_S)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _said(self) -> str:
        return f"stdout so far: {self.out}; stderr so far: {self.err}"
