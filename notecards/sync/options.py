"""How a sync runs: the command line's flags, apart from the steps that read them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SyncOptions:
    """How a sync runs (the command line's flags)."""

    dry_run: bool = False
    force: bool = False  # the vault's version wins, also over edits made in Anki
    prune: bool = False
    two_way: bool = True  # bring Anki's edits home first
    push: bool = True  # False: `notecards pull`, Anki's edits home and nothing sent
    prefer: str | None = None  # "vault" or "anki": who wins where both edited the same text
    # `--ankiweb`: Anki synced with AnkiWeb just before (edits made elsewhere may come in).
    after_ankiweb: bool = False
    # `notecards watch`: a file with an error (a START typed, its END not yet) is left out
    # and reported, and the rest of the vault syncs; else one error stops the sync.
    leave_out_bad_files: bool = False
