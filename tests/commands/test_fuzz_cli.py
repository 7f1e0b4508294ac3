"""The whole command line against generated hostile vaults, settings and Anki answers
(tests/helpers/fuzz_cli.py says what each run must hold); `bench/fuzz_cli.py` runs more."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings

from tests.helpers.fuzz_cli import damages, run_once, vaults

EXAMPLES = int(os.environ.get("NOTECARDS_FUZZ_EXAMPLES", "200"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=vaults(), damage=damages)
def test_every_command_ends_cleanly_and_changes_markdown_only_by_ids(spec, damage):
    run_once(spec, damage)
