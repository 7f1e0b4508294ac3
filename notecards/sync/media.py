"""The vault files notes embed, as sync sends them: which changed since they were stored, and
their upload (`storeMediaFile`, as data: Anki is never given a path or URL to fetch).

Only files inside the vault are read: a media source that resolves outside it (a `..` in a
damaged state, a symlink) is reported as not found and never sent.
"""

from __future__ import annotations

import base64
import stat
from collections.abc import Sequence
from dataclasses import dataclass

from notecards.hashing import content_digest
from notecards.problems import Problem
from notecards.sync.notes import SyncNote
from notecards.sync.plan import MediaUpload
from notecards.sync.state import PushedMedia, SyncState
from notecards.targets.ankiconnect import AnkiConnect
from notecards.vault import Vault


@dataclass(frozen=True)
class LocalMedia:
    """An embedded vault file this sync read (to hash it): its record for the state, and its
    bytes, which are what gets uploaded (each file is read once)."""

    record: PushedMedia
    data: bytes


@dataclass
class MediaFiles:
    digests: dict[str, str]  # Anki name -> content digest of the vault file it comes from
    read: dict[str, LocalMedia]  # the files read to hash them, by Anki name
    problems: list[Problem]


def media_files(
    vault: Vault, items: Sequence[SyncNote], state: SyncState, client: AnkiConnect
) -> MediaFiles:
    """The digest of each embedded file: the state's, if the file has the source, size and
    mtime it had when stored (so a no-op sync reads no media), else hashed from its bytes,
    which are kept for the upload; names the state does not know are compared with Anki's copy
    (the state records those Anki already holds)."""
    media = MediaFiles({}, {}, [])
    inside = vault.root.resolve()
    for item in items:
        for ref in item.media:
            if ref.anki_name in media.digests:
                continue
            path = (vault.root / ref.source).resolve()
            try:
                if not path.is_relative_to(inside):
                    raise FileNotFoundError(path)
                info = path.stat()
                if not stat.S_ISREG(info.st_mode):
                    raise FileNotFoundError(path)
                now = (ref.source, info.st_size, info.st_mtime_ns)
                known = state.media.get(ref.anki_name)
                if known is not None and (known.source, known.size, known.mtime_ns) == now:
                    media.digests[ref.anki_name] = known.digest
                    continue
                data = path.read_bytes()
            except OSError:
                message = f"media not found: {ref.source}"
                media.problems.append(Problem.at(item.note.path, item.note.start_line, message))
                continue
            record = PushedMedia(content_digest(data), *now)
            media.digests[ref.anki_name] = record.digest
            if known is not None and known.digest == record.digest:
                state.media[ref.anki_name] = record  # touched or moved, not changed: re-stat only
            else:
                media.read[ref.anki_name] = LocalMedia(record, data)
    unknown = sorted(name for name in media.read if name not in state.media)
    answers = client.multi([("retrieveMediaFile", {"filename": n}) for n in unknown])
    for name, (data, _) in zip(unknown, answers, strict=True):
        if isinstance(data, str) and _b64_digest(data) == media.digests[name]:
            state.media[name] = media.read.pop(name).record  # Anki already has this very file
    return media


def _b64_digest(data: str) -> str:
    return content_digest(base64.b64decode(data))


def store_media(
    client: AnkiConnect,
    uploads: Sequence[MediaUpload],
    read: dict[str, LocalMedia],
    state: SyncState,
) -> list[Problem]:
    """Send the files in one `multi`; `read` has each (a file is planned for upload only if its
    digest differs from the state's, and a file the state matches by size and mtime is not
    read, so its digest is the state's). Each stored file is recorded in the state."""
    actions = [
        (
            "storeMediaFile",
            {
                "filename": m.anki_name,
                "data": base64.b64encode(read[m.anki_name].data).decode("ascii"),
            },
        )
        for m in uploads
    ]
    problems = []
    for upload, (_, error) in zip(uploads, client.multi(actions), strict=True):
        if error:
            problems.append(Problem.at(upload.source, 1, f"Anki refused the file: {error}"))
        else:
            state.media[upload.anki_name] = read[upload.anki_name].record
    return problems
