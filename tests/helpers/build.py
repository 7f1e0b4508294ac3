"""Running `notecards build` and looking at what it left on disk."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from notecards.cli import cli


def run_build(*args: str) -> Result:
    return CliRunner().invoke(cli, ["build", *args], catch_exceptions=False)


def snapshot_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }
