"""Hostile input: a value no demo can work with is a usage error (exit 2) that names the option
and what it accepts, before anything trains or is written, and never a traceback."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

torch = pytest.importorskip("torch")

from demos import cli  # noqa: E402
from notecards.cli import cli as notecards  # noqa: E402
from notecards.demo_catalog import DEMOS  # noqa: E402
from tests.helpers.paths import REPO  # noqa: E402

# setting -> values it must refuse, read off what each demo does with it
REFUSED = {
    "steps": ["-1", "0", "1.5", "ten"],  # dpo, reward_model and ppo_kl read the first step's loss
    "pretrain_steps": ["-1", "2.0"],  # 0 is fine: the base model stays untrained
    "sft_steps": ["-1"],
    "rm_steps": ["-1"],
    "batch_size": ["-1", "0"],  # an empty batch has no loss
    "samples": ["0", "-3"],
    "verdict_samples": ["0", "-3"],
    "per_question": ["1", "0", "2.5"],  # dpo and pipeline compare answers two by two
    "seeds": ["0", "-1"],
    "eval_every": ["0"],
    "max_new_tokens": ["0", "-1"],
    "test_prompts": ["0"],
    "ppo_epochs": ["0"],
    "print_every": ["0", "-5"],  # step % 0
    "show": ["0", "-1"],
    "lr": ["-1e-3", "0", "nan", "inf", "-inf"],
    "beta": ["-0.5", "0", "nan", "inf"],  # 0: every implicit reward is 0, nothing is learnt
    "clip_range": ["0", "-0.2", "nan"],
    "vf_coef": ["-1", "inf"],
    "gamma": ["-0.1", "1.5", "nan"],
    "lam": ["-0.1", "1.01", "inf"],
    "held_out": ["0", "1", "0.01", "1.5", "nan"],  # 48 questions: both sides need one
    "betas": ["", "x", "-1", "0,nan", "0,,0.5", "0;0.5"],
    "seed": [str(-(2**63) - 1), str(2**64), "1.5"],
    "device": ["tpu", "gpu", "cuda:x", "cuda:"],
}
ACCEPTED = {  # the edges of the ranges: each must still parse
    "pretrain_steps": "0",
    "sft_steps": "0",
    "rm_steps": "0",
    "gamma": "0",
    "lam": "1",
    "vf_coef": "0",
    "held_out": "0.95",
    "per_question": "2",
    "betas": "0",
    "seed": str(-(2**63)),
}


def demo(name: str) -> ModuleType:
    """The demo's module, as `notecards demo NAME` runs it from a checkout."""
    return importlib.import_module(f"demos.{name}")


def settings(name: str) -> list[str]:
    """The options of demo `name` that take a value: its settings, --seed and --device."""
    keys = [key for key in demo(name).DEFAULTS if not key.startswith(("quick_", "full_"))]
    return ["seed", "device", *keys]


def option(key: str) -> str:
    """The option of setting `key`, as demo_args spells it."""
    return f"--{key.replace('_', '-')}"


CASES = [
    pytest.param(name, key, value, id=f"{name}-{key}={value}")
    for name in DEMOS
    for key in settings(name)
    for value in REFUSED[key]
]


def refuse(name: str, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run demo `name` with `argv`; it must stop with exit 2 and print nothing on stdout (no
    training line). Returns its last stderr line."""
    with pytest.raises(SystemExit) as stopped:
        demo(name).main(argv)
    out, err = capsys.readouterr()
    assert stopped.value.code == 2, err
    assert out == ""
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_every_setting_of_every_demo_has_values_it_refuses():
    """A new setting needs a line in REFUSED, so that its range is tested too."""
    missing = {key for name in DEMOS for key in settings(name)} - set(REFUSED)
    assert not missing


def test_negative_steps_is_a_usage_error_before_training(capsys, tmp_path):
    line = refuse("dpo", ["--steps", "-1", "--plot", str(tmp_path / "dpo.png")], capsys)
    assert line == (
        "notecards demo dpo: error: argument --steps: expects a whole number >= 1, not '-1'"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "key", "value"), CASES)
def test_a_value_the_setting_cannot_take_is_a_usage_error_before_training(
    name, key, value, capsys, tmp_path
):
    plot = tmp_path / "curves.png"
    line = refuse(name, ["--quick", "--plot", str(plot), f"{option(key)}={value}"], capsys)
    assert line.startswith(f"notecards demo {name}: error: argument {option(key)}: expects ")
    assert repr(value) in line
    assert not plot.exists()


@pytest.mark.parametrize("value", ["-1e-3", "-inf", "-nan"])
def test_a_negative_number_after_a_space_is_read_as_the_value(value, capsys):
    """argparse alone takes '-1e-3' for an option and never says what --lr accepts."""
    line = refuse("sft", ["--lr", value], capsys)
    assert line.endswith(f"argument --lr: expects a finite number > 0, not {value!r}")


@pytest.fixture
def unwritable_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder where no file can be made: read-only for a user; root may write there anyway,
    so it gets /proc, where no one can."""
    if os.name != "posix":
        pytest.skip("needs POSIX permissions")
    if os.geteuid() == 0:
        yield Path("/proc")
        return
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def refuse_plot(plot: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """--plot `plot` must stop sft before training, with its folder as it was."""
    before = sorted(plot.parent.iterdir()) if plot.parent.is_dir() else None
    line = refuse("sft", ["--quick", "--plot", str(plot)], capsys)
    assert "argument --plot: expects " in line
    assert (sorted(plot.parent.iterdir()) if plot.parent.is_dir() else None) == before
    return line


@pytest.mark.parametrize(
    ("plot", "says"),
    [
        ("no-such-folder/curves.png", "a file in an existing folder"),
        ("a-folder.png", "a .png file, not the folder"),
        ("curves.jpg", "a file name ending in .png"),
        ("curves", "a file name ending in .png"),
    ],
)
def test_plot_path_that_cannot_be_saved_is_a_usage_error_before_training(
    plot, says, capsys, tmp_path
):
    (tmp_path / "a-folder.png").mkdir()
    assert says in refuse_plot(tmp_path / plot, capsys)


def test_plot_into_an_unwritable_folder_is_a_usage_error_before_training(unwritable_folder, capsys):
    assert "a file it may write" in refuse_plot(unwritable_folder / "curves.png", capsys)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_device_cuda_without_cuda_keeps_its_message(capsys):
    line = refuse("sft", ["--device", "cuda"], capsys)
    assert line.endswith("argument --device: no CUDA device is available here; use --device cpu")


def test_device_naming_a_cuda_device_this_machine_lacks_is_a_usage_error(monkeypatch, capsys):
    """On a machine with one CUDA device, cuda and cuda:0 are taken and cuda:1 is refused."""
    monkeypatch.setattr(cli.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(cli.torch.cuda, "device_count", lambda: 1)
    for name in ("cuda", "cuda:0", "auto", "cpu"):
        assert cli.demo_args("sft", "", demo("sft").DEFAULTS, ["--device", name]).device == name
    line = refuse("sft", ["--device", "cuda:1"], capsys)
    assert line.endswith(
        "argument --device: expects cuda:0 to cuda:0 (the CUDA devices here), not 'cuda:1'"
    )


@pytest.mark.parametrize("name", list(DEMOS))
def test_the_edges_of_each_range_are_accepted(name):
    argv = [f"{option(key)}={ACCEPTED.get(key, '1')}" for key in settings(name) if key != "device"]
    args = cli.demo_args(name, "", demo(name).DEFAULTS, argv)
    assert (args.seed, args.steps) == (-(2**63), 1)
    assert cli.demo_args(name, "", demo(name).DEFAULTS, [f"--seed={2**64 - 1}"]).seed == 2**64 - 1


@pytest.mark.parametrize("name", list(DEMOS))
def test_defaults_and_quick_values_are_unchanged_by_the_checks(name):
    defaults = demo(name).DEFAULTS
    for quick in (False, True):
        args = vars(cli.demo_args(name, "", defaults, ["--quick"] if quick else []))
        varied = {k for k in defaults if k.startswith(("quick_", "full_"))}
        for key in defaults.keys() - {"seed"} - varied:
            wanted = defaults.get(f"quick_{key}", defaults[key]) if quick else defaults[key]
            assert args[key] == wanted, key


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["demo", "dpo", "--steps", "-1"], "argument --steps: expects a whole number >= 1"),
        (["demo", "sft", "--plot", "nowhere/curves.png"], "there is no folder 'nowhere'"),
        (
            ["demo", "icl", "--device", "tpu"],
            "argument --device: expects cpu, cuda, cuda:N or auto",
        ),
        (["demo", "--steps", "3", "sft"], "no option --steps; a demo's own options go after"),
        (["demo", "-x"], "no option -x"),
        (["demo", "--time", "sft", "--steps", "3"], "--time times each demo at its default"),
    ],
)
def test_notecards_demo_turns_hostile_input_into_a_usage_error(argv, says, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(notecards, argv)
    assert list(tmp_path.iterdir()) == []
    assert result.exit_code == 2, result.output
    assert says in result.output.strip().splitlines()[-1]
    assert "step" not in result.stdout
    assert isinstance(result.exception, SystemExit)  # not a crash


def test_time_reports_a_failed_demo_in_one_line(monkeypatch):
    """A mock: a demo that runs out of memory is a fault the real one cannot be made to have."""
    crashed = subprocess.CompletedProcess(
        [], 1, "", "Traceback (most recent call last):\n  File ...\nMemoryError: out of memory\n"
    )
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: crashed)  # (imported when it runs)
    result = CliRunner().invoke(notecards, ["demo", "--time", "sft"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: demo sft failed (exit 1): MemoryError: out of memory"


@pytest.mark.parametrize("how", ["script", "module"])
def test_a_demo_run_as_python_gives_the_same_usage_error(how):
    command = ["demos/dpo.py"] if how == "script" else ["-m", "demos.dpo"]
    result = subprocess.run(
        [sys.executable, *command, "--lr", "nan"], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == (
        "notecards demo dpo: error: argument --lr: expects a finite number > 0, not 'nan'"
    )
