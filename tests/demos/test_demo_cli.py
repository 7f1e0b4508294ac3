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
