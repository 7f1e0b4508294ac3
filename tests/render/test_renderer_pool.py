"""render/pool.py: notes rendered by worker processes are what one renderer writes, in order,
with their problems, and the cache the build keeps gets what the workers rendered. The pool is
forced on a small vault with `NOTECARDS_RENDER_POOL=0`."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from notecards.model import RenderedNote
from notecards.render import RenderCache, Renderer, pool
from notecards.sync.notes import Unrendered, render_each
from notecards.vault import load_vault
from tests.helpers.vault import block, write_vault

BACKS = ["$x^2$ and [[Topic]]", "![[Topic#Loss]]", "![[missing.png]]", "- a\n- b", "![[Topic#No]]"]


@pytest.fixture
def vault(tmp_path: Path):
    cards = "".join(block(f"q{i}", BACKS[i % len(BACKS)]) for i in range(40))
    topic = "# Topic\n\n## Loss\nthe **loss**\n"
    return load_vault(write_vault(tmp_path / "v", {"a.md": cards, "Topic.md": topic}))


def outcomes(vault, threshold: int, monkeypatch, cache: RenderCache | None = None) -> list:
    monkeypatch.setenv(pool.POOL_ENV, str(threshold))
    renderer = Renderer(vault.config, vault.root, cache)
    counted = []
    found = pool.render_all(renderer, vault.parsed.notes, counted.append)
    assert sum(counted) == len(vault.parsed.notes)
    return found


def test_workers_render_what_one_renderer_does_with_the_same_problems(vault, monkeypatch):
    one = outcomes(vault, 10**9, monkeypatch)
    many = outcomes(vault, 0, monkeypatch)
    assert many == one
    assert sum(isinstance(o, RenderedNote) for o in one) == 32  # 8 notes with a missing file
    assert any("missing.png" in p.message for o in one if isinstance(o, list) for p in o)


def test_each_chunk_is_handed_on_before_the_next_is_waited_for(vault, monkeypatch):
    """40 notes: a chunk of 32 and one of 8. The first outcome comes when the first chunk
    is back, not after all of them (the build works on it while the workers render on)."""
    monkeypatch.setenv(pool.POOL_ENV, "0")
    counted: list[int] = []
    with pool.RenderFeed(Renderer(vault.config, vault.root)) as feed:
        feed.add(vault.parsed.notes)
        each = feed.outcomes(counted.append)
        first = next(each)
        assert sum(counted) == 32
        found = [first, *each]
    assert sum(counted) == len(vault.parsed.notes) == 40
    assert found == outcomes(vault, 10**9, monkeypatch)


def test_the_notes_rendered_are_counted_while_the_files_are_still_parsed(vault, monkeypatch):
    """40 notes added: the first chunk of 32 goes to the workers at once (8 wait for more);
    once it is back, 32 count as rendered, before any outcome is asked for."""
    monkeypatch.setenv(pool.POOL_ENV, "0")
    with pool.RenderFeed(Renderer(vault.config, vault.root)) as feed:
        feed.add(vault.parsed.notes)
        deadline = time.monotonic() + 60
        while feed.rendered() < 32 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert feed.rendered() == 32
        assert len(list(feed.outcomes())) == 40


def test_workers_started_beside_another_thread_render_the_same(vault, monkeypatch):
    """With a thread running (a file watcher's), the workers are spawned, not forked."""
    methods = []
    real = pool.multiprocessing.get_context
    monkeypatch.setattr(pool.multiprocessing, "get_context", lambda m: methods.append(m) or real(m))
    stop = threading.Event()
    watcher = threading.Thread(target=stop.wait)
    watcher.start()
    try:
        many = outcomes(vault, 0, monkeypatch)
    finally:
        stop.set()
        watcher.join()
    assert methods == ["spawn"]
    assert many == outcomes(vault, 10**9, monkeypatch)


def test_started_is_told_once_the_workers_have_the_notes_so_a_thread_it_starts_is_no_bar(
    vault, monkeypatch
):
    """`started` (a sync starts its request to Anki on a thread then) is called once the
    workers were forked and have every note: were it called first, its thread would have them
    spawned. Fewer notes than a chunk: the workers start only when the outcomes are asked."""
    methods = []
    real = pool.multiprocessing.get_context
    monkeypatch.setattr(pool.multiprocessing, "get_context", lambda m: methods.append(m) or real(m))
    monkeypatch.setenv(pool.POOL_ENV, "0")
    stop = threading.Event()
    asking = threading.Thread(target=stop.wait)
    told = []
    notes = vault.parsed.notes[:8]

    def started() -> None:
        told.append(list(methods))
        asking.start()

    try:
        many = pool.render_all(Renderer(vault.config, vault.root), notes, started=started)
    finally:
        stop.set()
    asking.join()
    assert told == [["fork"]] and methods == ["fork"]
    monkeypatch.setenv(pool.POOL_ENV, str(10**9))
    assert many == pool.render_all(Renderer(vault.config, vault.root), notes)


def test_what_the_workers_render_goes_into_the_cache(vault, monkeypatch):
    cache = RenderCache()
    first = outcomes(vault, 0, monkeypatch, cache)
    renderer = Renderer(vault.config, vault.root, cache)
    note = vault.parsed.notes[0]
    assert renderer.cached(note) == first[0]  # served without markdown-it
    assert renderer.fields_rendered == 0


def test_sync_renders_new_notes_in_workers_as_in_one_process(vault, monkeypatch):
    items = [Unrendered(note, f"digest {i}") for i, note in enumerate(vault.parsed.notes)]
    results = []
    for threshold in (10**9, 0):
        monkeypatch.setenv(pool.POOL_ENV, str(threshold))
        results.append(render_each(Renderer(vault.config, vault.root), items))
    assert results[0] == results[1] and len(results[0][0]) == 32
