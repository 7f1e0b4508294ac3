"""The command-line fuzz test for as long as asked: `python bench/fuzz_cli.py [--examples N]`
(default 10,000). Prints how many examples ran and the first failure, if any."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/helpers

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.helpers.fuzz_cli import damages, run_once, vaults  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    args = parser.parse_args()
    ran = 0

    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(spec=vaults(), damage=damages)
    def one(spec, damage):
        nonlocal ran
        ran += 1
        run_once(spec, damage)

    start = time.perf_counter()
    try:
        one()
    finally:
        seconds = time.perf_counter() - start
        print(
            f"fuzz: {ran} examples in {seconds:.0f} s ({seconds / max(ran, 1) * 1000:.0f} ms each)"
        )


if __name__ == "__main__":
    main()
