"""The real Anki desktop with a real AnkiConnect release (`../shared/real-anki`), for the tests
that must meet the real thing rather than the project's test server.

Where `../shared` is missing (a user's clone) the tests skip and say so. Where it is there, a
start that fails skips with start.sh's reason and Anki's log, except in CI (env `CI` set), where
it fails: CI must run these tests, not skip them. Nothing is installed here (`.ci/run` installs),
so a test run never calls apt-get or sudo.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
import requests

from tests.helpers.paths import SHARED

REAL_ANKI = SHARED / "real-anki"
ADDONS = SHARED / "ankiconnect" / "addons"
# The last code on the add-on's GitHub (2023), and the release AnkiWeb serves (November 2025).
RELEASES = ("2023-github", "25.11.9")
START_TIMEOUT_S = 180  # start.sh waits up to 120 s for AnkiConnect itself
LOG_LINES = 30


class AnkiConnectRefused(Exception):
    """An action AnkiConnect answered with an error."""


@dataclass(frozen=True)
class RealAnki:
    """One running desktop: its AnkiConnect URL, the add-on release, and its state folder."""

    release: str
    url: str
    state: Path

    def invoke(self, action: str, **params: Any) -> Any:
        """One action on its own connection (the add-on closes every connection after its
        answer, so a kept-alive one may be reset); its result, or AnkiConnectRefused."""
        body: dict[str, Any] = {"action": action, "version": 6}
        if params:
            body["params"] = params
        with requests.Session() as session:
            session.trust_env = False  # never a proxy for 127.0.0.1
            answer = session.post(self.url, json=body, timeout=60).json()
        if answer["error"] is not None:
            raise AnkiConnectRefused(f"{action}: {answer['error']}")
        return answer["result"]

    def note_ids(self) -> list[int]:
        return self.invoke("findNotes", query="")

    def delete_all_notes(self) -> None:
        """Back to an empty collection: cheaper than a new desktop (2 requests, not 4 s)."""
        if ids := self.note_ids():
            self.invoke("deleteNotes", notes=ids)

    def log_tail(self) -> str:
        log = self.state / "anki.log"
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        return "\n".join(lines[-LOG_LINES:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _not_started(reason: str) -> NoReturn:
    """Fail in CI, where these tests must run; skip elsewhere, saying why."""
    if os.environ.get("CI"):
        pytest.fail(f"the real Anki did not start in CI: {reason}", pytrace=False)
    pytest.skip(
        f"the real Anki did not start here: {reason}\n(tests install nothing; "
        "`../shared/real-anki/start.sh ADDON_DIR PORT` installs what it lacks, as .ci/run does)"
    )


@contextmanager
def running_anki(release: str, workdir: Path) -> Iterator[RealAnki]:
    """Start the desktop with `release` of the add-on on a free port, state under `workdir`;
    yield it; stop it with stop.sh whatever happens (start.sh may have left processes)."""
    addon = ADDONS / release
    if not (REAL_ANKI / "start.sh").is_file():
        pytest.skip(f"no {REAL_ANKI} beside the checkout (it ships with CI, not the repo)")
    if not addon.is_dir():
        pytest.skip(f"no AnkiConnect release {release} at {addon}")
    port = _free_port()
    state = workdir / f"realanki-{release}"
    env = {
        **os.environ,
        "REALANKI_STATE": str(state),
        "REALANKI_NO_INSTALL": "1",
        # Anki runs once per user unless told otherwise: a second desktop (the user's own,
        # another test run's) would make this one hand over to it and exit.
        "ANKI_SINGLE_INSTANCE_KEY": f"notecards-tests-{port}-{os.getpid()}",
    }
    anki = RealAnki(release, f"http://127.0.0.1:{port}", state)
    try:
        try:
            started = subprocess.run(
                [REAL_ANKI / "start.sh", addon, str(port)],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=START_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            _not_started(f"start.sh ran over {START_TIMEOUT_S} s\n{anki.log_tail()}")
        if started.returncode != 0:
            said = started.stderr.strip().splitlines()[-1:] or ["(nothing on stderr)"]
            _not_started(f"{said[0]} (start.sh exit {started.returncode})\n{anki.log_tail()}")
        yield anki
    finally:
        subprocess.run(
            [REAL_ANKI / "stop.sh", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
        )
