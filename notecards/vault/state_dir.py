"""`VAULT/.notecards/`: where notecards keeps what it knows between runs, one file per job.

Every file here is named in this module and nowhere else. All of them but the sync state are
caches (deleting them costs time, never data), and the sync state only remembers what was
pushed: deleting the folder loses nothing the vault or Anki does not hold.
"""

from __future__ import annotations

from pathlib import Path

STATE_DIR = ".notecards"
PARSE_CACHE = Path(STATE_DIR, "parse-cache.json")  # each file's notes, by its digest
RENDER_CACHE = Path(STATE_DIR, "render-cache.sqlite")  # each field's HTML, by its markdown
BUILD_MANIFEST = Path(STATE_DIR, "build-manifest.json")  # what the last build wrote
CHECKED = Path(STATE_DIR, "checked.json")  # the rules' verdict on the last build's notes
SYNC_STATE = Path(STATE_DIR, "sync-state.json")  # what sync last pushed, per note
IMPORT_PACKAGE = Path(STATE_DIR, "import.apkg")  # sync's package for Anki, while it imports
PUSHED_FIELDS = Path(STATE_DIR, "pushed-fields.sqlite")  # each field as last pushed: md and HTML
