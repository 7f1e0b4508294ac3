"""Where Anki listens: AnkiConnect's default address, and whether an address is this machine.

Apart from the client, so that the command line can name the default in its help without
importing the HTTP library."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

DEFAULT_URL = "http://127.0.0.1:8765"


def is_loopback(url: str) -> bool:
    """True when `url` points at this machine (so notes never leave it by default)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
