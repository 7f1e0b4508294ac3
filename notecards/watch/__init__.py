"""`notecards watch`: sync (or build) on save. Above the sync and build stages, whose runs it
repeats: the vault's changes, debounced (`changes.py`), what one run does and says
(`steps.py`), and the loop that runs one after each burst of saves (`loop.py`)."""
