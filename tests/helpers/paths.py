"""Where the tests find the project, its fixtures, the user's notes and `../shared`."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "vaults"
USER_NOTES = REPO / "notes"
# Beside the checkout in CI; a user's clone has none, and the tests that need it say so.
SHARED = REPO.parent / "shared"
