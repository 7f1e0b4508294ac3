"""Every exit code a notecards command can return, in one place (the README's table lists them)."""

OK = 0
BAD_INPUT = 1  # errors in the vault or its settings, an unwritable output: nothing written
USAGE = 2  # an unknown option or a missing argument (click's own)
ANKI = 3  # Anki could not be reached, or AnkiConnect refused a request
CONFLICTS = 4  # sync left conflicts alone (edited in Anki and in the vault)
PARTIAL = 5  # finished, but some notes were left out: refused by Anki, or in a read-only file
BUSY = 6  # another notecards run is writing the vault (the message names its process)
INTERRUPTED = 130  # stopped by Ctrl-C (as shells report SIGINT); every file whole
