"""Field markdown to the HTML Anki stores, as Obsidian shows it.

One MarkdownIt instance per vault: CommonMark with Obsidian's extras (tables,
strikethrough, highlights, task lists, footnotes, callouts, math, wikilinks,
embeds, O2A clozes), `breaks=True` because Obsidian keeps a single line break.
After parsing, one pass over the tokens resolves links and embeds against the
vault, so every bad reference of a field is reported at once, with its line.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import quote, unquote

import markdown_it
import mdit_py_plugins
import pygments
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from notecards.cache import CachedField, RenderCache, code_digest
from notecards.callouts import callout_plugin
from notecards.cloze import ENV_IS_CLOZE, cloze_numbers, cloze_plugin
from notecards.config import VaultConfig
from notecards.demo_catalog import DEMO_LINK, DEMOS, demo_command, unknown_demo
from notecards.mathjax import mathjax_plugin
from notecards.media import BadReference, VaultIndex, media_kind
from notecards.model import MediaRef, Note, NotecardsError, Problem, RenderedNote
from notecards.wikilinks import WikiTarget, image_size, wikilink_plugin

__all__ = ["Renderer", "cloze_numbers", "render_code_digest"]

_PACKAGE = Path(__file__).resolve().parent
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_CODE_FORMATTER = HtmlFormatter(noclasses=True, nowrap=True)
_CODE_BACKGROUND = HtmlFormatter(noclasses=True).style.background_color
# How one link or embed resolved: (kind, reference as written, what it named), kind "note",
# "self" (a [[#Heading]] of the note itself) or "media".
Dependency = tuple[str, str, str]


@cache
def render_code_digest() -> str:
    """notecards' code and the rendering libraries' versions: the HTML for the same markdown
    and settings changes only with them. Read once per process, never per note."""
    versions = (markdown_it.__version__, mdit_py_plugins.__version__, pygments.__version__)
    return code_digest(sorted(_PACKAGE.rglob("*.py")), versions)


@lru_cache(maxsize=64)
def _lexer(language: str):
    try:
        return get_lexer_by_name(language)
    except ClassNotFound:
        return None


def highlight_code(code: str, language: str, attrs: object) -> str:
    """Fenced code coloured with inline styles (they travel with the card, no CSS);
    "" for an unknown language, so markdown-it emits plain escaped code."""
    lexer = _lexer(language.lower()) if language else None
    if lexer is None:
        return ""
    spans = pygments.highlight(code, lexer, _CODE_FORMATTER)
    style = f"background: {_CODE_BACKGROUND}; padding: 0.5em; overflow-x: auto;"
    code_class = f"language-{escapeHtml(language)}"
    return f'<pre style="{style}"><code class="{code_class}">{spans}</code></pre>'


class Renderer:
    """Renders notes of one vault; reuses cached HTML for markdown it has seen."""

    def __init__(self, config: VaultConfig, root: Path, cache: RenderCache | None = None):
        self.config = config
        self.root = root
        self.cache = cache
        self.fields_rendered = 0  # cache misses: fields that went through markdown-it
        self._index: VaultIndex | None = None
        self._resolved: dict[tuple[str, str, str], str | None] = {}
        self._open_url = f"obsidian://open?vault={quote(config.vault_name, safe='')}&file="
        self._md = self._markdown()
        # What besides the field itself decides its HTML (see _cache_key); the demo names,
        # as a link to a demo since removed must be reported, not served from the cache.
        settings = (config.vault_name, config.curly_cloze, config.highlights_to_cloze)
        demos = ",".join(sorted(DEMOS))
        self._settings_key = "\0".join((render_code_digest(), *map(str, settings), demos))

    @property
    def index(self) -> VaultIndex:
        """The vault's files, scanned once, on first need."""
        if self._index is None:
            self._index = VaultIndex.scan(self.root)
        return self._index

    def render(self, note: Note) -> RenderedNote:
        """Every field of the note's type, in the type's order, with the parser's
        appendix HTML added raw; all bad references of the note in one error."""
        return self.render_tracked(note)[0]

    def render_tracked(self, note: Note) -> tuple[RenderedNote, tuple[Dependency, ...]]:
        """`render`, plus what each of the note's links and embeds resolved to: a caller
        that keeps the HTML can tell later, with `still_resolves`, whether it still holds."""
        note_type = self.config.note_types.get(note.note_type)
        if note_type is None:
            unknown = f"unknown note type {note.note_type!r}"
            raise NotecardsError([Problem(note.path, note.start_line, unknown)])
        fields: dict[str, str] = {}
        media: dict[str, MediaRef] = {}
        deps: dict[Dependency, None] = {}  # ordered, without repeats
        problems: list[Problem] = []
        for name in note_type.fields:
            line = note.field_lines.get(name, note.start_line)
            try:
                html, refs, field_deps = self._field(
                    note.fields.get(name, ""), cloze=note_type.is_cloze, path=note.path, line=line
                )
            except NotecardsError as error:
                problems.extend(error.problems)
                continue
            fields[name] = html + note.appendix.get(name, "")
            media.update((ref.source, ref) for ref in refs)
            deps.update(dict.fromkeys(field_deps))
        if problems:
            raise NotecardsError(problems)
        return RenderedNote(note=note, fields=fields, media=tuple(media.values())), tuple(deps)

    def render_field(
        self, markdown: str, *, cloze: bool, path: str, line: int
    ) -> tuple[str, list[MediaRef]]:
        """One field's markdown as Anki HTML, plus the vault files it embeds.

        `line` is the file line the field's text starts on; problems point there.
        """
        html, media, _ = self._field(markdown, cloze=cloze, path=path, line=line)
        return html, media

    def _field(
        self, markdown: str, *, cloze: bool, path: str, line: int
    ) -> tuple[str, list[MediaRef], tuple[Dependency, ...]]:
        folder = posixpath.dirname(path)
        key = self._cache_key(markdown, cloze, folder)
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None and self.still_resolves(cached.deps, path):
            return cached.html, list(cached.media), cached.deps
        env = {
            ENV_IS_CLOZE: cloze,
            "path": path,
            "folder": folder,
            "line": line,
            "problems": [],
            "media": {},
            "deps": [],
        }
        self.fields_rendered += 1
        tokens = self._md.parse(markdown, env)
        if env["problems"]:
            raise NotecardsError(env["problems"])
        html = self._render_tokens(tokens, env).rstrip("\n")
        media = list(env["media"].values())
        deps = tuple(env["deps"])
        if self.cache is not None:
            self.cache.put(key, CachedField(html, tuple(media), deps))
        return html, media, deps

    # -- markdown-it setup -------------------------------------------------------

    def _markdown(self) -> MarkdownIt:
        md = MarkdownIt("commonmark", {"breaks": True, "html": True, "highlight": highlight_code})
        md.enable(["table", "strikethrough"])
        md.use(footnote_plugin).use(tasklists_plugin).use(mathjax_plugin)
        md.use(callout_plugin).use(wikilink_plugin)
        md.use(
            cloze_plugin,
            curly=self.config.curly_cloze,
            highlights_to_cloze=self.config.highlights_to_cloze,
        )
        md.core.ruler.push("notecards_references", self._resolve_references)
        md.add_render_rule("wikilink", _render_wikilink)
        md.add_render_rule("wiki_embed", _render_embed)
        return md

    def _render_tokens(self, tokens: list[Token], env: dict) -> str:
        """A lone paragraph is stored without `<p>` (as O2A and Anki's editor do)."""
        renderer = self._md.renderer
        lone_paragraph = [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]
        if lone_paragraph:
            return renderer.renderInline(tokens[1].children or [], self._md.options, env)
        return renderer.render(tokens, self._md.options, env)

    def _cache_key(self, markdown: str, cloze: bool, folder: str) -> str:
        parts = (self._settings_key, str(cloze), folder, markdown)
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    # -- references: wikilinks, embeds, images, demo links ----------------------

    def _resolve_references(self, state: StateCore) -> None:
        env = state.env
        for block in state.tokens:
            if block.type != "inline" or not block.children:
                continue
            block_line = env["line"] + (block.map[0] if block.map else 0)
            children = block.children
            idx = 0
            while idx < len(children):
                token = children[idx]
                try:
                    if token.type == "wikilink":
                        self._resolve_note(token, env)
                    elif token.type == "wiki_embed":
                        self._resolve_embed(token, env)
                    elif token.type == "image":
                        self._resolve_image(token, env)
                    elif token.type == "link_open":
                        _replace_demo_link(children, idx)
                except BadReference as bad:
                    line = block_line + _line_offset(block.content, token)
                    env["problems"].append(Problem(env["path"], line, str(bad)))
                idx += 1

    def _resolve_note(self, token: Token, env: dict) -> None:
        target: WikiTarget = token.meta["target"]
        if target.path:
            found = self.index.find_note(target.path, env["folder"])
            env["deps"].append(("note", target.path, found or ""))
            file = found or target.path
        else:  # [[#Heading]]: this very note (the cache key has only its folder)
            file = env["path"].removesuffix(".md")
            env["deps"].append(("self", "", env["path"]))
        if target.heading:
            file = f"{file}#{target.heading}"
        token.meta["href"] = f"{self._open_url}{quote(file, safe='')}"

    def _resolve_embed(self, token: Token, env: dict) -> None:
        target: WikiTarget = token.meta["target"]
        kind = media_kind(target.path)
        if kind is None:  # a note or other file: Anki cannot show it, so link to it
            token.type = "wikilink"
            self._resolve_note(token, env)
            return
        anki_name = self._carry(target.path, env)
        token.meta.update(kind=kind, anki_name=anki_name)
        size = image_size(target.label)
        token.attrs = {"src": anki_name}
        if size:
            token.attrs.update((k, v) for k, v in zip(("width", "height"), size, strict=True) if v)
        elif target.label:
            token.attrs["alt"] = target.label

    def _resolve_image(self, token: Token, env: dict) -> None:
        src = str(token.attrs.get("src", ""))
        if not src or _URL_SCHEME.match(src):
            return  # http(s) and data: images stay where they are
        anki_name = self._carry(unquote(src), env)
        if media_kind(src) == "sound":
            token.type, token.meta = "wiki_embed", {"kind": "sound", "anki_name": anki_name}
        else:
            token.attrs["src"] = anki_name

    def _carry(self, reference: str, env: dict) -> str:
        """Resolve an embedded file, note it as media to carry, return its Anki name."""
        source = self.index.resolve_file(reference, env["folder"])
        anki_name = self.index.anki_name(source)
        env["media"][source] = MediaRef(source=source, anki_name=anki_name)
        env["deps"].append(("media", reference, f"{source}\0{anki_name}"))
        return anki_name

    def still_resolves(self, deps: Iterable[Sequence[str]], path: str) -> bool:
        """Whether HTML rendered with these `deps`, for a note at `path`, would come out the
        same today as far as links and embeds go (dict lookups on the vault scan; no file
        is opened)."""
        folder = posixpath.dirname(path)
        return all(
            (path if kind == "self" else self._resolves_now(kind, ref, folder)) == result
            for kind, ref, result in deps
        )

    def _resolves_now(self, kind: str, reference: str, folder: str) -> str | None:
        """What a recorded dependency resolves to in today's vault (None: nothing);
        memoised, since the same links recur across a vault's cards."""
        memo_key = (kind, reference, folder)
        if memo_key not in self._resolved:
            self._resolved[memo_key] = self._resolve_dependency(kind, reference, folder)
        return self._resolved[memo_key]

    def _resolve_dependency(self, kind: str, reference: str, folder: str) -> str | None:
        if kind == "note":
            return self.index.find_note(reference, folder) or ""
        try:
            source = self.index.resolve_file(reference, folder)
        except BadReference:
            return None
        return f"{source}\0{self.index.anki_name(source)}"


def _line_offset(content: str, token: Token) -> int:
    """Which line of its inline block a token sits on: wiki tokens record it; for a
    markdown image or link, the first line that holds its src or href."""
    if token.meta and "line_offset" in token.meta:
        return token.meta["line_offset"]
    target = str(token.attrs.get("src") or token.attrs.get("href") or "")
    at = max(content.find(target), content.find(unquote(target)), 0)
    return content.count("\n", 0, at)


def _render_wikilink(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    token = tokens[idx]
    return f'<a href="{escapeHtml(token.meta["href"])}">{escapeHtml(token.meta["target"].text)}</a>'


def _render_embed(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    token = tokens[idx]
    if token.meta["kind"] == "sound":
        return f"[sound:{token.meta['anki_name']}]"
    attrs = "".join(f' {name}="{escapeHtml(str(value))}"' for name, value in token.attrs.items())
    return f"<img{attrs} />"


def _replace_demo_link(children: list[Token], idx: int) -> None:
    """`[..](notecards://demo/NAME)` -> `<code>notecards demo NAME</code>`: the
    command a learner runs (Anki cannot open the link). Checked here, where links are
    known as links (not text in a code span), so check, build and sync all refuse a
    command that would fail."""
    demo = DEMO_LINK.fullmatch(str(children[idx].attrs.get("href", "")))
    if not demo:
        return
    if message := unknown_demo(demo["name"]):
        raise BadReference(message)
    end = next(
        (j for j in range(idx + 1, len(children)) if children[j].type == "link_close"),
        len(children) - 1,
    )
    children[idx : end + 1] = [Token("code_inline", "code", 0, content=demo_command(demo["name"]))]
