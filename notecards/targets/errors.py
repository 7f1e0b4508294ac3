"""What the AnkiConnect client raises, apart from the client: a command can catch these without
importing the HTTP library."""


class AnkiConnectError(Exception):
    """Anki could not be reached, or refused a request: a sentence for the user."""


class AnkiUnreachableError(AnkiConnectError):
    """No answer at all (Anki closed, add-on missing, timeout)."""


class AnkiRefused(AnkiConnectError):
    """Anki answered, with an error for the action (its reason is the message)."""
