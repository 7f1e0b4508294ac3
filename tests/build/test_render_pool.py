"""Rendering in worker processes: the package holds exactly what a one-process build writes,
and a bad note is reported the same way. The pool is forced on a small vault with
`NOTECARDS_RENDER_POOL=0` (see notecards/render/pool.py)."""

from __future__ import annotations

import sqlite3
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from notecards import parse
from notecards.build import build_vault
from notecards.build.manifest import load_manifest
from notecards.problems import FileError, NotecardsError
from notecards.render import RenderCache, Renderer, pool
from notecards.targets import package as package_module
from notecards.vault import load_vault
from notecards.vault.state_dir import RENDER_CACHE
from tests.helpers.vault import block, write_vault

TOPIC = "# Topic\n\n## Loss\nthe **loss** is $\\ell$\n\n## Other\nnot embedded\n"
BACKS = [
    "$$\\sum_i x_i$$ and $a < b$",
    "- one\n- two [[Topic]]\n\n| a | b |\n|---|---|\n| 1 | 2 |",
    "code:\n```python\nx = 1\n```\n![[pic.png|40]]",
    "![[Topic#Loss]] %%hidden%%",
    "![[Topic#Nowhere]]",  # a warning: not cached, rendered each time
    "==marked== ~~gone~~ [^1]\n\n[^1]: a footnote",
]


def make_vault(root: Path) -> Path:
    def cards(first_id: int) -> str:
        return "".join(
            block(f"card {i} **{i}**", back, note_id=first_id + i)
            for i, back in enumerate(BACKS * 5)
        )

    files = {"a.md": cards(1_700_000_000_000), "b.md": cards(1_800_000_000_000)}
    return write_vault(root, files | {"notes/Topic.md": TOPIC, "pic.png": b"\x89PNG fake"})


def package_contents(package: Path) -> tuple:
    """What Anki imports from a package: notes (mods aside: the time of the build), cards,
    media; everything but the moment it was written."""
    with zipfile.ZipFile(package) as archive:
        names = sorted(archive.namelist())
        media = {n: archive.read(n) for n in names if n not in ("collection.anki2", "media")}
        db_path = package.with_suffix(".anki2")
        db_path.write_bytes(archive.read("collection.anki2"))
    db = sqlite3.connect(db_path)
    try:
        notes = db.execute("SELECT id, guid, mid, tags, flds, sfld, csum FROM notes ORDER BY id")
        cards = db.execute("SELECT nid, ord, did FROM cards ORDER BY nid, ord")
        return names, media, notes.fetchall(), cards.fetchall()
    finally:
        db.close()


def build(root: Path, threshold: int, monkeypatch) -> tuple:
    monkeypatch.setenv(pool.POOL_ENV, str(threshold))
    output = root.parent / "out.apkg"
    build_vault(root, output)
    digests = {note_id: digest for note_id, (digest, _) in load_manifest(root).notes.items()}
    return package_contents(output), digests


def test_the_pool_builds_what_one_process_builds(tmp_path, monkeypatch):
    used = []
    real = pool.RenderFeed._started
    monkeypatch.setattr(pool.RenderFeed, "_started", lambda f: used.append(f._workers) or real(f))
    one = build(make_vault(tmp_path / "one" / "v"), 10**9, monkeypatch)
    assert used == []
    many = build(make_vault(tmp_path / "many" / "v"), 0, monkeypatch)
    assert used and used[0] >= 2  # the workers rendered it
    assert many == one
    assert len(one[0][2]) == 2 * len(BACKS) * 5


def test_the_workers_render_while_the_files_after_are_parsed(tmp_path, monkeypatch):
    events = []
    real_parse, real_start = parse.parse_file, pool.RenderFeed._started
    monkeypatch.setattr(parse, "parse_file", lambda *a: events.append("parse") or real_parse(*a))
    monkeypatch.setattr(pool.RenderFeed, "_started", lambda f: events.append("go") or real_start(f))
    build(make_vault(tmp_path / "v"), 0, monkeypatch)
    # a.md and b.md make the first chunk of 32 notes: it goes out before Topic.md is parsed
    assert events.index("go") < len(events) - 1 - events[::-1].index("parse")


def test_a_pooled_build_served_from_its_cache_matches_too(tmp_path, monkeypatch):
    root = make_vault(tmp_path / "v")
    first = build(root, 0, monkeypatch)  # the workers' entries went into the build's cache
    (root / "a.md").write_text((root / "a.md").read_text() + block("new", "x", note_id=5))
    again = build(root, 0, monkeypatch)
    assert again[1].items() >= first[1].items()


def test_a_pooled_build_leaves_a_cache_that_renders_nothing_again(tmp_path, monkeypatch):
    root = make_vault(tmp_path / "v")
    build(root, 0, monkeypatch)
    (root.parent / "out.apkg").unlink()  # (else nothing is rendered: nothing changed)
    feeds = []
    real = pool.RenderFeed.__enter__
    monkeypatch.setattr(pool.RenderFeed, "__enter__", lambda f: feeds.append(f) or real(f))
    build(root, 10**9, monkeypatch)  # the workers' rows, made as each chunk came, are kept
    assert feeds[0].renderer.fields_rendered == 2 * 5  # the backs with a warning: not cached


def test_a_failed_pooled_build_leaves_no_cache(tmp_path, monkeypatch):
    root = make_vault(tmp_path / "v")
    (root / "b.md").write_text((root / "b.md").read_text() + block("bad", "![[missing.png]]"))
    monkeypatch.setenv(pool.POOL_ENV, "0")
    with pytest.raises(NotecardsError):
        build_vault(root, tmp_path / "out.apkg")
    assert not (root / RENDER_CACHE).exists()


def test_a_package_that_cannot_be_written_leaves_the_render_cache_as_it_was(tmp_path, monkeypatch):
    """The cache's rows go in while the package is written, committed only once it is."""
    root = make_vault(tmp_path / "v")
    monkeypatch.setenv(pool.POOL_ENV, "0")

    def disk_full(package: object, path: Path) -> None:
        path.write_bytes(b"PK")  # (a part written, then the disk is full)
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as failing:
        failing.setattr(package_module, "write_package", disk_full)
        with pytest.raises(FileError):
            build_vault(root, tmp_path / "out.apkg")
    assert not (root / RENDER_CACHE).exists()  # none: not even an empty file
    build_vault(root, tmp_path / "out.apkg")
    before = (root / RENDER_CACHE).read_bytes()
    (tmp_path / "out.apkg").unlink()
    (root / "a.md").write_text((root / "a.md").read_text() + block("new", "a new back"))
    with monkeypatch.context() as failing:
        failing.setattr(package_module, "write_package", disk_full)
        with pytest.raises(FileError):
            build_vault(root, tmp_path / "out.apkg")
    assert (root / RENDER_CACHE).read_bytes() == before  # no row added, none pruned
    assert not (tmp_path / "out.apkg").exists()


def test_a_bad_note_is_reported_the_same_by_the_pool(tmp_path, monkeypatch):
    reports = []
    for threshold in (10**9, 0):
        root = make_vault(tmp_path / f"v{threshold}" / "v")
        text = (root / "b.md").read_text()
        (root / "b.md").write_text(text + block("bad", "![[missing.png]]", note_id=9))
        monkeypatch.setenv(pool.POOL_ENV, str(threshold))
        with pytest.raises(NotecardsError) as raised:
            build_vault(root, tmp_path / f"{threshold}.apkg")
        reports.append([problem.format() for problem in raised.value.problems])
    assert reports[0] == reports[1] and any("missing.png" in p for p in reports[0])


def test_a_worker_renders_from_what_it_is_sent_what_one_process_renders(tmp_path, monkeypatch):
    """A worker gets only what rendering reads of a note: the HTML a parser's appendix
    adds, and the line a problem deep in a field points at, come out the same."""
    back = "first line\n\nsecond\n![[Topic#Loss]]\n![[gone.png]]"
    root = make_vault(tmp_path / "v")
    (root / "c.md").write_text(block("ok", "text\n\nmore\n![[Topic#Loss]]") + block("bad", back))
    vault = load_vault(root)
    notes = [
        replace(note, appendix={"Back": "<br><small>from c.md</small>"})
        if note.path == "c.md"
        else note
        for note in vault.parsed.notes
    ]
    outcomes = []
    for threshold in (10**9, 0):
        monkeypatch.setenv(pool.POOL_ENV, str(threshold))
        outcomes.append(pool.render_all(Renderer(vault.config, root, RenderCache()), notes))
    assert outcomes[0] == outcomes[1]
    last, bad = outcomes[0][-2:]
    assert "from c.md" in last.fields["Back"] and "loss" in last.fields["Back"]
    assert [(p.line, "gone.png" in p.message) for p in bad] == [
        (vault.parsed.notes[-1].start_line + 7, True)
    ]


def test_a_first_pooled_build_sends_every_note_without_asking_the_empty_cache(
    tmp_path, monkeypatch
):
    asked = []
    real = Renderer.cached
    monkeypatch.setattr(Renderer, "cached", lambda r, note: asked.append(note) or real(r, note))
    root = make_vault(tmp_path / "v")
    build(root, 0, monkeypatch)
    assert asked == []
    (root / "a.md").write_text((root / "a.md").read_text() + block("new", "x", note_id=5))
    build(root, 0, monkeypatch)  # the cache file holds the first build's fields: asked
    assert len(asked) == 2 * len(BACKS) * 5 + 1
