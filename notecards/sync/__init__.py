"""The live path: make a running Anki and the vault agree, through AnkiConnect.

One file per step, in the order `run.py` takes them: read the vault (`read_vault.py`) and
Anki (`read_anki.py`), recover an interrupted run (`recovery.py`), bring Anki's edits home
(`pull_edits.py`, with the bases in `pushed_fields.py`), plan (`plan.py`, pure),
push (`push.py`, `importer.py`, `media.py`), remember what was pushed (`state.py`), and tell
the user (`report.py`). A sync with nothing to do is told apart first (`as_left.py`).

Each name is imported on first use (PEP 562): that sync imports none of the steps it skips."""

from __future__ import annotations

from typing import TYPE_CHECKING

from notecards.lazy import lazy_exports

if TYPE_CHECKING:
    from notecards.sync.entry import sync_vault
    from notecards.sync.options import SyncOptions
    from notecards.sync.report import SyncReport, plan_lines

_MODULES = {
    "SyncOptions": "options",
    "SyncReport": "report",
    "plan_lines": "report",
    "sync_vault": "entry",
}
__all__ = ["SyncOptions", "SyncReport", "plan_lines", "sync_vault"]

__getattr__ = lazy_exports(__name__, _MODULES)
