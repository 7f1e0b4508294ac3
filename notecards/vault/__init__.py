"""The user's files on disk: which files the vault holds, reading them, writing IDs and edits
made in Anki back into them (atomically: `atomic.py`), and the `.notecards/` folder beside them
(`state_dir.py`).

Each name is imported on first use (PEP 562): a sync with nothing to do, which only reads the
files, imports neither the parser nor the write-back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from notecards.lazy import lazy_exports

if TYPE_CHECKING:
    from notecards.vault.field_writeback import FieldUpdate, FieldWriteResult, write_fields
    from notecards.vault.load import Vault, VaultFiles, load_vault, read_vault_files
    from notecards.vault.writeback import WriteBackResult, cache_parses, write_back

_MODULES = {
    "FieldUpdate": "field_writeback",
    "FieldWriteResult": "field_writeback",
    "Vault": "load",
    "VaultFiles": "load",
    "WriteBackResult": "writeback",
    "cache_parses": "writeback",
    "load_vault": "load",
    "read_vault_files": "load",
    "write_back": "writeback",
    "write_fields": "field_writeback",
}
__all__ = [
    "FieldUpdate",
    "FieldWriteResult",
    "Vault",
    "VaultFiles",
    "WriteBackResult",
    "cache_parses",
    "load_vault",
    "read_vault_files",
    "write_back",
    "write_fields",
]

__getattr__ = lazy_exports(__name__, _MODULES)
