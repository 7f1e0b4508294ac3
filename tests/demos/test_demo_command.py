"""`notecards demo`: list, run, time, and the messages for an unknown demo or a missing torch."""

import shutil
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner

from notecards.cli import cli
from notecards.demo_catalog import DEMOS
from tests.helpers.paths import REPO

CARD = """\
START
Basic
what does DPO minimise?
Back: run [notecards demo dpo](notecards://demo/dpo) and [the icl one](notecards://demo/icl)
END
"""


@pytest.fixture
def vault(tmp_path):
    (tmp_path / "prefs.md").write_text(CARD, encoding="utf-8")
    return tmp_path


def test_list_names_every_demo_and_the_cards_that_link_to_it(vault):
    result = CliRunner().invoke(cli, ["demo", "--list", "--vault", str(vault)])
    assert result.exit_code == 0, result.output
    for name, shows in DEMOS.items():
        assert f"{name:14} {shows}" in result.output
    lines = result.output.splitlines()
    card_lines = [i for i, line in enumerate(lines) if "card: prefs.md:1 what does DPO" in line]
    assert len(card_lines) == 2
    demo_above = [lines[i - 1].split()[0] for i in card_lines]
    assert demo_above == ["dpo", "icl"]


def test_list_json_is_readable_by_a_program(vault):
    import json

    result = CliRunner().invoke(cli, ["demo", "--list", "--json", "--vault", str(vault)])
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert set(rows) == set(DEMOS)
    assert rows["dpo"]["cards"] == ["prefs.md:1 what does DPO minimise?"]
    assert rows["sft"]["cards"] == []


def test_every_catalogued_demo_has_a_module():
    for name in DEMOS:
        assert (REPO / "demos" / f"{name}.py").is_file(), name


def test_unknown_demo_names_the_known_ones():
    result = CliRunner().invoke(cli, ["demo", "dpoo"])
    assert result.exit_code == 1
    assert "no demo named 'dpoo'" in result.output
    assert all(name in result.output for name in DEMOS)


def test_missing_torch_gives_the_install_hint():
    # The fault is an absent torch; this venv has one, so the child process hides it the way
    # Python itself reports a missing module (sys.modules[name] = None makes import raise).
    code = (
        "import sys; sys.modules['torch'] = None; "
        "from notecards.cli import cli; cli(['demo', 'sft', '--quick'])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert "pip install 'notecards[demos]'" in result.stderr
    assert "torch==2.13.0" in result.stderr
    assert "Traceback" not in result.stderr


def test_flashcard_commands_never_import_torch():
    code = "import sys, notecards.cli; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_demo_passes_options_through_to_the_demo():
    pytest.importorskip("torch")
    args = ["demo", "sft", "--quick", "--steps", "3", "--pretrain-steps", "3", "--seed", "1"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "step 3: sft loss" in result.output
    assert "pretrain step 3" in result.output


def test_wheel_ships_the_demos_inside_the_package(tmp_path):
    """A plain `pip install .` must get notecards/demos/*.py (they live in demos/ in the repo)."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for folder in ("notecards", "demos"):
        shutil.copytree(
            REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if build.returncode != 0 and "No module named" in build.stderr:
        pytest.skip(f"cannot build a wheel offline here: {build.stderr.strip()[-200:]}")
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("notecards-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for demo in DEMOS:
        assert f"notecards/demos/{demo}.py" in names
    assert "notecards/demos/tinylm.py" in names
    assert not any(n.startswith("demos/") for n in names)
