"""`notecards --help` and `notecards check` start without the libraries they never use: the
HTTP client, the package writer, torch, and the sync, build and watch stages (a check run
after every save must start at once). Each runs in a fresh interpreter, which then names
the modules it holds."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers.paths import REPO
from tests.helpers.vault import block, write_vault

NEVER = (
    "requests",
    "urllib3",
    "genanki",
    "torch",
    "watchdog",
    "notecards.sync",
    "notecards.build",
    "notecards.watch",
    "notecards.targets.ankiconnect",
    "notecards.targets.package",
)

# Runs the command as `python -m notecards` does, then prints which of NEVER it imported.
_RUNNER = """
import json, runpy, sys
sys.argv = ["notecards", *sys.argv[1:]]
try:
    runpy.run_module("notecards", run_name="__main__")
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "loaded": [m for m in NEVER if m in sys.modules]}))
"""


def _loaded(*args: str, watched: tuple[str, ...] = NEVER) -> dict:
    """The command's exit code, and which of `watched` it imported."""
    runner = f"NEVER = {watched!r}\n{_RUNNER}"
    done = subprocess.run(
        [sys.executable, "-c", runner, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": ""},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args", [["--help"], ["check", "--help"], ["sync", "--help"], ["watch", "--help"]]
)
def test_help_imports_none_of_the_heavy_parts(args):
    assert _loaded(*args) == {"code": 0, "loaded": []}


def test_check_imports_none_of_the_heavy_parts(tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "A"), "b.md": "START\nBasic\n"})
    assert _loaded("check", str(vault)) == {"code": 1, "loaded": []}  # its error: exit 1


def test_a_command_imports_its_stage_when_it_runs(tmp_path):
    """The other side: the runner does see a lazily imported stage."""
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "A")})
    result = _loaded("build", str(vault), "-o", str(tmp_path / "a.apkg"))
    assert result["code"] == 0
    assert {"genanki", "notecards.build", "notecards.targets.package"} <= set(result["loaded"])


def test_yaml_is_imported_only_where_there_is_yaml_to_read(tmp_path):
    """PyYAML (10 ms of a 0.1 s check) for notecards.yaml or a note's frontmatter only."""
    plain = write_vault(tmp_path / "plain", {"a.md": block("Q", "A")})
    assert _loaded("check", str(plain), watched=("yaml",)) == {"code": 0, "loaded": []}
    settings = write_vault(
        tmp_path / "settings", {"a.md": block("Q", "A"), "notecards.yaml": "default_deck: D\n"}
    )
    front = write_vault(tmp_path / "front", {"a.md": "---\ntags: [x]\n---\n" + block("Q", "A")})
    for vault in (settings, front):
        assert _loaded("check", str(vault), watched=("yaml",)) == {"code": 0, "loaded": ["yaml"]}
