"""A vault's settings, from every source in order: defaults, O2A's data.json, notecards.yaml."""

from __future__ import annotations

from pathlib import Path

from notecards.config.notecards_yaml import CONFIG_FILE, apply_yaml
from notecards.config.o2a import O2A_SETTINGS, apply_o2a
from notecards.config.schema import VaultConfig


def load_config(root: Path) -> VaultConfig:
    """The vault's settings; raises NotecardsError (every mistake, at its line)."""
    config = VaultConfig(vault_name=root.resolve().name)
    if (root / O2A_SETTINGS).is_file():
        apply_o2a(config, root / O2A_SETTINGS)
    if (root / CONFIG_FILE).is_file():
        apply_yaml(config, root / CONFIG_FILE)
    return config
