"""The demos' shared command line: --quick values, and explicit options that --quick keeps."""

import pytest

pytest.importorskip("torch")

from demos import cli  # noqa: E402


def test_demo_args_quick_and_extra_options():
    defaults = {"steps": 100, "quick_steps": 10, "beta": 0.5}
    assert cli.demo_args("x", "", defaults, []).steps == 100
    assert cli.demo_args("x", "", defaults, ["--quick"]).steps == 10
    args = cli.demo_args("x", "", defaults, ["--quick", "--steps", "7", "--beta", "0.1"])
    assert (args.steps, args.beta) == (7, 0.1)


@pytest.mark.parametrize("given", [["--sft-steps", "7"], ["--sft-steps=7"]])
def test_demo_args_quick_keeps_an_explicit_value_of_every_quick_option(given):
    defaults = {"steps": 100, "quick_steps": 10, "sft_steps": 150, "quick_sft_steps": 50}
    assert cli.demo_args("x", "", defaults, []).sft_steps == 150
    assert cli.demo_args("x", "", defaults, ["--quick"]).sft_steps == 50
    args = cli.demo_args("x", "", defaults, ["--quick", *given])
    assert (args.steps, args.sft_steps) == (10, 7)


def test_full_takes_the_full_values_and_says_it_is_longer(capsys):
    defaults = {"steps": 100, "quick_steps": 10, "full_steps": 500, "betas": "0,1"}
    assert cli.demo_args("x", "", defaults, ["--full"]).steps == 500
    assert cli.demo_args("x", "", defaults, ["--full", "--steps", "7"]).steps == 7
    assert cli.demo_args("x", "", defaults, []).steps == 100
    with pytest.raises(SystemExit):
        cli.demo_args("x", "", defaults, ["--help"])
    assert "500 with --full" in capsys.readouterr().out


def test_quick_and_full_together_are_a_usage_error():
    defaults = {"steps": 100, "quick_steps": 10, "full_steps": 500}
    with pytest.raises(SystemExit) as stopped:
        cli.demo_args("x", "", defaults, ["--quick", "--full"])
    assert stopped.value.code == 2


def test_pick_device_runs_torch_on_one_cpu_thread():
    import torch

    torch.set_num_threads(2)
    cli.pick_device("cpu")
    assert torch.get_num_threads() == cli.CPU_THREADS == 1


def test_smoothed_is_a_centred_mean_that_keeps_a_trend_in_place():
    assert cli.smoothed([1.0, 1.0, 1.0]) == [1.0, 1.0, 1.0]
    assert cli.smoothed([0.0, 3.0, 0.0, 3.0], half_window=1) == [1.5, 1.0, 2.0, 1.5]
    line = [float(i) for i in range(40)]
    assert cli.smoothed(line)[2:-2] == pytest.approx(line[2:-2])  # no lag on a straight line
