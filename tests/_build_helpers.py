"""Small vaults for build tests, written on the fly (the project's own fixtures)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from notecards.cli import cli


def card(front: str, back: str, tags: str = "ml", note_id: int | None = None) -> str:
    id_line = f"<!--ID: {note_id}-->\n" if note_id else ""
    return f"START\nBasic\n{front}\nBack: {back}\nTags: {tags}\n{id_line}END\n"


def write_vault(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8", newline="")
    return root


def run_build(*args: str) -> Result:
    return CliRunner().invoke(cli, ["build", *args], catch_exceptions=False)


def snapshot_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }
