"""Field markdown to the HTML Anki stores, as Obsidian shows it.

One MarkdownIt instance per vault: CommonMark with Obsidian's extras (tables,
strikethrough, highlights, task lists, footnotes, callouts, math, wikilinks,
embeds, `%%comments%%`, `^block-id` markers, O2A clozes), `breaks=True` because Obsidian
keeps a single line break. After parsing, one pass over the tokens resolves links and embeds
against the vault, so every bad reference of a field is reported at once, with its line.

An embed of a note, a heading's section or a block (`embeds.py` says what each shows) is
rendered in place by the same rules, as if its text were pasted there, but in its own file's
place: its links resolve from that file's folder, its problems point at that file's lines.
Embeds nest `MAX_EMBED_DEPTH` deep, a cycle is cut where it closes, and one field embeds at
most `MAX_EMBEDDED_CHARS` of text (a note embedding another twice, which embeds another
twice, ... doubles the text at each level); an embed that cannot be shown is a warning at its
line and stays a link. The digest of the embedded text is one of the field's dependencies, so
a card whose embedded section changed renders again: the cache, the build and the sync see it.

The HTML is written in the form Anki's editor keeps (`anki_form.py`): `<br>`, not `<br />`,
quotes in text as they are, no newline inside math delimiters. Opening a note in Anki then
changes nothing, and an edit made there can be told from what was pushed. What the rules
write is in that form by construction; a field holding what they cannot vouch for (raw
HTML, a stray `\\(`) goes through `anki_form` whole.
"""

from __future__ import annotations

import bisect
import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from notecards.config import VaultConfig
from notecards.demo_catalog import DEMO_LINK, DEMOS, demo_command, unknown_demo
from notecards.hashing import code_digest, key
from notecards.model import Dependency, MediaRef, Note, RenderedNote
from notecards.problems import NotecardsError, Problem, Severity
from notecards.render.anki_form import anki_form, escape_text, math_across_elements
from notecards.render.block_dispatch import block_dispatch_plugin
from notecards.render.cache import CachedField, RenderCache
from notecards.render.callouts import callout_plugin
from notecards.render.cloze import ENV_IS_CLOZE, ENV_NEXT_NUMBER, cloze_plugin
from notecards.render.code import highlight_code
from notecards.render.comments import comment_plugin
from notecards.render.embeds import EmbeddedFile, Section, block_id_plugin
from notecards.render.footnotes import footnote_refs_plugin
from notecards.render.html import AnkiHTMLRenderer
from notecards.render.inline_dispatch import InlineDispatch
from notecards.render.mathjax import ENV_FORMULAS, mathjax_plugin
from notecards.render.normalize import normalize_plugin
from notecards.render.states import FastParserBlock
from notecards.render.tasklists import tasklist_plugin
from notecards.render.vault_index import BadReference, VaultIndex, media_kind
from notecards.render.wikilinks import WikiTarget, image_size, split_target, wikilink_plugin
from notecards.vault.files import read_markdown

_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
# env key: True once the field holds something the render rules cannot vouch is in the form
# Anki's editor keeps (raw HTML, a link inside a link, a file name Anki percent-decodes).
_ENV_UNVOUCHED = "notecards_unvouched"
_MATH_ACROSS_ELEMENTS = (
    "a `\\[` or `\\(` here that is no formula (in code, say) pairs in Anki with a later"
    " formula's closer, and Anki shows the text between them as math (keep such text and"
    " formulas in different fields)"
)
# The inline tokens `_resolve_references` looks at: those it resolves, those `_unvouched`
# may find, and a link's ends (whether a token sits in a link).
_REFERENCE_TYPES = frozenset(
    ("wikilink", "wiki_embed", "image", "link_open", "link_close", "html_inline")
)
# The raw HTML mdit-py-plugins' task lists write, already in that form.
_CHECKBOXES = frozenset(
    f'<input class="task-list-item-checkbox" {checked}disabled="disabled" type="checkbox">'
    for checked in ("", 'checked="checked" ')
)
MAX_EMBED_DEPTH = 5  # embedded text inside embedded text ..., this many levels at most
MAX_EMBEDDED_CHARS = 1_000_000  # of embedded text in one field, all its embeds together


@dataclass(frozen=True)
class RenderedField:
    """One field's HTML, the vault files it embeds, what its links and embeds named, and the
    embeds it could not show (warnings)."""

    html: str
    media: tuple[MediaRef, ...]
    deps: tuple[Dependency, ...]
    warnings: tuple[Problem, ...] = ()


class NotCached(Exception):
    """`Renderer.cached`: a field of the note is not in the cache as it would render now."""


class Renderer:
    """Renders notes of one vault; reuses cached HTML for markdown it has seen."""

    def __init__(self, config: VaultConfig, root: Path, cache: RenderCache | None = None):
        self.config = config
        self.root = root
        self.cache = cache
        self.fields_rendered = 0  # cache misses: fields that went through markdown-it
        self._index: VaultIndex | None = None
        self._resolved: dict[tuple[str, str, str], str | None] = {}
        self._files: dict[str, EmbeddedFile | str] = {}  # read for embeds; a str says why not
        self._sections: dict[tuple[str, str], Section | str] = {}
        self._open_url = f"obsidian://open?vault={quote(config.vault_name, safe='')}&file="
        self._hrefs: dict[str, str] = {}  # file -> _open_href (links to a note recur)
        self._md = self._markdown()
        self._cached_only = False
        # What besides the field itself decides its HTML (see _cache_key); the demo names,
        # as a link to a demo since removed must be reported, not served from the cache.
        settings = (
            config.vault_name,
            config.vault_folder,
            config.curly_cloze,
            config.highlights_to_cloze,
        )
        demos = ",".join(sorted(DEMOS))
        self._settings_key = "\0".join((code_digest(), *map(str, settings), demos))

    @property
    def index(self) -> VaultIndex:
        """The vault's files, scanned once, on first need."""
        if self._index is None:
            self._index = VaultIndex.scan(self.root)
        return self._index

    def render(self, note: Note) -> RenderedNote:
        """Every field of the note's type, in the type's order, with the parser's appendix
        HTML added raw, what each link and embed resolved to (a caller that keeps the HTML can
        tell later, with `still_resolves`, whether it still holds), and the warnings of the
        embeds it could not show. Raises NotecardsError with every bad reference of the note
        (and those warnings): there is no HTML to give."""
        note_type = self.config.note_types.get(note.note_type)
        if note_type is None:
            unknown = f"unknown note type {note.note_type!r}"
            raise NotecardsError([Problem.at(note.path, note.start_line, unknown)])
        fields: dict[str, str] = {}
        media: dict[str, MediaRef] = {}
        deps: dict[Dependency, None] = {}  # ordered, without repeats
        problems: list[Problem] = []
        warnings: list[Problem] = []
        for name in note_type.fields:
            line = note.field_lines.get(name, note.start_line)
            try:
                field = self.render_field(
                    note.fields.get(name, ""), cloze=note_type.is_cloze, path=note.path, line=line
                )
            except NotecardsError as error:
                problems.extend(error.problems)
                continue
            appendix = note.appendix.get(name, "")  # the parser's HTML, raw
            fields[name] = anki_form(field.html + appendix) if appendix else field.html
            media.update((ref.source, ref) for ref in field.media)
            deps.update(dict.fromkeys(field.deps))
            warnings += field.warnings
        if problems:
            raise NotecardsError(problems + warnings)
        return RenderedNote(note, fields, tuple(media.values()), tuple(deps), tuple(warnings))

    def cached(self, note: Note) -> RenderedNote:
        """The note as `render` gives it, from the cache alone: raises NotCached when a field
        would go through markdown-it (NotecardsError as `render` does)."""
        self._cached_only = True
        try:
            return self.render(note)
        finally:
            self._cached_only = False

    def render_field(self, markdown: str, *, cloze: bool, path: str, line: int) -> RenderedField:
        """One field's markdown as Anki HTML; `line` is the file line the field's text starts
        on, where its problems point. Served from the cache when every link and embed it
        recorded still names the same file and every section it embeds reads the same. A
        field with warnings is not cached: they are said each time it renders."""
        folder = posixpath.dirname(path)
        cache_key = key(self._settings_key, str(cloze), folder, markdown)
        cached = self.cache.get(cache_key) if self.cache is not None else None
        if cached is not None and self.still_resolves(cached.deps, path):
            return RenderedField(cached.html, cached.media, cached.deps)
        if self._cached_only:
            raise NotCached
        env = {
            ENV_IS_CLOZE: cloze,
            "path": path,
            "folder": folder,
            "line": line,
            "problems": [],
            "warnings": [],
            "media": {},
            "deps": [],
            "origin": "",  # the file an embedded text comes from ("": the field's own)
            "embedding": (),  # the (file, section) embeds this text sits in, outermost first
            "budget": {"left": MAX_EMBEDDED_CHARS, "spent": False},  # of the whole field
        }
        self.fields_rendered += 1
        tokens = self._md.parse(markdown, env)
        if env["problems"]:
            raise NotecardsError(env["problems"] + env["warnings"])
        written = self._render_tokens(tokens, env).rstrip("\n")
        html = _in_anki_form(written, env)
        if html is not written and math_across_elements(written):
            _warn(env, line, _MATH_ACROSS_ELEMENTS)
        media, deps = tuple(env["media"].values()), tuple(env["deps"])
        field = RenderedField(html, media, deps, tuple(env["warnings"]))
        if self.cache is not None and not field.warnings:
            self.cache.put(cache_key, CachedField(field.html, field.media, field.deps))
        return field

    # -- markdown-it setup -------------------------------------------------------

    def _markdown(self) -> MarkdownIt:
        options = {"breaks": True, "html": True, "xhtmlOut": False, "highlight": highlight_code}
        md = MarkdownIt("commonmark", options, renderer_cls=AnkiHTMLRenderer)
        md.use(block_dispatch_plugin)  # block rules tried only where they can start
        md.use(normalize_plugin)  # no passes over a field without `\r` or NUL
        md.enable(["table", "strikethrough"])
        md.use(footnote_plugin).use(footnote_refs_plugin).use(tasklist_plugin).use(mathjax_plugin)
        md.use(callout_plugin).use(wikilink_plugin).use(comment_plugin).use(block_id_plugin)
        md.use(
            cloze_plugin,
            curly=self.config.curly_cloze,
            highlights_to_cloze=self.config.highlights_to_cloze,
        )
        md.core.ruler.push("notecards_references", self._resolve_references)
        md.inline = InlineDispatch(md.inline)  # the same tokens, fewer rules tried
        md.block = FastParserBlock(md.block)  # the same tokens, made for less
        md.add_render_rule("wikilink", _render_wikilink)
        md.add_render_rule("wiki_embed", _render_embed)
        md.add_render_rule("note_embed", _render_note_embed)
        return md

    def _render_tokens(self, tokens: list[Token], env: dict) -> str:
        """A lone paragraph is stored without `<p>` (as O2A and Anki's editor do)."""
        renderer = self._md.renderer
        if _lone_paragraph(tokens):
            return renderer.renderInline(tokens[1].children or [], self._md.options, env)
        return renderer.render(tokens, self._md.options, env)

    # -- references: wikilinks, embeds, images, demo links ----------------------

    def _resolve_references(self, state: StateCore) -> None:
        env = state.env
        for index, block in enumerate(state.tokens):
            if block.type != "inline":
                if block.type == "html_block":
                    env[_ENV_UNVOUCHED] = True
                continue
            types = [token.type for token in block.children or ()]
            if _REFERENCE_TYPES.isdisjoint(types):  # text, emphasis, math: nothing to do
                continue
            block_line = env["line"] + (block.map[0] if block.map else 0)
            lines = _LineFinder(block.content)
            kept: list[Token] = []  # the children, demo links replaced (one pass: linear)
            children = iter(block.children)
            in_link = False
            for token in children:
                kept.append(token)
                if token.type not in _REFERENCE_TYPES:
                    continue
                try:
                    if token.type == "wikilink":
                        self._resolve_note(token, env)
                    elif token.type == "wiki_embed":
                        self._resolve_embed(token, env, block_line + lines.offset(token))
                    elif token.type == "image":
                        self._resolve_image(token, env)
                    elif token.type == "link_open" and (command := _demo_command(token)):
                        kept[-1] = Token("code_inline", "code", 0, content=command)
                        next((t for t in children if t.type == "link_close"), None)
                    if _unvouched(token, in_link):
                        env[_ENV_UNVOUCHED] = True
                    in_link = (in_link or token.type == "link_open") and token.type != "link_close"
                except BadReference as bad:
                    line = block_line + lines.offset(token)
                    message = f"{bad}{_embedded_at(env)}"
                    env["problems"].append(Problem.at(env["path"], line, message))
            block.children = kept
            embeds = "wiki_embed" in types  # (one may have become a note_embed)
            if embeds and any(t.type == "note_embed" and t.meta["block"] for t in kept):
                _place_block_embed(state.tokens, index, env)

    def _resolve_note(self, token: Token, env: dict) -> None:
        target: WikiTarget = token.meta["target"]
        if target.path:
            found = self.index.find_note(target.path, env["folder"])
            _depend(env, "note", target.path, found or "")
            file = found or target.path
        else:  # [[#Heading]]: this very note (the cache key has only its folder)
            file = env["path"].removesuffix(".md")
            if not env["origin"]:  # in embedded text, the embed's own dependency names it
                env["deps"].append(("self", "", env["path"]))
        if target.heading:
            file = f"{file}#{target.heading}"
        token.meta["href"] = self._open_href(file)

    def _open_href(self, file: str) -> str:
        """The obsidian:// link that opens a vault file (path without `.md`, `#` subpath),
        named from the Obsidian vault the folder lies in."""
        if self.config.vault_folder:
            file = f"{self.config.vault_folder}/{file}"
        if file not in self._hrefs:
            self._hrefs[file] = f"{self._open_url}{quote(file, safe='')}"
        return self._hrefs[file]

    def _resolve_embed(self, token: Token, env: dict, line: int) -> None:
        target: WikiTarget = token.meta["target"]
        kind = media_kind(target.path)
        if kind is None:  # a note is shown in place; another file Anki cannot show is a link
            if not self._embed_note(token, env, line):
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

    def _embed_note(self, token: Token, env: dict, line: int) -> bool:
        """Render the note, section or block an embed names in its place (a `note_embed`
        token); False, with a warning, where it cannot be shown and stays a link (and quietly
        for a file that is no note: Anki cannot show a PDF either)."""
        target: WikiTarget = token.meta["target"]
        origin = env["origin"] or env["path"]
        file, shown = self._embedded(target, origin)
        _depend(env, "embed", _embed_reference(target), _embed_result(file, shown))
        if file is not None and not file.lower().endswith(".md"):
            return False
        written = f"![[{token.content}]]"
        place = (file, _section_key(target.heading))
        if file is None:
            why = f"no note {target.path!r} in the vault"
        elif isinstance(shown, str):
            why = f"{file} {shown}"
        elif place in env["embedding"]:
            why = "embeds itself"
            if len(env["embedding"]) > 1:
                why += " (through " + ", ".join(_shown_place(*p) for p in env["embedding"]) + ")"
        elif len(env["embedding"]) >= MAX_EMBED_DEPTH:
            why = f"embeds nested more than {MAX_EMBED_DEPTH} deep"
        elif len(shown.text) > env["budget"]["left"]:
            if env["budget"]["spent"]:
                return False  # said once, at the first embed past the limit
            env["budget"]["spent"] = True
            why = f"the field would embed more than {MAX_EMBEDDED_CHARS:,} characters of text"
        else:
            env["budget"]["left"] -= len(shown.text)
            problems = len(env["problems"])
            html, block = self._render_embedded(shown, place, env, line)
            token.type = "note_embed"
            token.meta.update(html=html, block=block)
            if not html and len(env["problems"]) == problems:
                why = "its text is only card syntax, comments or blank lines"
                _warn(env, line, f"{written} shows nothing: {why}")
            return True
        _warn(env, line, f"{written}: {why}; shown as a link")
        return False

    def _embedded(self, target: WikiTarget, origin: str) -> tuple[str | None, Section | str]:
        """The file an embed written in `origin` names, and its section or why there is
        none (a file is only read for the embeds that name it, once)."""
        if target.path:
            file = self.index.find_note_file(target.path, posixpath.dirname(origin))
        else:  # ![[#Heading]]: a section of the very file it is written in
            file = origin
        if file is None or not file.lower().endswith(".md"):
            return file, ""
        memo_key = (file, _section_key(target.heading))
        if memo_key not in self._sections:
            embedded = self._embedded_file(file)
            shown = embedded if isinstance(embedded, str) else embedded.section(target.heading)
            self._sections[memo_key] = shown
        return file, self._sections[memo_key]

    def _embedded_file(self, file: str) -> EmbeddedFile | str:
        if file not in self._files:
            try:
                text, _ = read_markdown(self.root, file)
            except NotecardsError:
                self._files[file] = "cannot be read (it is not UTF-8 text)"
            except OSError as err:
                self._files[file] = f"cannot be read ({err.strerror or err})"
            else:
                self._files[file] = EmbeddedFile(text, file, self.config.syntax)
        return self._files[file]

    def _render_embedded(
        self, section: Section, place: tuple[str, str], env: dict, line: int
    ) -> tuple[str, bool]:
        """The section's HTML, rendered as the field's own text is, in its file's place: its
        problems, media and dependencies are the field's. Also whether it is block content
        (more than one paragraph's inline text)."""
        file = place[0]
        inner = {
            ENV_IS_CLOZE: env[ENV_IS_CLOZE],
            ENV_NEXT_NUMBER: env.get(ENV_NEXT_NUMBER, 1),
            "path": file,
            "folder": posixpath.dirname(file),
            "line": section.first_line,
            "problems": env["problems"],
            "warnings": env["warnings"],
            "media": env["media"],
            "deps": env["deps"],
            "origin": file,
            "embedding": (*env["embedding"], place),
            "budget": env["budget"],
            "embedded_at": env.get("embedded_at") or f"{env['path']}:{line}",
        }
        problems = len(env["problems"])
        tokens = self._md.parse(section.text, inner)
        if len(env["problems"]) > problems:  # a bad reference in it: the field fails with it
            return "", False
        html = self._render_tokens(tokens, inner).rstrip("\n")
        env[ENV_NEXT_NUMBER] = inner[ENV_NEXT_NUMBER]
        env[ENV_FORMULAS] = env.get(ENV_FORMULAS, 0) + inner.get(ENV_FORMULAS, 0)
        if inner.get(_ENV_UNVOUCHED):
            env[_ENV_UNVOUCHED] = True
        return html, bool(html) and not _lone_paragraph(tokens)

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
        _depend(env, "media", reference, f"{source}\0{anki_name}")
        return anki_name

    def still_resolves(self, deps: Iterable[Sequence[str]], path: str) -> bool:
        """Whether HTML rendered with these `deps`, for a note at `path`, would come out the
        same today as far as links and embeds go: dict lookups on the vault scan, and each
        file an embed names read once."""
        return next(self.changed_deps(deps, path), None) is None

    def changed_deps(self, deps: Iterable[Sequence[str]], path: str) -> Iterator[Dependency]:
        """The dependencies, of a note now at `path`, that no longer hold: a link or embed
        that names another file, an embedded section that reads otherwise (what made the
        note change)."""
        for kind, reference, result in deps:
            origin, _, written = reference.rpartition("\0")
            if kind == "self":
                now: str | None = path
            else:
                now = self._resolves_now(kind, written, origin or path)
            if now != result:
                yield kind, reference, result

    def _resolves_now(self, kind: str, reference: str, origin: str) -> str | None:
        """What a recorded dependency, written in the file `origin`, resolves to in today's
        vault (None: nothing); memoised, since the same links recur across a vault's cards."""
        where = origin if kind == "embed" else posixpath.dirname(origin)
        memo_key = (kind, reference, where)
        if memo_key not in self._resolved:
            self._resolved[memo_key] = self._resolve_dependency(kind, reference, origin)
        return self._resolved[memo_key]

    def _resolve_dependency(self, kind: str, reference: str, origin: str) -> str | None:
        folder = posixpath.dirname(origin)
        if kind == "note":
            return self.index.find_note(reference, folder) or ""
        if kind == "embed":
            return _embed_result(*self._embedded(split_target(reference), origin))
        try:
            source = self.index.resolve_file(reference, folder)
        except BadReference:
            return None
        return f"{source}\0{self.index.anki_name(source)}"


def _depend(env: dict, kind: str, reference: str, result: str) -> None:
    """Record a dependency; one of embedded text names the file it is written in before its
    reference (`file\\0reference`): it resolves from there."""
    origin = env["origin"]
    env["deps"].append((kind, f"{origin}\0{reference}" if origin else reference, result))


def _warn(env: dict, line: int, message: str) -> None:
    problem = Problem.at(env["path"], line, f"{message}{_embedded_at(env)}", Severity.WARNING)
    env["warnings"].append(problem)


def _embedded_at(env: dict) -> str:
    """For a problem in embedded text (reported at its own file's line): which card shows it."""
    return f" (in the text embedded at {env['embedded_at']})" if env.get("embedded_at") else ""


def _embed_reference(target: WikiTarget) -> str:
    """The embed as a dependency names it: `Note#Heading` (no alias)."""
    return f"{target.path}#{target.heading}" if target.heading else target.path


def _embed_result(file: str | None, shown: Section | str) -> str:
    """What an embed resolved to: no file (""), a file without the section (its path), or
    the file and the digest of the section's text."""
    if file is None:
        return ""
    return f"{file}\0{shown.digest}" if isinstance(shown, Section) else file


def _section_key(subpath: str) -> str:
    """`A # B` and `A#B` name the same section."""
    return "#".join(part.strip() for part in subpath.split("#") if part.strip())


def _shown_place(file: str, section: str) -> str:
    return f"{file.removesuffix('.md')}#{section}" if section else file.removesuffix(".md")


def _lone_paragraph(tokens: Sequence[Token]) -> bool:
    return [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]


def _place_block_embed(tokens: list[Token], index: int, env: dict) -> None:
    """Block content (headings, lists) embedded where a paragraph's text goes: an embed alone
    in its paragraph takes the paragraph's place (as in Obsidian, which shows it as a block);
    inside other text it would nest blocks in a `<p>`, which the editor would rewrite, so the
    field goes through `anki_form`."""
    children = tokens[index].children or []
    if len(children) == 1 and index and tokens[index - 1].type == "paragraph_open":
        tokens[index - 1].hidden = tokens[index + 1].hidden = True
    else:
        env[_ENV_UNVOUCHED] = True


class _LineFinder:
    """Which line of its inline block a token sits on: wiki tokens record it; for a markdown
    image or link, the first line from the last one found that holds its src or href (tokens
    come in order, so a field with many bad references is searched once, not once each)."""

    def __init__(self, content: str):
        self._content = content
        self._from = 0
        self._newlines: list[int] | None = None

    def offset(self, token: Token) -> int:
        if token.meta and "line_offset" in token.meta:
            return token.meta["line_offset"]
        target = str(token.attrs.get("src") or token.attrs.get("href") or "")
        found = [
            at
            for text in (target, unquote(target))
            if text and (at := self._content.find(text, self._from)) >= 0
        ]
        at = min(found, default=self._from)
        self._from = at + 1 if found else self._from  # the next token comes after this one
        if self._newlines is None:
            self._newlines = [i for i, ch in enumerate(self._content) if ch == "\n"]
        return bisect.bisect_left(self._newlines, at)


def _unvouched(token: Token, in_link: bool) -> bool:
    """Whether this inline token may write HTML that Anki's editor would rewrite: raw HTML,
    a link inside a link (a browser splits nested `<a>`; a footnote's reference is moved out of
    one, `footnotes.py`), or a media file name with `%` in it (Anki percent-decodes those)."""
    if token.type == "html_inline":
        return token.content not in _CHECKBOXES
    if in_link and token.type in ("wikilink", "link_open", "note_embed"):
        return True
    source = token.meta.get("anki_name") if token.type == "wiki_embed" else None
    if token.type == "image":
        source = token.attrs.get("src")
    return "%" in str(source or "")


def _in_anki_form(html: str, env: dict) -> str:
    """The field's HTML as Anki's editor keeps it: as the rules wrote it where they can vouch
    for every part, else through `anki_form`. Any `\\(`, `\\[` or closer other than the
    formulas' own (code about TeX, say) is read by the editor as math: so it goes through
    `anki_form` too, as does a no-break space in an attribute."""
    formulas = env.get(ENV_FORMULAS, 0)
    delimiters = (html.count("\\("), html.count("\\["), html.count("\\)"), html.count("\\]"))
    vouched = not env.get(_ENV_UNVOUCHED) and "\xa0" not in html
    if vouched and delimiters[0] + delimiters[1] == formulas == delimiters[2] + delimiters[3]:
        return html
    return anki_form(html)


def _render_wikilink(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    href, text = escapeHtml(tokens[idx].meta["href"]), escape_text(tokens[idx].meta["target"].text)
    return f'<a href="{href}">{text}</a>'


def _render_embed(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    token = tokens[idx]
    if token.meta["kind"] == "sound":
        return f"[sound:{escape_text(token.meta['anki_name'])}]"
    attrs = "".join(f' {name}="{escapeHtml(str(value))}"' for name, value in token.attrs.items())
    return f"<img{attrs}>"


def _render_note_embed(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return tokens[idx].meta["html"]


def _demo_command(link_open: Token) -> str | None:
    """For `[..](notecards://demo/NAME)`, `notecards demo NAME`: the command a learner runs
    (Anki cannot open the link), shown as code in place of the link. Checked here, where links
    are known as links (not text in a code span), so check, build and sync all refuse a
    command that would fail."""
    demo = DEMO_LINK.fullmatch(str(link_open.attrs.get("href", "")))
    if not demo:
        return None
    if message := unknown_demo(demo["name"]):
        raise BadReference(message)
    return demo_command(demo["name"])
