"""New note IDs: Anki-style millisecond timestamps, unique in the vault, never in the future.

Scheme: walk down from the current millisecond (now, now-1, now-2, ...) skipping every ID
the vault already uses, take as many as needed, and hand them out in ascending order so
that notes earlier in the vault get smaller IDs. Going down rather than up keeps every ID
<= now (an ID from the future would sort after notes the user creates later in Anki), and
the walk is short: a vault rarely holds IDs within a few ms of the build.
"""

from __future__ import annotations

import time
from collections.abc import Collection


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_ids(count: int, used: Collection[int], now: int | None = None) -> list[int]:
    """`count` distinct IDs, each <= `now` (ms) and not in `used`, ascending."""
    candidate = now_ms() if now is None else now
    taken: list[int] = []
    while len(taken) < count:
        if candidate <= 0:
            raise ValueError("no free note ID at or below the current time")
        if candidate not in used:
            taken.append(candidate)
        candidate -= 1
    taken.reverse()
    return taken
