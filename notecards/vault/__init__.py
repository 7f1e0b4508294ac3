"""The user's files on disk: which files the vault holds, reading them, writing IDs and edits
made in Anki back into them (atomically: `atomic.py`), and the `.notecards/` folder beside them
(`state_dir.py`)."""

from notecards.vault.field_writeback import FieldUpdate, FieldWriteResult, write_fields
from notecards.vault.load import Vault, VaultFiles, load_vault, read_vault_files
from notecards.vault.writeback import WriteBackResult, write_back

__all__ = [
    "FieldUpdate",
    "FieldWriteResult",
    "Vault",
    "VaultFiles",
    "WriteBackResult",
    "load_vault",
    "read_vault_files",
    "write_back",
    "write_fields",
]
