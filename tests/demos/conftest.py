"""The demos' tests keep trained weights in a folder of their own, never the user's cache."""

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def demo_weight_cache(tmp_path_factory):
    """NOTECARDS_DEMO_CACHE (demos/training.py) set to an empty folder for the session: the
    first test to need a base model or pi_SFT trains it; subprocesses inherit the folder."""
    saved = os.environ.get("NOTECARDS_DEMO_CACHE")
    os.environ["NOTECARDS_DEMO_CACHE"] = str(tmp_path_factory.mktemp("demo-weights"))
    yield
    if saved is None:
        del os.environ["NOTECARDS_DEMO_CACHE"]
    else:
        os.environ["NOTECARDS_DEMO_CACHE"] = saved
