"""The parse of a file after its IDs went in, derived from the parse before: wherever it is
given at all, it is exactly what parsing the new text gives, and for plain files it is given."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notecards.config import Syntax, VaultConfig
from notecards.model import ParsedVault
from notecards.parse import parse_file
from notecards.vault import cache_parses, load_vault, write_back
from notecards.vault.parse_cache import ParseCache
from notecards.vault.written_parse import IdLine, parse_with_ids
from tests.helpers.vault import write_vault

PATH = "deck/notes.md"
CONFIGS = {
    "default": VaultConfig(vault_name="v"),
    "context": VaultConfig(vault_name="v", add_context=True, add_file_link=True),
    "regexps": VaultConfig(vault_name="v", custom_regexps={"Basic": r"^Q: (.+)\nA: (.+)"}),
    # an END that underlines a setext heading once a line of text (the ID's) is above it
    "setext end": VaultConfig(vault_name="v", syntax=Syntax(begin_note="+++", end_note="===")),
}
# Lines that open, close or fake every construct a new ID line could meet: blocks and their
# trailers, deletions, file values, inline and regex notes, fences, headings (setext too),
# lists and quotes (which markdown-it may continue lazily), HTML, frontmatter.
LINES = [
    "START", "Basic", "Cloze", "END", "  END", "END ", "Back:", "Back: x", "Front: q", "text",
    "Tags: ml", "Tags:", "<!--ID: 5-->", "ID: 6", "Tags: a <!--ID: 7-->", "DELETE", "", "  ",
    "TARGET DECK: ML", "TARGET DECK:", "FILE TAGS: t", "STARTI [Basic] q Back: a ENDI",
    "STARTI [Basic] q ENDI and STARTI [Basic] r ENDI", "STARTI [Basic] q <!--ID: 8--> ENDI",
    "Q: a", "A: b", "```", "~~~", "``` py", "    ```", "# h", "## h ##", "#tag", "---", "===",
    "- item", "  - sub", "> quote", "> ```", "1) x", "<div>", "<!--", "-->", "\tcode", "a\rb",
    "FROZEN - Basic: x", "{{c1::x}}",
]  # fmt: skip
NOTE = ["START", "Basic", "q", "Back: a", "END"]  # a plain card, often enough to get IDs
# cards whose trailer an ID line changes: two Tags lines (the lower one empty), a blank END
TRAILERS = [
    ["START", "Basic", "q", "Tags: a", "Tags:", "END"],
    ["START", "Basic", "q", "Tags:", "", "Tags:", "END"],
    ["+++", "Basic", "q", "", "==="],
]


def with_ids(text: str, before: ParsedVault) -> tuple[str, list[IdLine]]:
    """The text with an ID in every note's slot, as write-back puts it, and those lines."""
    inserted = [
        IdLine(n.id_slot.offset, n.id_slot.text.format(id=9000 + i), n.start_line, 9000 + i)
        for i, n in enumerate(before.notes)
        if n.id_slot is not None
    ]
    for line in sorted(inserted, key=lambda line: line.offset, reverse=True):
        text = text[: line.offset] + line.text + text[line.offset :]
    return text, inserted


@st.composite
def files(draw) -> str:
    pieces = draw(
        st.lists(
            st.one_of(
                st.sampled_from(LINES).map(lambda x: [x]), st.just(NOTE), st.sampled_from(TRAILERS)
            ),
            max_size=14,
        )
    )
    lines = [line for piece in pieces for line in piece]
    newlines = draw(st.sampled_from(["\n", "\r\n", "mixed"]))
    if newlines == "mixed":
        ends = draw(st.lists(st.sampled_from(["\n", "\r\n"]), min_size=len(lines)))
        text = "".join(line + end for line, end in zip(lines, ends, strict=False))
    else:
        text = "".join(line + newlines for line in lines)
    return text if draw(st.booleans()) else text.rstrip("\r\n")


@pytest.mark.parametrize("setting", list(CONFIGS))
@settings(max_examples=600, deadline=None)
@given(text=files())
def test_a_derived_parse_is_the_parse_of_the_new_text(setting, text):
    config = CONFIGS[setting]
    before = parse_file(text, PATH, config)
    new_text, inserted = with_ids(text, before)
    derived = parse_with_ids(before, new_text, inserted, config)
    if derived is not None:
        assert derived == parse_file(new_text, PATH, config)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize(
    "text",
    [
        "START\nBasic\nq\nBack: a\nEND\n",
        "# Topic\n\nSTART\nBasic\nq\nBack: a\nTags: ml\n\nEND\nprose\n## Sub\nSTART\nBasic\nr\nEND",
        "TARGET DECK: ML\n```\nSTART\n```\nSTART\nBasic\nq\n```py\nx\n```\nEND\n- a list\n",
        "START\nBasic\nold\n<!--ID: 5-->\nEND\n\nSTART\nCloze\n{{c1::x}}\nEND\nDELETE\nID: 7\n",
        "a STARTI [Basic] q <!--ID: 8--> ENDI\nSTART\nBasic\nq\nEND\nSTART\nBasic\nr\nEND\n",
    ],
)
def test_plain_files_get_their_parse_derived(text, newline):
    text = text.replace("\n", newline)
    for config in (CONFIGS["default"], CONFIGS["context"]):
        before = parse_file(text, PATH, config)
        new_text, inserted = with_ids(text, before)
        derived = parse_with_ids(before, new_text, inserted, config)
        assert derived is not None and derived == parse_file(new_text, PATH, config)
        assert [n.note_id for n in derived.notes if n.start_line in {i.note_line for i in inserted}]


@pytest.mark.parametrize(
    ("why", "text"),
    [
        ("frontmatter", "---\ntags: [a]\n---\nSTART\nBasic\nq\nEND\n"),
        ("a warning", "END\nSTART\nBasic\nq\nEND\n"),
        ("an inline note gets an ID", "STARTI [Basic] q ENDI\nSTART\nBasic\nq\nEND\n"),
        ("markdown-it reads the layout", "- item\n  ```\nSTART\nBasic\nq\nEND\n"),
        ("a second Tags line", "START\nBasic\nq\nTags: a\nTags:\nEND\n"),
        ("a setext underline", "+++\nBasic\nq\n\n===\n"),
    ],
)
def test_other_files_are_left_to_the_parser(why, text):
    config = CONFIGS["setext end" if "setext" in why else "default"]
    before = parse_file(text, PATH, config)
    new_text, inserted = with_ids(text, before)
    assert parse_with_ids(before, new_text, inserted, config) is None, why


def test_write_back_keeps_in_the_parse_cache_what_a_fresh_parse_gives(tmp_path: Path):
    texts = {
        f"d/n{i}.md": "# T\nSTART\nBasic\nq {i}\nBack: a\nEND\n"
        + "STARTI [Basic] x ENDI\n" * (i % 2)
        for i in range(6)
    }
    root = write_vault(tmp_path / "v", texts)
    vault = load_vault(root)
    new = [n for n in vault.parsed.notes if n.note_id is None]
    ids = {(n.path, n.start_line): 100 + i for i, n in enumerate(new)}
    result = write_back(root, vault.parsed.files, ids, config=vault.config, notes=new)
    cache_parses(result.unparsed, vault.parse_cache, vault.config)
    assert not result.problems and len(result.files_written) == len(texts)
    vault.save_cache()
    cache = ParseCache(root, vault.config)
    again = load_vault(root)
    for rel, snapshot in again.parsed.files.items():
        text = (root / rel).read_text()
        assert "<!--ID: " in text
        assert cache.get(rel, snapshot.digest) == parse_file(text, rel, vault.config)
