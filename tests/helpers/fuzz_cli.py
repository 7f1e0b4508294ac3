"""The whole command line against generated hostile input: vaults (file names, encodings,
symlinks, special files, modes), settings files of every shape, and an Anki whose answers are
damaged. Each run must end with a documented exit code and a message, never a traceback, and
leave every markdown file as it was or changed only by ID lines.

Shared by `tests/commands/test_fuzz_cli.py` (a few hundred examples) and `bench/fuzz_cli.py`
(as many as asked for, and it prints how many ran).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import stat
import tempfile
import traceback
from pathlib import Path
from typing import Any

import requests
import yaml
from click.testing import CliRunner
from hypothesis import strategies as st

from notecards.cli import cli
from tests.helpers.ankiconnect_server import AnkiConnectServer
from tests.helpers.broken_anki import BrokenAnki

DOCUMENTED_EXIT_CODES = {0, 1, 2, 3, 4, 5, 6}
O2A_SETTINGS = ".obsidian/plugins/obsidian-to-anki-plugin/data.json"
# Where an ID can appear in a file: a line of its own, or inside an inline note.
_ID_TEXT = re.compile(r"<!--ID: \d+-->(?:\r?\n| )?")
_DELETE_LINE = re.compile(r"^DELETE[ \t]*\r?\n", re.MULTILINE)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)

_SETTINGS_KEYS = [
    "vault_name", "default_deck", "default_tags", "deck_from_folder", "folder_decks",
    "folder_tags", "curly_cloze", "highlights_to_cloze", "scan_dir", "ignore", "custom_regexps",
    "add_context", "add_file_link", "add_obsidian_tags", "ankiconnect", "syntax", "note_types",
]  # fmt: skip

notecards_yaml = st.one_of(
    st.dictionaries(st.sampled_from(_SETTINGS_KEYS), json_values, max_size=4).map(
        lambda d: yaml.safe_dump(d, allow_unicode=True)
    ),
    st.text(max_size=200),
    st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
)
data_json = st.one_of(
    st.dictionaries(
        st.sampled_from(["settings", "fields_dict"]),
        st.dictionaries(
            st.sampled_from(
                [
                    "Defaults",
                    "CUSTOM_REGEXPS",
                    "FOLDER_DECKS",
                    "FOLDER_TAGS",
                    "IGNORED_FILE_GLOBS",
                    "Syntax",
                    "CONTEXT_FIELDS",
                ]
            ),
            json_values,
            max_size=3,
        ),  # fmt: skip
        max_size=2,
    ).map(json.dumps),
    st.text(max_size=100),
)

_words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_ids = st.sampled_from(["", "<!--ID: 0-->", f"<!--ID: {2**63}-->", "<!--ID: 1764591468178-->",
                        "<!--ID: 12-->", "ID: 5"])  # fmt: skip
_types = st.sampled_from(["Basic", "Cloze", "Basci", "", "Basic (and reversed card)"])
# A field's text: words, or what Obsidian shows otherwise (comments, embeds of the vault's
# notes, sections and blocks, which may be missing or embed one another).
_field_text = st.one_of(
    _words,
    st.sampled_from(
        ["![[a]]", "![[b#H]]", "x %%hidden%% y", "%%\nhidden\n%%", "see ![[sub/c#^x]] here",
         "![[#H]]", "![[a#^missing]]", "[[b#^x]]", "$a %%b%%$"]
    ),
)  # fmt: skip
_pieces = st.one_of(
    st.builds(
        lambda t, front, back, tags, note_id, end: "\n".join(
            x for x in ("START", t, front, f"Back: {back}", f"Tags: {tags}", note_id, end) if x
        ),
        _types,
        _words,
        _field_text,
        _words,
        _ids,
        st.sampled_from(["END", "", "ENDPOINT"]),
    ),  # fmt: skip
    st.builds(
        lambda f, b, i: f"- STARTI [Basic] {f} Back: {b} {i} ENDI", _words, _field_text, _ids
    ),
    st.sampled_from(
        [
            "---\ntags: [a, b]\ndeck: D\n---",
            "---\na: &x [1]\nb: *x\n---",
            "```\nSTART\nBasic\nq\nEND\n```",
            "DELETE\n<!--ID: 12-->",
            "TARGET DECK: X",
            "FILE TAGS: t",
            "![[img.png]]",
            "![[missing.png]]",
            "$$x^2$$",
            "{{c1::x}}",
            "[[link]]",
            "%%comment%%",
            "%%\nSTART\nBasic\nhidden\nEND\n%%",
            "%%never closed",
            "# H",
            "para ^x",
            "![[a]]",
            "![[b#H]]",
            "![[sub/c#^x]]",
            "![[#H]]",
            "![[a#^missing]]",
            "[[b#^x]]",
            "[" * 50,
        ]
    ),  # fmt: skip
    _words,
)


@st.composite
def markdown_bytes(draw: st.DrawFn) -> bytes:
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(draw(st.lists(_pieces, max_size=6))) + draw(st.sampled_from(["", newline]))
    data = text.encode("utf-8")
    return draw(st.sampled_from([data, b"\xef\xbb\xbf" + data, data + b"\xff\xfe bad"]))


_names = st.sampled_from(
    [
        "a.md",
        "b.md",
        "sub/c.md",
        "deep/er/d.md",
        "with space.md",
        "ünï.md",
        ".hidden.md",
        "x.md.md",
        "img.png",
        "notes.txt",
    ]  # fmt: skip
)
_specials = st.sampled_from(["symlink", "loop", "outside", "fifo", "read-only", "dir-named-md"])


@st.composite
def vaults(draw: st.DrawFn) -> dict[str, Any]:
    files = draw(st.dictionaries(_names, markdown_bytes(), min_size=1, max_size=5))
    return {
        "files": files,
        "specials": draw(st.lists(_specials, max_size=3, unique=True)),
        "notecards_yaml": draw(st.none() | notecards_yaml),
        "data_json": draw(st.none() | data_json),
        "non_utf8_name": draw(st.booleans()),
    }


def write(spec: dict[str, Any], root: Path) -> Path:
    """The generated vault on disk."""
    vault = root / "vault"
    vault.mkdir()
    for name, data in spec["files"].items():
        (vault / name).parent.mkdir(parents=True, exist_ok=True)
        (vault / name).write_bytes(data)
    if spec["notecards_yaml"] is not None:
        (vault / "notecards.yaml").write_text(spec["notecards_yaml"], encoding="utf-8")
    if spec["data_json"] is not None:
        (vault / O2A_SETTINGS).parent.mkdir(parents=True)
        (vault / O2A_SETTINGS).write_text(spec["data_json"], encoding="utf-8")
    for special in spec["specials"]:
        if special == "symlink":
            first = sorted(spec["files"])[0]
            (vault / "alias.md").symlink_to(vault / first)
        elif special == "loop":
            (vault / "loop.md").symlink_to("loop.md")
        elif special == "outside":
            (root / "outside.md").write_text("START\nBasic\nout\nEND\n")
            (vault / "outside.md").symlink_to(root / "outside.md")
        elif special == "fifo":
            os.mkfifo(vault / "pipe.md")
        elif special == "read-only":
            for path in vault.rglob("*.md"):
                if path.is_file() and not path.is_symlink():
                    path.chmod(0o444)
                    break
        elif special == "dir-named-md":
            (vault / "folder.md").mkdir()
    if spec["non_utf8_name"]:
        with open(os.fsencode(vault) + b"/caf\xe9.md", "wb") as file:
            file.write(b"START\nBasic\nq\nBack: a\nEND\n")
    return vault


def markdown_of(vault: Path) -> dict[bytes, bytes]:
    """Every regular markdown file's bytes, by its path as bytes (names need not be UTF-8)."""
    found = {}
    for folder, _, names in os.walk(os.fsencode(vault)):
        for name in names:
            path = os.path.join(folder, name)
            if name.endswith(b".md") and stat.S_ISREG(os.lstat(path).st_mode):
                with open(path, "rb") as file:
                    found[path] = file.read()
    return found


def only_ids_changed(before: bytes, after: bytes) -> bool:
    """`after` is `before` with ID lines added (or replaced), or DELETE+ID pairs removed."""
    if before == after:
        return True

    def bare(data: bytes) -> str:
        text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")  # a BOM stays
        return _DELETE_LINE.sub("", _ID_TEXT.sub("", text))

    return bare(before) == bare(after)


class DamagingProxy:
    """An Anki that answers from a real collection, except for the requests `damage` names:
    those get an error, a result of another shape, truncated JSON, or a slow reply."""

    def __init__(self, collection: Path, damage: dict[int, str], seed: int):
        self.real = AnkiConnectServer(collection).start()
        self.damage, self.count, self.random = damage, 0, random.Random(seed)
        self.broken = BrokenAnki(self._answer)

    @property
    def url(self) -> str:
        return self.broken.url

    def _answer(self, body: dict[str, Any]) -> bytes | float:
        self.count += 1
        real = requests.post(self.real.url, json=body, timeout=30).content
        kind = self.damage.get(self.count)
        if kind is None:
            return real
        if kind == "slow":
            return 0.6  # past the --timeout the runs are given
        if kind == "truncated":
            return real[: max(1, len(real) // 2)]
        if kind == "error":
            return json.dumps({"result": None, "error": "Anki said no"}).encode()
        answer = json.loads(real)
        junk = self.random.choice([None, 7, "x", [], {}, [None], {"a": 1}])
        if isinstance(answer, dict) and isinstance(answer.get("result"), list) and answer["result"]:
            inner = answer["result"]
            inner[self.random.randrange(len(inner))] = junk  # one inner answer of `multi`
        elif isinstance(answer, dict):
            answer["result"] = junk
        return json.dumps(answer).encode()

    def stop(self) -> None:
        self.broken.stop()
        self.real.stop()


damages = st.dictionaries(
    st.integers(1, 8), st.sampled_from(["error", "shape", "truncated", "slow"]), max_size=2
)


def run_once(spec: dict[str, Any], damage: dict[int, str]) -> None:
    """check, build, then sync the generated vault; raises AssertionError on a broken rule."""
    root = Path(tempfile.mkdtemp(prefix="notecards-fuzz-"))
    proxy = None
    try:
        vault = write(spec, root)
        runner = CliRunner()
        before = markdown_of(vault)
        for args in (
            ["check", str(vault), "--json"],
            ["build", str(vault), "-o", str(root / "out.apkg")],
            ["build", str(vault), "-o", str(root / "out.apkg"), "--json"],
        ):
            _assert_clean(runner.invoke(cli, args), args)
        proxy = DamagingProxy(root / "anki" / "c.anki2", damage, seed=len(damage))
        for args in (
            ["sync", str(vault), "--url", proxy.url, "--timeout", "0.4"],
            ["sync", str(vault), "--url", proxy.url, "--timeout", "0.4", "--json"],
        ):
            _assert_clean(runner.invoke(cli, args), args)
        after = markdown_of(vault)
        assert set(after) <= set(before), "a markdown file appeared"
        for path, data in before.items():
            assert path in after, f"{path!r} disappeared"
            assert only_ids_changed(data, after[path]), f"{path!r} changed beyond its IDs"
    finally:
        if proxy is not None:
            proxy.stop()
        for path in root.rglob("*"):
            if not path.is_symlink() and path.exists():
                path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(root, ignore_errors=True)


def _assert_clean(result, args: list[str]) -> None:
    shown = f"{args[0]} exited {result.exit_code}: {result.output[-500:]}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{shown}\n{''.join(traceback.format_exception(*result.exc_info))}")
    assert result.exit_code in DOCUMENTED_EXIT_CODES, shown
    if result.exit_code != 0:
        assert result.output.strip(), f"{shown}: no message"
    if "--json" in args and result.exit_code in (0, 1, 3, 4, 5, 6):
        json.loads(result.stdout)  # a program reading it always gets one document
