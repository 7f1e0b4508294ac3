"""Each long step of a build shows a bar with its count on a terminal's stderr: reading the
files, rendering (each note packed as it comes), writing IDs back; `--quiet` and `--json`
show none."""

from __future__ import annotations

import io
import sys

import pytest

from notecards.build import build_vault
from notecards.output import PROGRESS_THRESHOLD, Reporter
from notecards.render import pool
from tests.helpers.vault import block, write_vault

FILES = PROGRESS_THRESHOLD + 10


class Terminal(io.StringIO):
    """stderr as a terminal shows it (the bar is drawn only on one)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def vault(tmp_path):
    return write_vault(tmp_path / "v", {f"n{i:04}.md": block(f"q{i}", "a") for i in range(FILES)})


def build_shown(vault, monkeypatch, **flags) -> str:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    build_vault(vault, vault.parent / "v.apkg", reporter=Reporter(**flags))
    return terminal.getvalue()


def test_every_long_step_shows_its_count(vault, monkeypatch):
    shown = build_shown(vault, monkeypatch)
    for label in ("reading", "rendering", "writing IDs"):
        assert f"{label}" in shown and f"{FILES}/{FILES}" in shown.split(label, 1)[1]
    assert f"writing {FILES} new ID(s) into {FILES} files" in shown


def test_the_parse_shows_the_notes_the_workers_rendered_meanwhile(vault, monkeypatch):
    """The workers render while the files are parsed: the parsing line counts both."""
    monkeypatch.setenv(pool.POOL_ENV, "0")
    parsing = build_shown(vault, monkeypatch).split("parsing", 1)[1].split("rendering", 1)[0]
    assert f"{FILES}/{FILES}" in parsing and " notes rendered" in parsing


@pytest.mark.parametrize("flags", [{"quiet": True}, {"as_json": True}])
def test_quiet_and_json_show_no_progress(vault, monkeypatch, flags):
    assert build_shown(vault, monkeypatch, **flags) == ""
