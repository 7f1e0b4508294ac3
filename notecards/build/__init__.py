"""The package path: vault -> rendered notes -> IDs written back -> one `.apkg`."""

from notecards.build.pipeline import AssignedId, BuildSummary, build_vault

__all__ = ["AssignedId", "BuildSummary", "build_vault"]
