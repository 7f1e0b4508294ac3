"""Every digest notecards computes, named by what it identifies; one algorithm (SHA-256).

SHA-256 because some digests become identifiers inside a user's Anki collection (a note
type's model id, a deck id, a media file's name, the vault's pending tag) and must never
change; the others follow suit so there is one algorithm to know. Digests of contents are
full length; keys that are stored many times (one per note and field in the sync state) are
cut to `KEY_CHARS` hex characters, which is still 128 bits.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterable
from functools import cache
from pathlib import Path

KEY_CHARS = 32
# Sync states written before 0.2 fingerprinted each pushed field with 10-byte BLAKE2b;
# they are still recognised, so that an upgrade keeps every merge record (see field_matches).
_OLD_FIELD_CHARS = 20
_PACKAGE = Path(__file__).resolve().parent
# The libraries whose output a cached result holds: the markdown parser and its plugins, the
# highlighter, the YAML reader (each names its version in its `__init__.py`); and the package
# writer (in its `version.py`). Their versions are read without importing them: a `check` of
# an unchanged vault renders nothing, and a check or a sync never writes a package.
_LIBRARIES = {
    "markdown_it": "__init__.py",
    "mdit_py_plugins": "__init__.py",
    "pygments": "__init__.py",
    "yaml": "__init__.py",
    "genanki": "version.py",
}


def _sha256(data: bytes | str) -> hashlib._Hash:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data)


def key(*parts: str) -> str:
    """A short digest of several strings (kept apart, so ("ab", "c") != ("a", "bc"))."""
    return _sha256("\0".join(parts)).hexdigest()[:KEY_CHARS]


def content_digest(data: bytes) -> str:
    """A file's bytes: whether a markdown file changed since it was read, a media file since
    it was stored."""
    return _sha256(data).hexdigest()


@cache
def code_digest() -> str:
    """notecards' own code (its stylesheet too) and the versions of the libraries it renders
    and writes with: every cache in `.notecards/` is keyed on it, so no code change serves a
    stale result. Read once per process."""
    hasher = _sha256("/".join(_version_file(*library) for library in _LIBRARIES.items()))
    for source in sorted([*_PACKAGE.rglob("*.py"), *_PACKAGE.rglob("*.css")]):
        hasher.update(source.read_bytes())
    return hasher.hexdigest()


def _version_file(library: str, name: str) -> str:
    """The file of an installed library that holds its version (`__version__ = '0.13.1'`), as
    text: found, not imported."""
    spec = importlib.util.find_spec(library)
    assert spec is not None and spec.submodule_search_locations  # a dependency: installed
    return Path(spec.submodule_search_locations[0], name).read_text(encoding="utf-8")


def settings_digest(settings: object) -> str:
    """The code and the vault's settings (their repr, exact and deterministic): everything
    besides a note's own text that its parse and its HTML follow from."""
    return key(code_digest(), repr(settings))


def field_digest(html: str) -> str:
    """A field as pushed to Anki: enough to tell later whether Anki still holds that value."""
    return _sha256(html).hexdigest()[:KEY_CHARS]


def field_matches(html: str, recorded: str) -> bool:
    """Whether `recorded` (a `field_digest`, or one written before 0.2) is this field's."""
    if len(recorded) == _OLD_FIELD_CHARS:
        return hashlib.blake2b(html.encode(), digest_size=10).hexdigest() == recorded
    return field_digest(html) == recorded


def file_list_digest(files: Iterable[str], outside: Iterable[str]) -> str:
    """The vault's file list (and its symlinks that lead outside), which decides what every
    link and embed resolves to."""
    return key("\n".join(sorted(files)), "\n".join(sorted(outside)))


def model_id_digest(text: str) -> int:
    """40 bits of a note type's make-up, for its model id (see config.note_types)."""
    return int(_sha256(text).hexdigest()[:10], 16)


def deck_digest(name: str) -> int:
    """64 bits of a full deck name, for its deck id in a package."""
    return int.from_bytes(_sha256(name).digest()[:8], "big")


def path_tag(path: str) -> str:
    """8 hex characters that tell apart two vault files with the same name in Anki's media."""
    return _sha256(path).hexdigest()[:8]


def vault_tag(root: Path) -> str:
    """12 hex characters per vault folder, for its pending tag in Anki."""
    return _sha256(str(root.resolve())).hexdigest()[:12]
