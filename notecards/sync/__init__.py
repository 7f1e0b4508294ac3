"""The live path: make a running Anki and the vault agree, through AnkiConnect.

One file per step, in the order `run.py` takes them: read the vault (`read_vault.py`) and
Anki (`read_anki.py`), recover an interrupted run (`recovery.py`), bring Anki's edits home
(`pull_edits.py`, with the bases in `pushed_fields.py`), plan (`plan.py`, pure),
push (`push.py`, `importer.py`, `media.py`), remember what was pushed (`state.py`), and tell
the user (`report.py`)."""

from notecards.sync.report import SyncReport, plan_lines
from notecards.sync.run import SyncOptions, sync_vault

__all__ = ["SyncOptions", "SyncReport", "plan_lines", "sync_vault"]
