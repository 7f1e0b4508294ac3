"""Test-only fault hook: `NOTECARDS_FAULT_AT=<step>` SIGKILLs the process at that step, as a
power cut would, so the crash tests can stop a real run at each step in turn (the steps of a
sync, and the moment inside every atomic write between the temp file and the rename)."""

from __future__ import annotations

import os
import signal

FAULT_ENV = "NOTECARDS_FAULT_AT"


def fault_point(step: str) -> None:
    """Die here when NOTECARDS_FAULT_AT names this step; nothing otherwise."""
    if os.environ.get(FAULT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
